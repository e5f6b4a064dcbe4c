"""deadlock: goroutines stuck on a lock or channel that never frees.

Location: a holder of the lock waiters' lock when none of them was there at the window's
start (a deadlock forming within it), waiting on what only another goroutine ends (_forming);
else goroutines stuck on a lock or channel in both dumps; a lock-order cycle among
them (lockcycle: each holds, past a Lock others wait at, the mutex the next waits for) at
the call made under its least-waited lock, or one read by counting (lockcycle.counted: N
goroutines at a function's second Lock waiting for N mutexes all taken at its first) at
that second Lock; a goroutine inside the
lock waiters' critical section (holder.find: past their Lock line, waiting on something
else) is the holder and is reported; else lock waiters that have waited a minute or more
in two functions or more (a lock-order inversion: the oldest wait); else, when one stuck
group's stack passes through the function the others wait in, it holds the lock: it is
reported; else a lock waiter whose own caller may hold the lock (holder: a lock taken
again by its holder). Else, for lock waiters, the one long-lived goroutine of their
package stuck on a channel send; for channel waiters, a few long-lived goroutines of the
service's own code stuck on a channel (a cycle of actors); else, for lock waiters whose
dump prints the mutex's address, the one goroutine stuck across the window (not on a lock)
with a pointer to that mutex's object in its frames, when every other such goroutine is one
of a group of twins (an idle pool: a mutex has one holder); else the largest stuck group.
Where the dump marks waits of a minute or more, a candidate of those last two without the
mark woke within the minute (a loop between ticks) and is passed over.
"""

from __future__ import annotations

from godiag.analysis.goroutine_rules import package_of
from godiag.analysis.goroutines import GroupGrowth
from godiag.analysis.rootcause import holder, locate, lockcycle, longterm
from godiag.analysis.rootcause.derived import Derived
from godiag.analysis.rootcause.kinds import goroutine_leak
from godiag.analysis.rootcause.kinds.base import Features, Kind
from godiag.words import agree, many


def locator(obs: locate.Observed, derived: Derived) -> locate.Located:
    prefix = derived.prefix
    groups = locate.blocked_groups(derived)
    # there at the start of the window already (with one dump, every group is)
    stuck = [g for g in groups if g.before > 0 and locate.user(g, prefix)]
    if derived.cycle and stuck:
        return lockcycle.location(derived.cycle), lockcycle.evidence(derived.cycle)
    if (c := derived.counted) is not None and stuck:
        return locate.loc(c.section), lockcycle.counted_evidence(c)
    if not any(g.category == "lock" for g in stuck) and (f := _forming(derived.holder)):
        return holder.location(f), [*holder.evidence(f), FORMED]
    if not stuck:
        return goroutine_leak.locator(obs, derived) if groups else (None, [])
    biggest = max(stuck, key=lambda g: g.count)
    h = derived.holder if any(g.category == "lock" for g in stuck) else None
    if h is not None and not h.reentrant:
        # a far side the dump shows already names where the others wait
        far = [] if h.opposite is not None else _elsewhere(stuck, h, prefix)
        return holder.location(h), holder.evidence(h) + far
    waited_in = str((locate.user(biggest, prefix) or {}).get("function"))
    # a holder: another stuck group whose stack passes through the waiters' function
    # below its own user frame (it took the lock there and is now blocked deeper)
    inside = None
    for g in sorted(stuck, key=lambda g: g.count):
        uf = locate.user(g, prefix)
        if (
            g is not biggest
            and uf
            and uf["function"] != waited_in
            and waited_in in [f.function for f in g.frames]
        ):
            inside = g, uf
            break
    ev = []
    if inside is not None:
        g, uf = inside
        ev = [
            f"{many(biggest.count, 'goroutine')} {agree(biggest.count, 'waits', 'wait')} in "
            f"{locate.where(locate.user(biggest, prefix))}",
            f"{g.count} goroutine(s) holding it are blocked on {g.state} in {locate.where(uf)}",
        ]
        # blocked on a lock again in a method of the same type: that explains minute-long
        # lock waits in several functions better than an inversion does
        if (again := _again(g, uf, waited_in)) is not None:
            call = f"{again['file']}:{again['line']}"
            return uf, [*ev, _AGAIN.format(outer=waited_in, inner=uf["function"], call=call)]
    if inversion := longterm.inversion(derived):
        return inversion
    if inside is not None:
        return inside[1], ev
    if h is not None:  # a lock waiter whose own caller holds the lock (holder._reentrant)
        return holder.location(h), holder.evidence(h)
    # a channel cycle: a few long-lived goroutines of the service's own code (actors, a
    # worker pool) stuck across the window while requests wait on them; a blocked send
    # is the edge to break. Idle plumbing of other packages (tickers, signal waits) and
    # the waiters' own function are not candidates.
    pkg = package_of(str((locate.user(biggest, prefix) or {}).get("function", "")))
    # a dump that marks minute-long waits anywhere marks them on every goroutine: one of
    # these without a mark ran within the last minute (a loop over a ticker), not stuck
    aged = any(g.wait_max >= 1 for g in derived.groups)
    inner = [g for g in stuck if g is not biggest and g.count <= 8 and g.growth <= 0
             and g.category in ("channel", "select") and not _from_server(g)
             and (g.wait_max >= 1 or not aged)
             and (uf := locate.user(g, prefix)) is not None and uf["function"] != waited_in
             and package_of(uf["function"]) == pkg]  # fmt: skip
    senders = [g for g in inner if "send" in g.state]
    actors = senders or inner
    if biggest.category == "lock" and len(senders) == 1:
        # waiters on a lock nobody is seen inside, and one goroutine of the service stuck
        # on a send: a send that never completes while its lock is held is the commonest
        # lock never released (the lock may be another type's, so only a single sender)
        g = senders[0]
        uf = locate.user(g, prefix)
        return uf, [
            f"{many(biggest.count, 'goroutine')} {agree(biggest.count, 'waits', 'wait')} "
            f"to lock in "
            f"{locate.where(locate.user(biggest, prefix))}, and no goroutine is seen inside",
            f"{g.count} long-lived goroutine(s) of the same package stuck on {g.state} in "
            f"{locate.where(uf)} across the window: likely holding that lock while the send "
            f"waits for a receiver",
        ]
    if biggest.category in ("channel", "select") and actors:
        g = actors[0]
        uf = locate.user(g, prefix)
        return uf, [
            f"{many(biggest.count, 'goroutine')} {agree(biggest.count, 'waits', 'wait')} in "
            f"{locate.where(locate.user(biggest, prefix))}",
            # seen blocked at both ends of a few seconds: an idle loop between ticks looks
            # the same, so say what was seen, not that it never moves
            f"{g.count} long-lived goroutine(s) blocked on {g.state} in {locate.where(uf)} "
            f"at both ends of the window",
        ]
    lockers = [g for g in stuck if g.category == "lock"]
    waiters = max(lockers, key=lambda g: g.count) if lockers else None
    if waiters is not None and (one := _lone_owner(waiters, stuck, prefix)):
        at = locate.user(one, prefix)
        return at, [
            longterm.likely_holder(one, at),
            f"{many(waiters.count, 'goroutine')} {agree(waiters.count, 'waits', 'wait')} "
            f"to lock in "
            f"{locate.where(locate.user(waiters, prefix))} across the window, and no "
            f"goroutine is seen inside",
        ]
    loc = locate.user(biggest, prefix)
    ev = [f"{many(biggest.count, 'goroutine')} blocked on {biggest.state} in "
          f"{locate.where(loc)} at both ends of the window"]  # fmt: skip
    # a lock never released is never in the mutex profile (recorded at Unlock)
    if biggest.category == "lock":
        ev.append("holder not identified: no goroutine is inside the waiters' critical "
                  "section waiting on something else")  # fmt: skip
    return loc, ev


