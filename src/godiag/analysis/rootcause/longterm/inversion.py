"""Rule 7 without a lock-order cycle: lock waits of a minute or more in two functions."""

from __future__ import annotations

from typing import Any

from godiag.analysis.goroutines import GroupGrowth
from godiag.analysis.rootcause import locate, lockcycle
from godiag.analysis.rootcause.derived import Derived
from godiag.analysis.rootcause.longterm.common import OLD_WAIT_MIN
from godiag.model.goroutine import Goroutine


def inversion(derived: Derived) -> locate.Located | None:
    """Rule 7 without a lock-order cycle (a cycle decides first, `decisive`, and is
    deadlock's location): lock waiters that have waited a minute or more, in two functions
    or more, with no holder seen inside their critical section: a lock held that long is not
    released, and goroutines each holding one lock while waiting for another's is the
    commonest cause (a lock-order inversion). The location is the waiter whose wait is
    oldest (the first of them, by its line, on a tie). Only lock waiters: parked long
    polls wait minutes on channels by design."""
    prefix = derived.prefix
    stuck = [g for g in locate.blocked_groups(derived) if g.before > 0 and locate.user(g, prefix)]
    locks = [g for g in stuck if g.category == "lock" and g.wait_max >= OLD_WAIT_MIN]
    places = {str((locate.user(g, prefix) or {}).get("function")) for g in locks}
    if len(places) < 2 or (derived.holder is not None and not derived.holder.reentrant):
        return None
    first = min(locks, key=lambda g: (-g.wait_max, str(locate.user(g, prefix))))
    names = ", ".join(sorted({locate.where(locate.user(g, prefix)) for g in locks}))
    seen = f"goroutines have waited on locks for {first.wait_max} minute(s) or more in {names}"
    addresses = {address(g) for g in locks}
    if len(addresses) == 1 and None not in addresses:
        # every waiter waits for the same mutex (the dump printed its address): one lock
        # held and never released, not two taken in opposite orders
        mutex = addresses.pop() or ""
        aged = [g for g in derived.groups if g.wait_max >= OLD_WAIT_MIN]
        owners = owners_of(aged, mutex, prefix)
        never = (f"{seen}, all for the same lock ({mutex}): it is held and never "
                 f"released, and its holder is not seen inside the waiters' functions (a "
                 f"return or panic path that skips the Unlock, or a holder blocked elsewhere "
                 f"on something that never comes: a WaitGroup, a channel)")  # fmt: skip
        if (one := lone_holder(owners)) is not None:
            at = locate.user(one, prefix)
            return at, [likely_holder(one, at), never, *_owners_line(owners, prefix)]
        return locate.user(first, prefix), [never, *_owners_line(owners, prefix)]
    return locate.user(first, prefix), [
        f"{seen}: a lock held that long is not released; goroutines that each hold a lock "
        f"the other waits for (locks taken in opposite orders) wait for ever"
    ]


def owners_of(groups: list[GroupGrowth], mutex: str, prefix: str | None) -> list[GroupGrowth]:
    """The groups of `groups` not waiting on a lock, in the service's code, whose frames
    hold a pointer to the object the mutex belongs to (lockcycle.MAX_OFFSET): one of them
    may hold it."""
    at = int(mutex, 16)
    out = []
    for g in groups:
        if g.category == "lock" or g.count < 1:
            continue
        near = [f for f in g.frames if any(0 <= at - p < lockcycle.MAX_OFFSET
                                           for p in lockcycle.pointers(f))]  # fmt: skip
        if near and locate.user(g, prefix) is not None:
            out.append(g)
    return out


def _owners_line(owners: list[GroupGrowth], prefix: str | None) -> list[str]:
    if not owners:
        return []
    named = [f"{g.count} goroutine(s) blocked on {g.state} in "
             f"{locate.where(locate.user(g, prefix))} for a minute or more"
             for g in owners[:4]]  # fmt: skip
    return ["with that lock's object in their arguments, blocked a minute or more (one of "
            "them may hold it): " + "; ".join(named)]  # fmt: skip


def likely_holder(g: GroupGrowth, at: dict[str, Any] | None) -> str:
    return (f"likely holder: the one goroutine blocked on {g.state} in {locate.where(at)}, "
            f"with the lock's object in its arguments; the other such goroutines are groups "
            f"of identical ones (a mutex has one holder)")  # fmt: skip


def lone_holder(owners: list[GroupGrowth]) -> GroupGrowth | None:
    """The holder among the candidates when one is a lone goroutine and every other is a
    group of identical goroutines (a pool idling where it waits for work): a mutex has one
    holder, and one of several goroutines blocked at the same line, in the same state,
    holding it while its twins do not is the unlikely reading. None when that does not
    single one out."""
    ones = [g for g in owners if g.count == 1]
    if len(ones) != 1 or any(g.count < 2 for g in owners if g is not ones[0]):
        return None
    return ones[0]


def address(g: GroupGrowth) -> str | None:
    """The mutex a lock-waiting group's goroutine waits for, when its dump printed it."""
    return lockcycle.address(Goroutine(id=None, state=g.state, frames=g.frames))


# what a holder may be blocked on while it keeps the lock for ever: another lock, a channel
# or a WaitGroup nobody will complete (network reads, sleeps and running code end on their
# own, or are a slow critical section: lock contention's case)
HOLDER_STUCK_ON = ("lock", "channel", "select", "waitgroup")


def held_blocked(derived: Derived) -> str | None:
    """Rule 7 with a holder: goroutines that have waited a minute or more for a lock whose
    holder (holder.find) has itself been blocked a minute or more on another lock, a channel
    or a WaitGroup. Nothing released that lock for a minute, and what the holder waits for
    is not coming: a deadlock, whatever closes the cycle. Lock contention queues behind a
    holder that works. The holder must wait in the program's own code: one waiting inside
    a library (database/sql's wait for a pooled connection) holds the lock because a pool
    ran dry, a connection leak's doing. No lock waiter of the healthy services and
    third-party dumps this was checked on had waited a minute. Returns the evidence line,
    naming the other old lock waits (the far side of a lock-order inversion is often one of
    them)."""
    h, prefix = derived.holder, derived.prefix
    if (
        h is None
        or h.category not in HOLDER_STUCK_ON
        or h.wait_minutes < OLD_WAIT_MIN
        or not h.own_wait
    ):  # a library's queue (a pool run dry) is its own kind's
        return None
    stuck = [g for g in locate.blocked_groups(derived) if g.before > 0 and locate.user(g, prefix)]
    old = [g for g in stuck if g.category == "lock" and g.wait_max >= OLD_WAIT_MIN]
    if not old:
        return None
    others = locate.lock_waits_elsewhere(old, {h.waited_at.function, h.section.function}, prefix)
    elsewhere = f"; also waiting a minute or more on locks: {', '.join(others)}" if others else ""
    waiters = max(g.wait_max for g in old)
    return (f"lock waiters have waited {waiters} minute(s) or more behind a holder in "
            f"{h.section.function} ({h.section.file}:{h.section.line}) that has itself been "
            f"blocked {h.wait_minutes} minute(s) or more on {h.state}: that lock is never "
            f"released{elsewhere}")  # fmt: skip
