"""holder._creator: a method that takes its type's lock, starts goroutines that take it too,
and waits for them before it unlocks (shape of a rebalance that `wg.Wait()`s under the lock)."""

from __future__ import annotations

from godiag.analysis.rootcause import holder
from godiag.formats.goroutines import parse
from godiag.model.goroutine import Dump

SRC = "/src/app/dispatch.go"
LOCK = [("internal/sync.runtime_SemacquireMutex", 0), ("sync.(*Mutex).Lock", 0)]


def _g(gid: int, state: str, frames: list[tuple[str, int]], parent: tuple[str, int]) -> str:
    out = [f"goroutine {gid} [{state}]:"]
    for fn, line in frames:
        out += [f"{fn}(...)", f"\t{SRC}:{line} +0x1"]
    out += [f"created by {parent[0]} in goroutine {parent[1]}", f"\t{SRC}:118 +0x1"]
    return "\n".join(out)


def _dump(*gs: str) -> Dump:
    return parse(("\n\n".join(gs) + "\n").encode(), "test")


def _parent(gid: int, state: str = "sync.WaitGroup.Wait") -> str:
    wait = ("sync.(*WaitGroup).Wait", 0) if "WaitGroup" in state else ("runtime.chanrecv1", 0)
    return _g(gid, state, [wait, ("main.(*dispatch).rebalance", 125), ("main.main.func2", 249)],
              ("main.main", 1))  # fmt: skip


def _child(gid: int, parent: int) -> str:
    return _g(gid, "sync.Mutex.Lock",
              [*LOCK, ("main.(*dispatch).applyTransfer", 95),
               ("main.(*dispatch).rebalance.func1", 121)],
              ("main.(*dispatch).rebalance", parent))  # fmt: skip


def _handler(gid: int) -> str:
    return _g(gid, "sync.Mutex.Lock",
              [*LOCK, ("main.(*dispatch).enqueue", 48), ("main.(*api).create", 200)],
              ("net/http.(*Server).Serve", 1))  # fmt: skip


def _worker(gid: int) -> str:
    # parked in another method of the same type: what leaves the same-type pass undecided
    return _g(gid, "chan receive",
              [("runtime.chanrecv2", 0), ("main.(*dispatch).courierWorker", 129)],
              ("main.main", 1))  # fmt: skip


def _ticker(gid: int) -> str:
    return _g(gid, "sleep", [("time.Sleep", 0), ("main.(*dispatch).tick", 62)], ("main.main", 1))


# two places of the type parked elsewhere: the same-type pass decides nothing
OTHERS = (_worker(70), _worker(71), _ticker(80))


def test_the_parent_waiting_for_its_lock_waiters_holds_the_lock() -> None:
    h = holder.find(_dump(_parent(30), _child(51, 30), _child(52, 30), _handler(60), *OTHERS))
    assert h is not None and h.creator and h.waiters == 2 and h.holders == 1
    assert holder.location(h) == {
        "function": "main.(*dispatch).rebalance",
        "file": SRC,
        "line": 125,
    }
    ev = holder.evidence(h)
    assert "started by main.(*dispatch).rebalance" in ev[0]
    assert "waiting on sync.WaitGroup.Wait: it waits for them while it holds the lock" in ev[1]


def test_a_parent_not_waiting_for_them_is_not_the_holder() -> None:
    # the parent went on (it sleeps): whoever holds the lock, it is not shown waiting for them
    h = holder.find(_dump(_parent(30, "sleep"), _child(51, 30), *OTHERS))
    assert h is None or not h.creator


def test_a_parent_of_another_type_is_not_taken() -> None:
    other = _g(52, "sync.Mutex.Lock",
               [*LOCK, ("main.(*dispatch).applyTransfer", 95), ("main.(*planner).run.func1", 80)],
               ("main.(*planner).run", 31))  # fmt: skip
    parent = _g(31, "sync.WaitGroup.Wait",
                [("sync.(*WaitGroup).Wait", 0), ("main.(*planner).run", 84)],
                ("main.main", 1))  # fmt: skip
    assert holder.find(_dump(parent, other, *OTHERS)) is None