# what a holder can wait on for ever from its own code (a sleep ends, I/O answers or times
# out: those holders make contention, not a deadlock)
FOREVER = ("channel", "select", "waitgroup", "lock")
FORMED = ("the lock waiters were not there at the start of the window: the wait began "
          "within it, so a second diagnosis still showing them decides a deadlock")  # fmt: skip


_AGAIN = ("Go's locks are not reentrant: if {outer} holds the lock when it calls {inner} "
          "({call}), a method of the same type that locks again, the goroutine waits on itself "
          "(a read lock taken twice waits behind a queued writer) and every other locker "
          "queues behind it: the fix is that call or the second lock (an unlocked variant "
          "for callers that hold it)")  # fmt: skip


def _again(g: GroupGrowth, uf: dict[str, object], outer: str) -> dict[str, object] | None:
    """The call, in the function that took the lock, of holders blocked on a lock in a method
    of that function's own receiver type: the lock taken again. The location stays the
    second lock (the scenarios' labels); the evidence names both places a fix may change."""
    recv = holder.receiver(outer)
    if g.category != "lock" or recv is None or holder.receiver(str(uf["function"])) != recv:
        return None
    f = next((f for f in g.frames if f.function == outer), None)
    return None if f is None else {"function": f.function, "file": f.file, "line": f.line}


def _forming(h: holder.Holder | None) -> holder.Holder | None:
    """A holder found inside the critical section of lock waiters that all came within the
    window (none stuck at both ends): a deadlock forming, or a lock held across a wait that
    ends. Taken when the holder waits, in the service's own code, on what only another
    goroutine ends (a channel, a WaitGroup, a second lock): that is where the lock is never
    released, whatever else sits blocked since before the window (an idle loop between
    ticks, a pool's workers)."""
    if h is None or h.reentrant or not h.own_wait or h.category not in FOREVER:
        return None
    return h


def _lone_owner(
    waiters: GroupGrowth, stuck: list[GroupGrowth], prefix: str | None
) -> GroupGrowth | None:
    """The one goroutine stuck across the window, not on a lock, holding a pointer to the
    object of the mutex the waiters wait for, when every other such goroutine is one of a
    group of twins (longterm.lone_holder)."""
    mutex = longterm.address(waiters)
    if mutex is None:
        return None
    return longterm.lone_holder(longterm.owners_of(stuck, mutex, prefix))


