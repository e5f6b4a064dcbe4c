"""Lock-order cycles read from a goroutine dump (lockcycle).

Real cycles (GoKer's Moby4951 and Cockroach10214) are checked in
tests/integration/test_lock_holder.py; these dumps, in the runtime's debug=2 format, pin
the cases where a dump only resembles a cycle.
"""

from __future__ import annotations

import dataclasses

from godiag.analysis.rootcause import lockcycle
from godiag.formats.goroutines import parse
from godiag.model.goroutine import Dump

LOCK = """\
internal/sync.runtime_SemacquireMutex(0x0?, 0x0?, 0x0?)
\t/usr/local/go/src/runtime/sema.go:95 +0x25
internal/sync.(*Mutex).lockSlow({mutex})
\t/usr/local/go/src/internal/sync/mutex.go:149 +0x15d
internal/sync.(*Mutex).Lock(...)
\t/usr/local/go/src/internal/sync/mutex.go:70
sync.(*Mutex).Lock(...)
\t/usr/local/go/src/sync/mutex.go:46
"""


def _waiter(gid: int, mutex: str, frame: str, line: int) -> str:
    return (f"goroutine {gid} [sync.Mutex.Lock]:\n" + LOCK.format(mutex=mutex)
            + f"{frame}\n\t/app/main.go:{line} +0x45\n"
            f"main.main.func1()\n\t/app/main.go:60 +0x2a\n"
            f"created by main.main in goroutine 1\n\t/app/main.go:58 +0x66\n")  # fmt: skip


def _dump(*goroutines: str) -> Dump:
    return parse("\n".join(goroutines).encode(), "test")


# two accounts of 24 bytes side by side; transfer(from, to) holds from.mu, waits for to.mu
A, B = "0xc000010000", "0xc000010018"


def _transfers(first: int) -> Dump:
    return _dump(
        _waiter(first, B, f"main.(*ledger).transfer(0xc000020000?, {A}, {B}, 0x1)", 35),
        _waiter(first + 1, A, f"main.(*ledger).transfer(0xc000020000?, {B}, {A}, 0x1)", 35),
    )


def test_two_transfers_in_opposite_orders_are_a_cycle() -> None:
    cycle = lockcycle.find(_transfers(10))
    assert cycle is not None and len(cycle) == 2
    assert {(e.holds, e.waits) for e in cycle} == {(A, B), (B, A)}
    assert not any(e.past for e in cycle)  # held through the `from` argument
    assert lockcycle.location(cycle)["line"] == 35
    assert lockcycle.evidence(cycle)[0].startswith("lock-order cycle: 2 goroutines")


def test_a_cycle_must_be_there_at_the_start_of_the_window() -> None:
    assert lockcycle.find(_transfers(10), start=_transfers(10)) is not None
    # other goroutines at the start (new ids): what the end dump shows may be passing
    assert lockcycle.find(_transfers(10), start=_transfers(20)) is None


def test_two_locks_of_one_object_waited_for_are_not_held() -> None:
    # a and b wait for the object's two mutexes (offsets 0 and 8), both with the object in
    # their arguments: neither is seen holding the other's lock
    obj, mu2 = "0xc000010000", "0xc000010008"
    dump = _dump(
        _waiter(10, mu2, f"main.(*obj).a({obj})", 20),
        _waiter(11, obj, f"main.(*obj).b({obj})", 30),
    )
    assert lockcycle.find(dump) is None


def test_an_argument_marked_inexact_is_not_an_address() -> None:
    dump = _dump(
        _waiter(10, B, f"main.(*ledger).transfer(0xc000020000?, {A}?, {B}, 0x1)", 35),
        _waiter(11, A, f"main.(*ledger).transfer(0xc000020000?, {B}?, {A}, 0x1)", 35),
    )
    assert lockcycle.find(dump) is None


def test_a_goroutine_waiting_for_what_it_points_at_holds_nothing() -> None:
    # one goroutine, its own mutex: no cycle of one (a double lock is holder's to weigh)
    assert lockcycle.find(_dump(_waiter(10, A, f"main.(*obj).a({A})", 20))) is None


