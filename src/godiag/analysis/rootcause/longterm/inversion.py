"""Rule 7 without a lock-order cycle: lock waits of a minute or more in two functions."""

from __future__ import annotations

from godiag.analysis.rootcause import locate
from godiag.analysis.rootcause.derived import Derived
from godiag.analysis.rootcause.longterm.common import OLD_WAIT_MIN


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
    return locate.user(first, prefix), [
        f"goroutines have waited on locks for {first.wait_max} minute(s) or more in {names}: "
        f"a lock held that long is not released; goroutines that each hold a lock the "
        f"other waits for (locks taken in opposite orders) wait for ever"
    ]


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
    mine = {h.waited_at.function, h.section.function}
    users = [u for g in old if (u := locate.user(g, prefix))]
    others = sorted({locate.where(u) for u in users if u.get("function") not in mine})
    elsewhere = f"; also waiting a minute or more on locks: {', '.join(others)}" if others else ""
    waiters = max(g.wait_max for g in old)
    return (f"lock waiters have waited {waiters} minute(s) or more behind a holder in "
            f"{h.section.function} ({h.section.file}:{h.section.line}) that has itself been "
            f"blocked {h.wait_minutes} minute(s) or more on {h.state}: that lock is never "
            f"released{elsewhere}")  # fmt: skip
