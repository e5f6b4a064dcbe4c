"""gc-pressure's doubt: garbage made by a loop that burns a full CPU of the service's own
code outside its requests (a spin, a retry without backoff) does not decide the kind."""

from __future__ import annotations

import pytest

from godiag.analysis.rootcause.kinds import doubt

SPIN = {"cpu_seconds_per_s": 1.07, "cpu_profile_gc_share": 0.32, "cpu_code_share": 0.64,
        "alloc_request_share": 0.0, "gogc_percent": None}  # fmt: skip


def test_a_loop_burning_a_cpu_is_not_decided_by_its_garbage() -> None:
    why = doubt("gc-pressure", SPIN)
    assert why is not None
    assert why.startswith("the service's own code takes 64% of the CPU profile and the "
                          "collector and malloc 32%, in a process burning 1.07 CPUs")  # fmt: skip


@pytest.mark.parametrize(
    "change",
    [
        {"cpu_seconds_per_s": 0.6},  # not a full CPU: a service waiting on its requests
        {"cpu_code_share": 0.3},  # the collector takes more than the code: the garbage
        {"alloc_request_share": 0.9},  # under requests: the request-path doubt speaks
        {"cpu_code_share": None},  # no CPU profile
    ],
)
def test_otherwise_this_doubt_is_silent(change: dict[str, float | None]) -> None:
    why = doubt("gc-pressure", {**SPIN, **change})
    assert why is None or not why.startswith("the service's own code takes")
