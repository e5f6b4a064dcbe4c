"""The lines `diagnose` prints when something stops it or a figure sits on a floor: each
says what to do, and none contradicts itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from godiag.collect.http import describe_http_error
from godiag.pipeline.diagnose import _ranked_at
from tests.unit.test_cli_basics import run


def test_a_refused_request_says_whether_credentials_were_sent() -> None:
    none = describe_http_error("http://127.0.0.1:9101/metrics", 401, b"", sent_auth=False)
    assert "no credentials were sent" in none and "user:pass@" in none, none
    refused = describe_http_error("http://u:p@127.0.0.1:9101/metrics", 401, b"", sent_auth=True)
    assert "the credentials sent were refused" in refused and "u:p@" not in refused, refused


@pytest.mark.parametrize(
    ("kind", "p", "shown"),
    [("healthy", 0.5476, "54.7%"), ("healthy", 0.62, "62%"), ("memory-leak", 0.3971, "39.7%"),
     ("healthy", 0.3955, "39.5%"),
     ("memory-leak", 0.931, "93%"), ("deadlock", 0.31, "31%")],
)  # fmt: skip
def test_a_probability_under_its_floor_never_reads_as_the_floor(
    kind: str, p: float, shown: str
) -> None:
    assert _ranked_at({"kind": kind, "probability": p}) == shown


def test_a_deadline_inside_the_window_is_refused_before_anything_is_asked() -> None:
    r = run("diagnose", "http://127.0.0.1:9", "--window", "5s", "--deadline", "2s")
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.strip().count("\n") == 0 and "not longer than the window" in r.stderr


def test_a_path_that_does_not_exist_is_named_as_such(tmp_path: Path) -> None:
    r = run("diagnose", str(tmp_path / "no-such-bundle"))
    assert r.returncode == 2 and "no such directory" in r.stderr, r.stderr


def test_undecided_advice_names_the_reference_already_compared() -> None:
    """Beside a baseline stored 25 s before, "a baseline stored now ... would decide" read as
    the stored one having been ignored: the advice is the later diagnosis against it."""
    from godiag.pipeline.diagnose import UNDECIDED, _undecided

    assert _undecided({}) == UNDECIDED and "a baseline stored now" in UNDECIDED
    advice = _undecided({"baseline_age_minutes": 25 / 60})
    assert "a baseline stored now" not in advice
    assert "a later diagnosis against the stored reference (now 25 s old) would decide" in advice
