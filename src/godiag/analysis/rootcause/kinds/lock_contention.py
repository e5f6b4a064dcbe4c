"""lock-contention: goroutines queue on a contended lock.

Location: the mutex profile's top site (the unlocking holder; the call its holder makes
when a dump catches one inside that function), else the block profile's
(a writer waiting on an RWMutex first; when readers wait, the goroutine holding the write
lock in the dumps), else the holder found in the dumps (holder.find: a goroutine inside
the waiters' critical section, past their Lock line, waiting on something else), else the
one function running on the waiters' lock object (`working`: a holder busy inside its
critical section), else the largest group waiting on a lock, with a note that the holder is
not identified.

Ruled out without lock evidence: no goroutine waiting on a sync lock in the dumps and no
time waited on locks in a mutex/block profile. A busy service with many blocked goroutines
(long polls, idle keep-alives) only resembles it. When the dumps could not be read, it is
not ruled out: absence is known only where it was observed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from godiag.analysis import sites
from godiag.analysis.goroutine_rules import category
from godiag.analysis.rootcause import holder, locate, lockcycle
from godiag.analysis.rootcause.derived import Derived
from godiag.analysis.rootcause.kinds.base import Features, Kind
from godiag.model.goroutine import Dump, Frame, Goroutine
from godiag.words import many

MIN_LOCK_WAIT = 0.001  # s/s of lock waiting below which a profile shows no contention


def _contended(profiles: list[Any], prefix: str | None) -> tuple[sites.Site, int, bool] | None:
    """(site, delay in ns, whether it is the window's: else since the process started)."""
    if len(profiles) != 2:
        return None
    # A writer waiting on an RWMutex is the one whose critical section the readers
    # queue behind (block profiles record waiters, not holders): prefer its site. It
    # waits only for the few readers already inside, so its own delay is small and may
    # not grow within a short window: any writer in the profile counts.
    # Then lock waits only: a block profile also records every channel and select wait.
    for need in (("sync.(*RWMutex).Lock",), sites.LOCKS, None):
        keep = sites.has_prefix(need) if need else None
        a, b = (sites.by_site(p, "delay", prefix, keep) for p in profiles)
        if (grew := sites.top(sites.growth(a, b))) is not None:
            return (*grew, True)
        if (since := sites.top(b)) is not None:
            return (*since, False)
    return None


def _waited(name: str, delay_ns: int, window: bool, seconds: float, where: str) -> str:
    """The profile's delay as a reader takes it: summed over goroutines (so it exceeds the
    window's length when many wait at once), and over which span."""
    total = delay_ns / 1e9
    if not window:
        return (f"{name} profile: {total:.3f} s of waiting in all at {where} since the "
                f"process started (none added within the window)")  # fmt: skip
    at_once = (
        f", {many(total / seconds, 'goroutine', '.1f')} waiting at a time on average"
        if seconds > 0
        else ""
    )
    return (f"{name} profile: {total:.3f} s of waiting at {where} within the window, summed "
            f"over the goroutines that waited{at_once}")  # fmt: skip


def _readers(profiles: list[Any], site: sites.Site, prefix: str | None) -> bool:
    """Whether the delay at `site` is readers waiting in RLock."""
    rlock = sites.has_prefix(("sync.(*RWMutex).RLock",))
    return bool(profiles) and site in sites.by_site(profiles[-1], "delay", prefix, rlock)


def _holder(obs: locate.Observed, waiter: str) -> tuple[sites.Site, int] | None:
    """Where a write lock is held while readers wait in `waiter`, from the dumps.

    A lock is normally a field of the struct whose methods take it: the holder is a
    goroutine inside another method of the waiter's receiver type that is not itself
    waiting for a lock (it is working, sleeping or doing I/O inside its critical section).
    """
    if ".(*" not in waiter:
        return None
    recv = waiter.rsplit(".", 1)[0] + "."
    seen: dict[sites.Site, int] = {}
    for d in obs.dumps:
        for g in d.goroutines:
            if category(g.state, g.frames) == "lock":
                continue
            f = next((f for f in g.frames if f.function.startswith(recv)), None)
            if f is not None and f.function != waiter:
                site = (f.function, f.file, f.line)
                seen[site] = seen.get(site, 0) + 1
    return max(seen.items(), key=lambda kv: (kv[1], kv[0])) if seen else None


def holders(obs: locate.Observed, prefix: str | None) -> Iterator[holder.Holder]:
    """The holder each dump shows (the end dump first); a lock waiting on its own holder
    never frees: that is deadlock's to name, not contention's."""
    for d in reversed(obs.dumps):
        h = holder.find(d, prefix)
        if h is not None and not h.reentrant:
            yield h


RUNS = ("running", "runnable")


def working(obs: locate.Observed, prefix: str | None) -> locate.Located:
    """A holder that works under the lock, from the dumps: the one place where goroutines
    running (or runnable) in the service's own code carry a pointer to the object of the
    mutex most waiters wait for (its address as the waiters' Lock frames print it).

    The past-the-Lock-line and same-type rules look for a holder waiting on something else;
    the commonest contention is a holder burning CPU inside its critical section (sorting,
    encoding, hashing under the lock), running when the dump is taken. Another goroutine
    running on the same object while others queue for its lock is inside (the lock is free
    otherwise, and the waiters would have it). Decided only when one function has them;
    the innermost such frame is where the work is done, its callers name who took the lock.
    """
    for d in reversed(obs.dumps):
        waits = Counter(o for g in d.goroutines
                        if category(g.state, g.frames) == "lock"
                        and (o := _lock_object(g)) is not None)  # fmt: skip
        if not waits:
            continue
        (mutex, exact), n = waits.most_common(1)[0]
        places = _running_on(d, prefix, int(mutex, 16), exact)
        if len(places) != 1:
            continue
        ((c, own),) = places.values()
        loc = locate.loc(own[0])
        via = "".join(f", called from {locate.where(locate.loc(f))}" for f in own[1:3])
        ev = [
            f"{n} goroutine(s) wait for the lock "
            + (f"of the object at {mutex}" if exact else f"at {mutex}"),
            f"likely holder: {c} goroutine(s) running in {locate.where(loc)}{via}, with that "
            f"lock's object in its arguments: working inside the critical section while the "
            f"others queue (the mutex profile, runtime.SetMutexProfileFraction, would confirm)",
        ]
        if obs.cpu is not None:
            spent = sum(v for s, v in sites.by_site(obs.cpu, "cpu", prefix).items()
                        if s[0] == own[0].function)  # fmt: skip
            if spent:
                ev.append(f"CPU profile: {spent / 1e9:.2f}s in {own[0].function}")
        return loc, ev
    return None, []


Places = dict[str, tuple[int, list[Frame]]]


def _running_on(d: Dump, prefix: str | None, at: int, exact: bool) -> Places:
    """The goroutines of `d` running in the service's own code with a pointer to the lock's
    object in their frames (`at` itself when `exact`, else within lockcycle.MAX_OFFSET below
    the mutex at `at`), by the innermost such frame's function: (count, those frames)."""
    places: Places = {}
    for g in d.goroutines:
        if category(g.state, g.frames) not in RUNS:
            continue
        own = [f for f in g.frames
               if sites.is_user(f.function, prefix)
               and any(p == at if exact else 0 <= at - p < lockcycle.MAX_OFFSET
                       for p in lockcycle.pointers(f))]  # fmt: skip
        if own:
            c, _ = places.get(own[0].function, (0, own))
            places[own[0].function] = (c + g.count, own)
    return places


def _lock_object(g: Goroutine) -> tuple[str, bool] | None:
    """What a lock waiter waits for: the mutex's address when its Lock frame printed it
    (False: the lock's object is within lockcycle.MAX_OFFSET below it), else the receiver
    of the method that called Lock (True: that very object; RLock and RWMutex.Lock are
    inlined and print no argument, and a lock is normally a field of the struct whose
    methods take it)."""
    if (a := lockcycle.address(g)) is not None:
        return a, False
    entry = holder.entry_frames(g)
    if not entry or holder.receiver(entry[0].function) is None:
        return None
    ptrs = lockcycle.pointers(entry[0])
    first = entry[0].args.split(",")[0].strip()
    return (first, True) if ptrs and first == hex(ptrs[0]) else None


def locator(obs: locate.Observed, derived: Derived) -> locate.Located:
    prefix = derived.prefix
    # waiters the dumps caught: where the window's contention is when the profiles added
    # nothing within it (their sites since the process started are history, not the window)
    locks = [g for d in derived.dumps for g in d if g.category == "lock"]
    for name, profs in (("mutex", obs.mutex), ("block", obs.block)):
        hit = _contended(profs, prefix)
        if hit is None or (not hit[2] and locks):
            continue
        loc = locate.loc(hit[0])
        ev = [_waited(name, hit[1], hit[2], obs.duration, locate.where(loc))]
        held = _holder(obs, hit[0][0]) if _readers(profs, hit[0], prefix) else None
        if held is not None:
            # readers wait for a writer: its critical section is the fault
            hloc = locate.loc(held[0])
            ev.append(f"readers wait in RLock; the write lock is held in {locate.where(hloc)} "
                      f"(there in {held[1]} dump record(s), not itself waiting)")  # fmt: skip
            return hloc, ev
        # the profile names the critical section (its Unlock); a holder caught inside that
        # same function in a dump names what it does while it holds the lock
        h = next((h for h in holders(obs, prefix) if h.section.function == hit[0][0]), None)
        if h is not None:
            return holder.location(h), ev + holder.evidence(h)
        return loc, ev
    # waiters come and go (a lock held in bursts): look at both dumps
    if not locks:
        return None, []
    h = next(holders(obs, prefix), None)
    if h is not None:
        return holder.location(h), holder.evidence(h)
    g = max(locks, key=lambda g: g.count)
    loc = locate.user(g, prefix)
    ev = [f"{many(g.count, 'goroutine')} waiting on {g.state} in {locate.where(loc)}"]
    busy, why = working(obs, prefix)
    if busy is not None:
        return busy, ev + why
    return loc, ev + ([] if obs.mutex else [holder.NO_HOLDER])


def ruled_out(feats: Features) -> bool:
    waiters, waited = feats.get("lock_waiters"), feats.get("lock_wait_s_per_s")
    return bool(waiters == 0 and (waited is None or waited < MIN_LOCK_WAIT))


# A queue on a lock: goroutines waiting on it at a time, on average over the window (the
# lock-wait profile's seconds of waiting per second), or seen waiting in the dumps. Under a
# tenth of one goroutine and at most one seen: a lock taken now and then by two paths at
# once, what any service with a lock does, not requests queueing.
MIN_QUEUE = 0.1
MIN_QUEUED = 2


def _no_queue(feats: Features) -> str | None:
    """Under MIN_QUEUE goroutines waiting at a time by the lock-wait profile, and at most
    one seen in the dumps, or more seen at one instant only (none of them waiting in the
    same call at both ends): the profile covers the whole window, a dump one moment of it
    (NATS under load: 2 waiters in the end dump, 0.003 waiting on average)."""
    waiters, waited = feats.get("lock_waiters") or 0, feats.get("lock_wait_s_per_s")
    if waited is None or waited >= MIN_QUEUE:
        return None
    if waiters >= MIN_QUEUED and feats.get("lock_waiters_across") != 0:
        return None
    return (f"{waited:.2f} goroutines waited on a lock at a time on average over the window "
            f"(the lock-wait profile) and {waiters} at most in the dumps, none of them in the "
            f"same call at both ends: a lock taken now and then by two paths at once, not "
            f"requests queueing on it; a diagnosis while requests are slow would "
            f"decide")  # fmt: skip


def unsupported(feats: Features) -> str | None:
    """Contention moves: waiters get the lock in turn. When every goroutine waiting on a
    lock at the window's start still waits in the same call at its end, none more came,
    and the goroutine inside their critical section itself waits on another lock, nothing
    moved for the whole window: a lock held while waiting on one that never frees is a
    deadlock (two locks taken in opposite orders), not a queue. (In the windowed dataset a
    holder waiting on a lock occurs in deadlock runs only.)"""
    waiters, across = feats.get("lock_waiters") or 0, feats.get("lock_waiters_across")
    if feats.get("lock_holder_waits") != "lock" or across is None or waiters == 0:
        return None
    if across < waiters or (feats.get("lock_waiters_growth") or 0) > 0:
        return None
    return (f"none of the {many(across, 'goroutine')} waiting on a lock got it during the window "
            f"(the same goroutines wait in the same calls at both ends), and the one inside "
            f"their critical section waits on another lock: nothing moved, which is a "
            f"deadlock's mark, not a queue's; a second diagnosis showing the same goroutines "
            f"still waiting would confirm it")  # fmt: skip


def title(feats: Features, where: str) -> str:
    return f"goroutines queue on a contended lock{where}"


KIND = Kind(
    "lock-contention",
    title,
    locator,
    ruled_out,
    unsupported=unsupported,
    # a lock taken by two paths at once now and then is every service's: ranked as the
    # model says (a weak fault looks the same), but no verdict
    doubt=_no_queue,
    # a starved lock holder waits for a CPU while its waiters queue
    timing=True,
    explained_by=frozenset({"lock-held-blocking", "lock-not-released", "lock-order-inversion"}),
)
