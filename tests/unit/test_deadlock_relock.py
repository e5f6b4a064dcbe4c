"""A lock taken again through a method of its own type is explained as such, with the call
that takes it again in the function that holds it (kinds.deadlock._again), before
minute-long lock waits in several functions are read as an inversion (longterm.inversion)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

from godiag.analysis.goroutines import GroupGrowth
from godiag.analysis.rootcause.kinds import deadlock
from godiag.model.goroutine import Frame
from godiag.pipeline.diagnose import DiagnoseOptions, replay
from tests.datapaths import DATA

BUNDLE = DATA / "diagnose" / "deadlock-relock-inventory"


def test_a_read_lock_taken_twice_is_not_read_as_an_inversion() -> None:
    """inventory: availability read-locks a shard (main.go:98) and calls reserved (main.go:107),
    which read-locks it again (main.go:77) behind a queued writer; 1,401 goroutines wait, in
    four functions, some for minutes."""
    doc = replay(BUNDLE, DiagnoseOptions(store=False, flames=False))
    top = doc["causes"][0]
    assert top["kind"] == "deadlock"
    assert top["location"]["function"] == "main.(*shard).reserved"
    assert top["location"]["line"] == 77
    ev = "\n".join(top["evidence"])
    assert "blocked on sync.RWMutex.RLock in main.(*shard).reserved" in ev
    assert "Go's locks are not reentrant" in ev
    assert "calls main.(*shard).reserved (/tmp/cold12/cmd/inventory/main.go:107)" in ev
    assert "locks taken in opposite orders" not in ev


def _group(category: str, frames: list[tuple[str, int]]) -> GroupGrowth:
    # _again reads a group's category and frames only
    fr = tuple(Frame(function=f, args="", file="/src/main.go", line=n) for f, n in frames)
    return cast(GroupGrowth, SimpleNamespace(category=category, frames=fr))


def test_only_a_lock_of_the_same_type_is_taken_again() -> None:
    relock = [("sync.(*RWMutex).RLock", 60), ("main.(*shard).reserved", 77),
              ("main.(*shard).availability", 107)]  # fmt: skip
    uf = {"function": "main.(*shard).reserved", "file": "/src/main.go", "line": 77}
    at = deadlock._again(_group("lock", relock), uf, "main.(*shard).availability")
    assert at == {"function": "main.(*shard).availability", "file": "/src/main.go", "line": 107}
    # another type's lock (a registry's lock under a shard's), or a holder blocked on a
    # channel: not the same lock taken again
    other = {**uf, "function": "main.(*registry).get"}
    assert deadlock._again(_group("lock", relock), other, "main.(*shard).availability") is None
    assert deadlock._again(_group("channel", relock), uf, "main.(*shard).availability") is None