def _from_server(g: GroupGrowth) -> bool:
    return g.created_by is not None and g.created_by.function.startswith("net/http.")


def title(feats: Features, where: str) -> str:
    return f"goroutines stuck on a lock or channel that never frees{where}"


# what a lock's holder can wait on and still come back: a sleep ends, running code runs on
# (I/O, a channel or another lock can wait for ever, so they say nothing here)
ENDS = ("sleep", "running", "runnable")


# what waits behind a deadlock: goroutines queued on a lock, requests that never finish,
# blocked goroutines piling up, or goroutines the runtime proved unreachable
VICTIMS = ("lock_waiters", "stuck_handlers", "top_growth_blocked", "leaked_goroutines")


def unsupported(feats: Features) -> str | None:
    """A deadlock stops work: something waits behind it. Goroutines parked on channels at
    both ends of the window with nothing queued behind them (no lock waiter, no request
    stuck at both ends, no blocked goroutines piling up) are idle: a worker pool, a
    subscriber, a loop between ticks. Known only with two dumps (stuck requests need both).
    And a deadlock's holder waits on something that never comes; one that sleeps or runs
    will release the lock, and its waiters are contending, not stuck for ever."""
    # blocked goroutines pile up when they grew by more than one or two between the dumps:
    # one or two more is a request or connection arriving (goroutine-leak's bar; NATS under
    # load: one more client connection's writer parked on its sync.Cond, two goroutines
    # waiting a moment for one subscription's lock)
    bar = goroutine_leak.MIN_GROUP_GROWTH
    few = (feats.get("top_growth_count") or 0) < bar
    # lock waiters are victims when they stay or pile up: none of them waiting in the same
    # call at both ends of the window (known with goroutine ids), and no more than two more
    # of them at the end than at the start, is a lock that changes hands
    moving = feats.get("lock_waiters_across") == 0 and (feats.get("lock_waiters_growth") or 0) < bar
    left = {"lock_waiters"} if moving else set()
    left |= {"top_growth_blocked"} if few else set()
    victims = [n for n in VICTIMS if n not in left]
    # requests blocked at both ends in a wait other requests left within the window (a long
    # poll, a queue behind a slow worker) are waits that end, not victims
    settled = feats.get("stuck_handlers_settled")
    if settled is not None:
        victims = ["stuck_handlers_settled" if n == "stuck_handlers" else n for n in victims]
    stuck = feats.get("stuck_handlers")
    if stuck is not None and not any(feats.get(n) for n in victims):
        if stuck and settled == 0:
            return (f"the {stuck} requests blocked at both ends of the window "
                    f"wait where other requests left within it (by goroutine id): a wait that "
                    f"ends (a long poll, a timeout, a queue), not one that never frees; no "
                    f"goroutine waits on a lock across the window and no blocked group grew by "
                    f"more than two; a diagnosis showing the same requests still blocked minutes "
                    f"later would decide")  # fmt: skip
        return ("nothing waits behind the stuck goroutines: no goroutine waits on a lock "
                "across the window, "
                "no request is stuck at both ends of the window and no blocked group grew by "
                "more than two; goroutines parked on channels or a sync.Cond at both ends are "
                "idle (a pool, a subscriber, a connection's writer, a loop between ticks), not "
                "deadlocked; a diagnosis while "
                "requests or locks wait on them, or the goroutineleak profile, would "
                "decide")  # fmt: skip
    waits = feats.get("lock_holder_waits")
    if waits not in ENDS:
        return None
    return (f"the lock's holder is {'asleep' if waits == 'sleep' else waits} inside its "
            f"critical section: it releases the lock when that ends, so its waiters queue "
            f"(lock contention) rather than wait for ever; a second diagnosis showing the "
            f"same goroutines still waiting would decide")  # fmt: skip


KIND = Kind(
    "deadlock",
    title,
    locator,
    unsupported=unsupported,
    # what never moves stays stuck on a starved machine too: not a timing verdict
    explained_by=frozenset(
        {
            "unclosed-range",
            "waitgroup-missing-done",
            "goexit-misuse",
            "lock-held-blocking",
            "lock-not-released",
            "double-lock",
            "lock-order-inversion",
            "receive-never-sent",
            "send-never-received",
            "cond-never-signalled",
        }
    ),
    goroutine_history=True,
)


def _elsewhere(stuck: list[GroupGrowth], h: holder.Holder, prefix: str | None) -> list[str]:
    """The lock waiters stuck across the window in other functions than the holder's and its
    waiters': when the holder itself waits on a lock, one of them may hold it (the far side
    of a lock-order inversion, whose lock no frame argument of the dump points at)."""
    if h.category != "lock":
        return []
    far = locate.lock_waits_elsewhere(stuck, {h.waited_at.function, h.section.function}, prefix)
    if not far:
        return []
    return [f"also stuck on locks across the window: {', '.join(far)}: one of them may hold "
            f"the lock the holder waits for"]  # fmt: skip
