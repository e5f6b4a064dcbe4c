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
