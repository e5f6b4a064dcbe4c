"""No cause reaches the floor, but the faults with evidence all point at one function: the
verdict stays not sure of the kind and names the code to change (diagnose._one_place)."""

from __future__ import annotations

from typing import Any

import pytest
from tools.slow_eval import SLOW

from godiag.analysis.rootcause.kinds.base import UNCONFIRMED
from godiag.pipeline.diagnose import DiagnoseOptions, _one_place, replay

APPLY = {"function": "main.(*board).apply", "file": "/src/main.go", "line": 94}


def cause(kind: str, p: float, loc: dict[str, Any] | None = APPLY, **kw: Any) -> dict[str, Any]:
    return {"kind": kind, "probability": p, "location": loc, "evidence": ["seen"],
            "title": "t", **kw}  # fmt: skip


def test_faults_at_one_function_name_it() -> None:
    got = _one_place([cause("lock-contention", 0.38), cause("gc-pressure", 0.33),
                      cause("cpu-saturation", 0.16)])  # fmt: skip
    assert got == ("lock-contention 38%, gc-pressure 33%, cpu-saturation 16% (87% together) "
                   "point at the same place: whichever it is, the code to change is "
                   "main.(*board).apply (/src/main.go:94)")  # fmt: skip


@pytest.mark.parametrize(
    "causes",
    [
        # two places: nothing to say
        [cause("lock-contention", 0.38), cause("gc-pressure", 0.33, {**APPLY, "function": "x"})],
        # one fault alone is the floor's own case
        [cause("memory-leak", 0.38), cause("healthy", 0.3, None)],
        # together still under the floor
        [cause("memory-leak", 0.2), cause("gc-pressure", 0.15)],
        # a kind without evidence of its own does not count
        [cause("memory-leak", 0.3), cause("cpu-saturation", 0.2, title=UNCONFIRMED + "t")],
        [cause("memory-leak", 0.3), cause("cpu-saturation", 0.2, set_aside="no evidence")],
        [cause("memory-leak", 0.3), cause("cpu-saturation", 0.2, evidence=[])],
    ],
)
def test_otherwise_nothing_is_added(causes: list[dict[str, Any]]) -> None:
    assert _one_place(causes) is None


@pytest.mark.skipif(not SLOW.is_dir(), reason="no data/diagnose/slow (make collect-slow)")
def test_a_slow_leak_below_the_floor_names_its_function() -> None:
    """etlpipe's open partitions (a memory leak watched for minutes): memory-leak 32% and
    gc-pressure 9%, both at the writer that keeps every partition's buffer."""
    doc = replay(SLOW / "etlpipe--open-partitions-1" / "captures",
                 DiagnoseOptions(store=False, flames=False))  # fmt: skip
    assert not doc["confident"]
    assert doc["verdict"].startswith("not sure: the most likely cause, memory-leak")
    assert "the code to change is main.(*partWriter).writePart (" in doc["verdict"]
