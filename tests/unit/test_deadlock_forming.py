"""A deadlock that forms inside the window is located at the lock's holder, not at
whatever else was blocked since before it (kinds.deadlock._forming)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from godiag.analysis.rootcause.holder import Holder
from godiag.analysis.rootcause.kinds import deadlock
from godiag.model.goroutine import Frame
from godiag.pipeline.diagnose import DiagnoseOptions, replay
from tests.datapaths import DATA

BUNDLE = DATA / "diagnose" / "deadlock-forming-dispatchd"


def test_a_deadlock_that_began_in_the_window_is_located_at_the_holder() -> None:
    """dispatchd: at the window's start only an idle `time.Tick` loop was blocked (main.go:183);
    at its end a batch holds the fleet's mutex while its send waits for a reader that needs
    that mutex (main.go:89), and two goroutines wait to lock (main.go:76)."""
    doc = replay(BUNDLE, DiagnoseOptions(store=False, flames=False))
    top = doc["causes"][0]
    assert top["kind"] == "deadlock"
    assert top["location"]["function"] == "main.(*fleet).assignBatch"
    assert top["location"]["line"] == 89
    ev = "\n".join(top["evidence"])
    assert "wait to lock in main.(*fleet).assignBatch" in ev
    assert "on chan send" in ev
    assert "the wait began within it" in ev
    assert "main.main.func1" not in ev


def _holder(category: str, **kw: object) -> Holder:
    f = Frame(function="main.(*s).put", args="", file="/src/main.go", line=40)
    base = Holder(frame=f, state=category, section=f, waiters=3, waited_at=replace(f, line=30),
                  holders=1, category=category)  # fmt: skip
    return replace(base, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("category", ["channel", "select", "waitgroup", "lock"])
def test_a_holder_waiting_on_another_goroutine_is_taken(category: str) -> None:
    assert deadlock._forming(_holder(category)) is not None


@pytest.mark.parametrize(
    "h",
    [
        None,
        # a sleep ends and I/O answers or times out: contention, not a deadlock
        _holder("sleep"),
        _holder("io"),
        # a library's queue (database/sql waiting for a pooled connection)
        _holder("channel", own_wait=False),
        # waiting on a lock its own caller may hold: holder.evidence says so on its own path
        _holder("lock", reentrant=True),
    ],
)
def test_a_holder_whose_wait_ends_or_is_not_its_own_is_not(h: Holder | None) -> None:
    assert deadlock._forming(h) is None