def test_with_as_many_waiters_each_the_lock_taken_in_a_callee_is_the_place() -> None:
    """A kitchen board: fire() takes orders then stations in its own body; rebalance()
    holds stations and calls pendingFor(), which locks orders. 79 goroutines wait on each
    lock: the nesting hidden in a call (rebalance's) is named, not the alphabetical first."""
    from godiag.model.goroutine import Frame

    def at(fn: str, line: int) -> Frame:
        return Frame(fn, "", "/app/main.go", line)

    fire = lockcycle.Edge(A, B, at("main.(*board).fire", 89), at("main.(*board).fire", 89),
                          at("main.(*board).fire", 76), 79, "sync.Mutex.Lock")  # fmt: skip
    rebalance = lockcycle.Edge(B, A, at("main.(*board).rebalance", 121),
                               at("main.(*board).pendingFor", 103),
                               at("main.(*board).rebalance", 117), 79,
                               "sync.Mutex.Lock")  # fmt: skip
    for cycle in ([fire, rebalance], [rebalance, fire]):
        assert lockcycle.location(cycle)["function"] == "main.(*board).rebalance"
    # fewer waiters still decide first: the busier lock's order is the rest of the code's
    busy = dataclasses.replace(fire, waiters=12)
    assert lockcycle.location([busy, rebalance])["function"] == "main.(*board).fire"


# a bank of cars reached by index: rebalance(from, to int) locks shafts[from].mu at line 64,
# calls the controller, then shafts[to].mu at line 73; its arguments print no address
CARS = ("0xc000030000", "0xc000030040", "0xc000030080")


def _rebalance(gid: int, mutex: str, line: int) -> str:
    return _waiter(gid, mutex, "main.(*bank).rebalance(0xc000020000, 0x1?, 0x2?)", line)


def _bank(*extra: str) -> Dump:
    inner = [_rebalance(10 + i, CARS[(i + 1) % 3], 73) for i in range(3)]
    queued = [_rebalance(20 + i, CARS[i % 3], 64) for i in range(9)]
    calls = [_waiter(40 + i, CARS[i % 3], "main.(*bank).call(0xc000020000, 0x1?)", 36)
             for i in range(6)]  # fmt: skip
    return _dump(*inner, *queued, *calls, *extra)


def test_waiters_at_a_second_lock_on_locks_taken_at_the_first_are_a_counted_cycle() -> None:
    c = lockcycle.counted(_bank(), start=_bank())
    assert c is not None and c.holders == 3 and c.queued == 9
    assert (c.section.function, c.section.line, c.first.line) == ("main.(*bank).rebalance",
                                                                  73, 64)  # fmt: skip
    assert lockcycle.counted_evidence(c)[0].startswith("lock-order cycle: 3 goroutines wait")


def test_anyone_else_past_a_lock_of_those_mutexes_may_hold_one() -> None:
    # a call that took its car's lock and now waits on a channel (not on a lock)
    busy = ("goroutine 90 [chan receive]:\nmain.(*bank).call(0xc000020000, 0x1?)\n"
            "\t/app/main.go:38 +0x45\ncreated by main.main in goroutine 1\n"
            "\t/app/main.go:58 +0x66\n")  # fmt: skip
    assert lockcycle.counted(_bank(busy)) is None
    # and one waiting at a later Lock of its own function, past the first
    later = _waiter(91, "0xc0000300c0", "main.(*bank).call(0xc000020000, 0x1?)", 39)
    assert lockcycle.counted(_bank(later)) is None


def test_a_counted_cycle_must_be_there_at_the_start_of_the_window() -> None:
    assert lockcycle.counted(_bank(), start=_dump(_waiter(99, CARS[0], "main.x()", 5))) is None
    # one goroutine at the second Lock is a lock taken inside a lock, not a cycle
    one = _dump(_rebalance(10, CARS[1], 73), _rebalance(20, CARS[1], 64))
    assert lockcycle.counted(one) is None
