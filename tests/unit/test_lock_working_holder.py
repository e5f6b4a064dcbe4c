"""lock-contention's holder that works under the lock: a goroutine running in the service's
code with the waiters' lock object in its frame arguments, the one such place."""

from __future__ import annotations

from godiag.analysis.rootcause.derived import derive
from godiag.analysis.rootcause.kinds import lock_contention
from godiag.formats.goroutines import parse
from godiag.model.goroutine import Dump
from godiag.model.observation import Observation

SRC = "/src/board/main.go"
BOARD, OTHER = "0xc000124000", "0xc000990000"


def _g(gid: int, state: str, frames: list[tuple[str, str, int]]) -> str:
    out = [f"goroutine {gid} [{state}]:"]
    for fn, args, line in frames:
        out += [f"{fn}({args})", f"\t{SRC}:{line} +0x1"]
    return "\n".join(out)


def _reader(gid: int, obj: str = BOARD) -> str:
    # RLock is inlined: no mutex address printed, the receiver of rank is the lock's object
    return _g(gid, "sync.RWMutex.RLock", [
        ("sync.runtime_SemacquireRWMutexR", "0x1?, 0x0?, 0x0?", 0),
        ("sync.(*RWMutex).RLock", "...", 0),
        ("main.(*board).rank", f"{obj}, 0x3b928", 119),
        ("main.(*board).handleRank", f"{obj}, {{0x7fe6d8, 0xc0001}}", 140),
    ])  # fmt: skip


def _sorter(gid: int, obj: str = BOARD, state: str = "runnable",
            fn: str = "main.(*board).rerank") -> str:  # fmt: skip
    return _g(gid, state, [
        ("sort.insertionSort_func", "{0xc0002, 0xc0003}, 0x10, 0x20", 0),
        (fn, obj, 75),
        ("main.(*board).recordMatch", f"{obj}, 0xcd0d, 0x20051", 95),
    ])  # fmt: skip


def _dump(*gs: str) -> Dump:
    return parse(("\n\n".join(gs) + "\n").encode(), "test")


def _locate(*gs: str) -> tuple[dict[str, object] | None, list[str]]:
    obs = Observation(url="http://x", dumps=[_dump(*gs)])
    return lock_contention.locator(obs, derive(obs))


def test_the_goroutine_running_on_the_waiters_object_is_the_likely_holder() -> None:
    loc, ev = _locate(_reader(10), _reader(11), _reader(12), _sorter(20))
    assert loc == {"function": "main.(*board).rerank", "file": SRC, "line": 75}
    assert any("likely holder: 1 goroutine(s) running in main.(*board).rerank" in e
               and "called from main.(*board).recordMatch" in e for e in ev)  # fmt: skip
    assert not any("holder not identified" in e for e in ev)


def test_running_on_another_object_holds_nothing_here() -> None:
    loc, ev = _locate(_reader(10), _reader(11), _sorter(20, obj=OTHER))
    assert loc is not None and loc["function"] == "main.(*board).rank"
    assert any("holder not identified" in e for e in ev)


def test_a_blocked_goroutine_on_the_object_is_the_same_type_rules_not_this_ones() -> None:
    # parked, not working: the holder rules that look for a holder waiting elsewhere say so
    _, ev = _locate(_reader(10), _reader(11), _sorter(20, state="chan receive"))
    assert any("not waiting on a lock but on chan receive" in e for e in ev)
    assert not any("running in" in e for e in ev)


def test_two_places_running_on_the_object_decide_nothing() -> None:
    loc, ev = _locate(_reader(10), _reader(11), _sorter(20),
                      _sorter(21, fn="main.(*board).snapshot"))  # fmt: skip
    assert loc is not None and loc["function"] == "main.(*board).rank"
    assert any("holder not identified" in e for e in ev)
