"""What the addresses a debug=2 dump prints refute or decide in holder.find: a lock that is
not a field of the object a method runs on is not held because of that method (the
creator and same-type readings), a mutex has one holder (twins parked in one place are
not it), and the far side of an inversion seen at a single Lock call."""

from __future__ import annotations

from godiag.analysis.rootcause import holder
from godiag.formats.goroutines import parse
from godiag.model.goroutine import Dump

SRC = "/src/app/inv.go"
INVENTORY = "0xc000200000"  # the collection the methods run on
ITEM_MU = "0xc000010000"  # an item's lock, allocated apart (below the collection)
OWN_MU = "0xc000200010"  # a lock that is a field of the collection itself


def _frames(frames: list[tuple[str, str, int]]) -> list[str]:
    out = []
    for fn, args, line in frames:
        out += [f"{fn}({args})", f"\t{SRC}:{line} +0x1"]
    return out


def _g(gid: int, state: str, frames: list[tuple[str, str, int]],
       parent: tuple[str, int] = ("main.main", 1)) -> str:  # fmt: skip
    created = [f"created by {parent[0]} in goroutine {parent[1]}", f"\t{SRC}:9 +0x1"]
    return "\n".join([f"goroutine {gid} [{state}]:", *_frames(frames), *created])


def _locker(gid: int, mutex: str, frames: list[tuple[str, str, int]],
            parent: tuple[str, int] = ("main.main", 1)) -> str:  # fmt: skip
    slow = [("internal/sync.runtime_SemacquireMutex", "0x0?, 0x0?, 0x0?", 95),
            ("internal/sync.(*Mutex).lockSlow", mutex, 149),
            ("sync.(*Mutex).Lock", "...", 46)]  # fmt: skip
    return _g(gid, "sync.Mutex.Lock", [*slow, *frames], parent)


def _dump(*gs: str) -> Dump:
    return parse(("\n\n".join(gs) + "\n").encode(), "test")


def _watch(gid: int) -> str:
    watch = ("main.(*inventory).Watch", f"{INVENTORY}, 0xc000300000", 354)
    return _g(gid, "select", [("runtime.selectgo", "0x0?", 0), watch])


def _follower(gid: int, mutex: str, watch: int) -> str:
    return _locker(gid, mutex, [("main.(*inventory).follow", f"{INVENTORY}, {mutex}", 379)],
                   ("main.(*inventory).Watch", watch))  # fmt: skip


def test_a_parent_is_not_the_holder_of_another_objects_lock() -> None:
    # followers wait for an item's lock; the watch that started them runs on the
    # collection, whose fields that lock is not among
    items = _dump(_watch(5), _follower(10, ITEM_MU, 5), _follower(11, ITEM_MU, 5))
    assert holder.find(items) is None
    # the same shape on the collection's own lock: the parent waits for them under it
    h = holder.find(_dump(_watch(5), _follower(10, OWN_MU, 5), _follower(11, OWN_MU, 5)))
    assert h is not None and h.creator
    assert holder.location(h)["function"] == "main.(*inventory).Watch"


def _acker(gid: int, mutex: str) -> str:
    return _locker(gid, mutex, [("main.(*consumer).afterAck", "0xc000400000, 0xc0004a0000", 239),
                                ("main.worker", "0xc000400000", 71)])  # fmt: skip


def _heartbeat(gid: int, consumer: str = "0xc000400000") -> str:
    return _g(gid, "select", [("runtime.selectgo", "0x0?", 0),
                              ("main.(*consumer).heartbeat", f"{consumer}, 0x3", 125)])  # fmt: skip


def test_twins_parked_in_another_method_do_not_hold_one_mutex() -> None:
    mu = "0xc000400020"  # a field of the consumer
    ackers = [_acker(20 + i, mu) for i in range(4)]
    # one goroutine parked in another method of the type: the one place left
    h = holder.find(_dump(*ackers, _heartbeat(40)))
    assert h is not None and h.same_type and h.section.function == "main.(*consumer).heartbeat"
    # three identical ones (one per job): a mutex has one holder, so none of them
    assert holder.find(_dump(*ackers, _heartbeat(40), _heartbeat(41), _heartbeat(42))) is None


def test_a_lock_outside_the_receiver_is_not_held_by_another_method() -> None:
    ackers = [_acker(20 + i, "0xc000100000") for i in range(4)]  # below the consumer
    assert holder.find(_dump(*ackers, _heartbeat(40, consumer="0xc0000ffff0"))) is not None
    assert holder.find(_dump(*ackers, _heartbeat(40))) is None


PROGRESS, TOTALS = "0xc000500000", "0xc000600000"


def _inversion(*extra: str) -> Dump:
    c = "0xc000400000"
    waiting = [_locker(20 + i, PROGRESS, [("main.(*consumer).afterAck", c, 239)]) for i in range(6)]
    holding = _locker(30, TOTALS, [("main.(*consumer).afterAck", c, 241)])  # holds progress
    report = _locker(31, PROGRESS, [("main.(*consumer).reportLoop", c, 304)])  # holds totals
    return _dump(*waiting, holding, report, *extra)


def test_the_one_other_place_waiting_for_the_held_mutex_is_the_far_side() -> None:
    h = holder.find(_inversion())
    assert h is not None and h.nested and h.section.line == 241
    assert h.opposite is not None and h.opposite.section.function == "main.(*consumer).reportLoop"
    # one goroutine waits for what reportLoop holds, six for what the holder holds
    assert holder.location(h) == {"function": "main.(*consumer).reportLoop", "file": SRC,
                                  "line": 304}  # fmt: skip
    ev = "\n".join(holder.evidence(h))
    assert "the other side, likely" in ev and "the dump cannot show it" in ev


def test_two_other_places_waiting_for_the_held_mutex_leave_the_holder() -> None:
    status = _locker(32, PROGRESS, [("main.(*api).status", "0xc000700000", 88)])
    h = holder.find(_inversion(status))
    assert h is not None and h.nested and h.opposite is None
    assert holder.location(h)["line"] == 241
