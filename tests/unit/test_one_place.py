"""No cause reaches the floor, but the faults with evidence all point at one function: the
verdict stays not sure of the kind and names the code to change (diagnose._one_place)."""

from __future__ import annotations

from typing import Any

import pytest

from godiag.analysis.rootcause.kinds.base import UNCONFIRMED
from godiag.formats.goroutines import parse
from godiag.model.observation import Observation
from godiag.pipeline.diagnose import DiagnoseOptions, _one_place, replay
from tests.datapaths import DATA

NOTHING = Observation(url="http://x")

APPLY = {"function": "main.(*board).apply", "file": "/src/main.go", "line": 94}


def cause(kind: str, p: float, loc: dict[str, Any] | None = APPLY, **kw: Any) -> dict[str, Any]:
    return {"kind": kind, "probability": p, "location": loc, "evidence": ["seen"],
            "title": "t", **kw}  # fmt: skip


def test_faults_at_one_function_name_it() -> None:
    got = _one_place([cause("lock-contention", 0.38), cause("gc-pressure", 0.33),
                      cause("cpu-saturation", 0.16)], NOTHING)  # fmt: skip
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
    assert _one_place(causes, NOTHING) is None


SUBMIT = {"function": "main.(*board).submit", "file": "/src/main.go", "line": 81}
PUBLISH = {"function": "main.(*board).publishLocked", "file": "/src/main.go", "line": 103}


def _dump(*stacks: list[tuple[str, int]]) -> Observation:
    text = ""
    for i, frames in enumerate(stacks):
        text += f"goroutine {i + 1} [running]:\n"
        text += "".join(f"{fn}(...)\n\t/src/main.go:{line} +0x1\n" for fn, line in frames)
        text += "\n"
    return Observation(url="http://x", dumps=[parse(text.encode(), "test")])


def test_faults_on_one_call_chain_name_the_outer_call() -> None:
    """A lock held while the holder does heavy work: contention located at the call made
    under the lock, CPU in the function it calls; a stack shows the one calling the other."""
    obs = _dump([("main.(*board).publishLocked", 103), ("main.(*board).submit", 81),
                 ("main.(*api).handleSubmit", 131)])  # fmt: skip
    got = _one_place([cause("cpu-saturation", 0.38, PUBLISH),
                      cause("lock-contention", 0.37, SUBMIT)], obs)  # fmt: skip
    assert got == ("cpu-saturation 38%, lock-contention 37% (75% together) point at one call "
                   "chain: main.(*board).submit (/src/main.go:81) calls "
                   "main.(*board).publishLocked (/src/main.go:103) (in the captured stacks): "
                   "whichever it is, the code to change is that call")  # fmt: skip


@pytest.mark.parametrize(
    "stack",
    [
        # the outer function seen at another line: another call, not this one
        [("main.(*board).publishLocked", 103), ("main.(*board).submit", 77)],
        # the two only side by side, neither calling the other
        [("main.(*board).submit", 81), ("main.(*api).handleSubmit", 131)],
    ],
)
def test_no_chain_without_a_stack_showing_the_call(stack: list[tuple[str, int]]) -> None:
    causes = [cause("cpu-saturation", 0.38, PUBLISH), cause("lock-contention", 0.37, SUBMIT)]
    assert _one_place(causes, _dump(stack)) is None


def test_a_leak_below_the_floor_names_its_function() -> None:
    """emailq (a blind trial's service, goroutines left sending after their caller's
    timeout): goroutine-leak below the floor and deadlock, both at the sending closure."""
    doc = replay(DATA / "diagnose" / "goroutine-leak-orphans-emailq",
                 DiagnoseOptions(store=False, flames=False))  # fmt: skip
    assert not doc["confident"]
    assert doc["verdict"].startswith("not sure: the most likely cause, goroutine-leak")
    assert "the code to change is main.(*mailer).sendWithTimeout.func1 (" in doc["verdict"]


def test_a_withheld_fault_still_names_the_code_it_would_be() -> None:
    """A hot request path is a fault or a busy day: the verdict withholds the kind but says
    where the time goes; not for healthy, a place the evidence calls a guess, or a place
    the reason already names."""
    from godiag.analysis.rootcause.kinds.base import PLACE_UNSURE
    from godiag.pipeline.diagnose import _if_it_is

    why = "its hottest function takes 86% of the CPU profile … would decide"
    top = cause("cpu-saturation", 0.67)
    assert _if_it_is(top, why) == (
        "; if it is cpu-saturation, the code to change is main.(*board).apply (/src/main.go:94)"
    )
    assert _if_it_is(cause("healthy", 0.5, None), why) == ""
    assert _if_it_is(cause("connection-leak", 0.6, evidence=[PLACE_UNSURE + "busiest"]), why) == ""
    assert _if_it_is(top, "… main.(*board).apply holds 8 MiB …") == ""
    assert _if_it_is(cause("cpu-saturation", 0.6, set_aside="no evidence"), why) == ""
