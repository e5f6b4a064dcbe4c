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
