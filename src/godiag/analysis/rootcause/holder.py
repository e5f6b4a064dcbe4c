"""Who holds a lock that others wait for, from a goroutine dump.

A dump does not mark holders: a goroutine waiting in `sync.(*Mutex).Lock` says which
function it is trying to enter (the frame that called Lock), not who is inside. What is
decidable:

- same function: a goroutine that is NOT waiting on a lock and whose stack passes through
  the function that calls Lock, PAST the line where the waiters call it, is inside that
  critical section (a lock taken in a function is held to its Unlock there, mostly a
  defer); blocked there on something else (a channel, I/O, a sleep, a WaitGroup) or still
  running, it is the holder the waiters queue behind. Only the function that calls Lock
  counts: past a call to one that locks and returns, the lock was released.
- same type, when no goroutine is past the Lock line: a goroutine parked (not running) in
  another method of a pointer receiver type whose method is on the waiters' stacks above
  the Lock call, the one such place in the dump. A lock is normally a field of the struct
  whose methods take it; this is the weaker class, and the evidence says which one decided.

- a lock inside a lock, when no goroutine is past the Lock line otherwise: goroutines
  waiting at a later Lock call of a function in which others wait at an earlier one took
  the first lock and hold it while they wait (the latest such line). Two goroutines that
  take the same two locks in opposite orders (a transfer from a to b beside one from b to
  a) wait there for each other for ever: the later Lock line is where the order is fixed.
- the goroutine that started the waiters, when no goroutine is past the Lock line: lock
  waiters whose parent (`created by F in goroutine N`, the one goroutine in F when the dump
  has no ids) is blocked in F, the function that started them, on a WaitGroup or a channel,
  with F a method of the type whose lock they wait for. A function
  that takes the lock, starts workers that take it too, then waits for them under it (a
  `wg.Wait()` before its deferred Unlock) waits for ever: it is the holder, and F's wait is
  the location. Checked before the same-type pass: that the parent started them is stronger
  than being the one place of the type parked elsewhere.
- a lock taken again by its holder, last: a lock waiter whose caller, above the function
  calling Lock, is a method of the same receiver type, there at both ends of the window
  (the same goroutine, waiting at the same call). Go's locks are not reentrant: if that
  caller holds the type's lock (a read lock "upgraded" to a write lock, a locking method
  called with the lock held) the goroutine waits on itself for ever, and everything that
  needs the lock queues behind it. The caller's call is the location.

The creator and same-type readings assume the lock is a field of the object the method
runs on; where the dump prints the waiters' mutex and the method's receiver exactly, a
mutex outside that object refutes them (`outside`). A mutex has one holder: a same-type
place where several identical goroutines park is not the holder of one printed mutex.

Undecided cases stay undecided (None): every goroutine of the function waiting at one line
with no caller of its own type (a double lock inside one function), a candidate at or
before the waiters' Lock line (not yet inside), or candidates in more than one place. The
mutex profile decides them when it is on: its contention is recorded at the holder's Unlock
(lock_contention's first source).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from godiag.analysis import sites
from godiag.analysis.goroutine_rules import category, is_stdlib
from godiag.model.goroutine import Dump, Frame, Goroutine
from godiag.words import agree, many

# frames of the lock implementation and the runtime under a waiter's Lock call
_LOCK_IMPL = ("sync.", "internal/sync.", "runtime.")
# where a holder waits while it holds the lock (a lock waiter is not a holder here, and
# sync.Cond.Wait releases its lock while it waits)
WAITS_ELSEWHERE = ("channel", "select", "waitgroup", "io", "sleep", "syscall", "other")
EXACT = re.compile(r"0x[0-9a-f]+")  # an address the traceback printed exactly (no `?`)
UP = 3  # frames above the lock call where the critical section's function may be
NO_HOLDER = "holder not identified: enable the mutex profile (runtime.SetMutexProfileFraction)"


@dataclass(frozen=True)
class Opposite:
    """The far side of a lock-order inversion seen as two nested holders: goroutines of
    another function waiting at its later Lock call (`section`) while others wait at its
    earlier one (`held_at`, `waiters` of them), tied to the holder by one edge of the
    cycle printed in lockSlow frames (`_opposite`)."""

    section: Frame
    held_at: Frame
    waiters: int
    # the edge printed: "held", their earlier lock is the mutex the holder waits for;
    # "holds", their later call waits for the mutex the holder holds (its waiters' address)
    edge: str = "held"


@dataclass(frozen=True)
class Holder:
    frame: Frame  # where the holder waits now (its first user frame from the leaf)
    state: str  # what it waits on ("chan send", "IO wait", "running", ...)
    section: Frame  # the holder's frame in the function holding the lock: the location
    waiters: int  # goroutines waiting to enter it
    waited_at: Frame  # the waiters' frame there (their Lock call or the helper's)
    holders: int  # goroutines found inside (one, or the same place several times)
    same_type: bool = False  # found in another method of the waiters' type, not past their Lock
    nested: bool = False  # waiting on a second lock, past the waiters' Lock in the same function
    creator: bool = False  # the waiters' parent, waiting for them in the function that started them
    reentrant: bool = False  # waiting on a lock its own caller (same type) may hold
    across: bool = False  # the same goroutine seen waiting there at both ends of the window
    category: str = "other"  # what the holder waits on (goroutine_rules.category)
    wait_minutes: int = 0  # the holder's wait there (the dump's mark; 0: under a minute)
    # the holder blocks in the program's own code (its wait's first frame above the runtime
    # and sync is not the standard library's): a channel, lock or WaitGroup of its own, not
    # a library's queue such as database/sql's wait for a pooled connection
    own_wait: bool = True
    # a nested holder's far side, when the dump shows it (see Opposite)
    opposite: Opposite | None = None


def entry_frames(g: Goroutine) -> list[Frame]:
    """The frames above a lock waiter's Lock call, nearest first (up to UP), in the
    program's own code (a server's plumbing above a handler is every request's)."""
    i = 0
    while i < len(g.frames) and g.frames[i].function.startswith(_LOCK_IMPL):
        i += 1
    return [f for f in g.frames[i : i + UP] if not is_stdlib(f.function)]


def find(dump: Dump, prefix: str | None = None, start: Dump | None = None) -> Holder | None:
    """The holder of the lock most goroutines of `dump` wait for, when decidable. `start`:
    a dump from earlier in the window, to tell a goroutine stuck across it (None: one dump,
    in which every waiter counts as stuck)."""
    # (function, lock line) -> waiters; each waiter's entry frames vote
    waits: dict[tuple[str, int], tuple[int, Frame]] = {}
    # the receiver types of the methods above the Lock call: the type pass's keys
    typed: dict[tuple[str, int], tuple[int, Frame]] = {}
    for g in dump.goroutines:
        if category(g.state, g.frames) != "lock":
            continue
        entry = entry_frames(g)
        # only the function that calls Lock itself holds the lock past that line: a caller
        # further up is past a call that took the lock and, mostly, released it
        for f in entry[:1]:
            n, _ = waits.get((f.function, f.line), (0, f))
            waits[(f.function, f.line)] = (n + g.count, f)
        for f in entry:
            n, _ = typed.get((f.function, f.line), (0, f))
            typed[(f.function, f.line)] = (n + g.count, f)
    for (fn, line), (n, at) in sorted(waits.items(), key=lambda kv: -kv[1][0]):
        inside: dict[tuple[str, int], tuple[int, Goroutine, Frame]] = {}
        for g in dump.goroutines:
            if category(g.state, g.frames) in ("lock", "cond"):
                continue
            # the frame of fn nearest the leaf: the call it is making there now
            sec = next((f for f in g.frames if f.function == fn), None)
            if sec is None or sec.file != at.file or sec.line <= line:
                continue
            frames = [(f.function, f.file, f.line) for f in g.frames]
            here = sites.pick(frames, prefix) or frames[0]
            k = (here[1], here[2])
            c, _, _ = inside.get(k, (0, g, sec))
            inside[k] = (c + g.count, g, sec)
        if len(inside) != 1:  # nobody past the lock line, or several places: undecided
            continue
        (c, g, sec), = inside.values()  # fmt: skip
        return _holder(g, prefix, sec, n, at, c, same_type=False)
    if (h := _creator(dump, prefix)) is not None:
        return h
    for (fn, _line), (n, at) in sorted(typed.items(), key=lambda kv: -kv[1][0]):
        h = _same_type(dump, prefix, fn, n, at)
        if h is not None:
            return h
    return _nested(dump, waits) or _reentrant(dump, start)


# what a parent waits on when it waits for the goroutines it started
_WAITS_FOR_CHILDREN = ("waitgroup", "channel", "select")


def _creator(dump: Dump, prefix: str | None) -> Holder | None:
    """Lock waiters whose parent waits, in the function that started them, on a WaitGroup
    or a channel: the one such place in the dump."""
    by_id = {g.id: g for g in dump.goroutines if g.id is not None}
    inside: dict[tuple[str, int], tuple[int, int, Goroutine, Frame, Frame]] = {}
    for w in dump.goroutines:
        entry = entry_frames(w)
        if category(w.state, w.frames) != "lock" or w.created_by is None or not entry:
            continue
        parent_fn = w.created_by.function
        recv = receiver(parent_fn)
        if recv is None or recv != receiver(entry[0].function):
            continue  # a lock is a field of the type whose methods take it
        if w.created_by_goroutine is not None and w.created_by_goroutine in by_id:
            parents = [by_id[w.created_by_goroutine]]
        else:
            parents = [g for g in dump.goroutines if any(f.function == parent_fn for f in g.frames)]
        mutex = address(w)
        for p in parents:
            sec = next((f for f in p.frames if f.function == parent_fn), None)
            if sec is None or category(p.state, p.frames) not in _WAITS_FOR_CHILDREN:
                continue
            if outside(mutex, sec):
                continue  # they wait for another object's lock (an item's, not the parent's)
            k = (sec.function, sec.line)
            n, c, _, _, _ = inside.get(k, (0, 0, p, sec, entry[0]))
            inside[k] = (n + w.count, c if c else p.count, p, sec, entry[0])
    if len(inside) != 1:
        return None
    (n, c, p, sec, at), = inside.values()  # fmt: skip
    h = _holder(p, prefix, sec, n, at, c, same_type=False)
    return replace(h, creator=True)


def _nested(dump: Dump, waits: dict[tuple[str, int], tuple[int, Frame]]) -> Holder | None:
    """Lock waiters at the latest of two or more Lock calls of the function most waiters
    wait in: past the earlier lock, holding it, waiting for another."""
    if not waits:
        return None
    (fn, _line), (n, at) = max(waits.items(), key=lambda kv: kv[1][0])
    lines = {k[1]: v for k, v in waits.items() if k[0] == fn and v[1].file == at.file}
    if len(lines) < 2:
        return None
    first = min(lines)
    c, sec = lines[max(lines)]
    n, at = lines[first]

    def there(g: Goroutine) -> bool:
        return category(g.state, g.frames) == "lock" and any(
            f.function == fn and f.line == sec.line for f in g.frames
        )

    held = [g for g in dump.goroutines if there(g)]
    state = held[0].state if held else "lock"
    age = max((g.wait_minutes for g in held), default=0)
    opp = _opposite(dump, waits, fn, held)
    return Holder(sec, state, sec, n, at, c, nested=True, category="lock", wait_minutes=age,
                  opposite=opp)  # fmt: skip


def _opposite(
    dump: Dump, waits: dict[tuple[str, int], tuple[int, Frame]], fn: str, held: list[Goroutine]
) -> Opposite | None:
    """Another function whose lock waiters stand at two Lock calls, the earlier (`held_at`)
    and the later (`section`), like `fn`'s: past its earlier Lock, the later call's
    goroutines hold that lock while they wait for another. It is the far side of an
    inversion with `fn`'s nested holders (`held`) when the dump's lockSlow frames print one
    edge of the cycle: its earlier lock is the mutex `held` wait for, or its later call
    waits for the mutex `fn`'s earlier waiters wait for (a read lock prints none). Without
    an address, a function nested the same way on unrelated locks would look the same."""

    def at(where: Frame) -> set[str | None]:
        return {address(g) for g in dump.goroutines if _waits_at(g, where)}

    first = min(line for f, line in waits if f == fn)
    edges = [{address(g) for g in held}, at(waits[(fn, first)][1])]
    lines: dict[str, dict[int, tuple[int, Frame]]] = {}
    for (f, line), v in waits.items():
        if f != fn:
            lines.setdefault(f, {})[line] = v
    found, alone = [], []
    for ls in lines.values():
        if len(ls) < 2:
            # waiting, at its only Lock seen, for the very mutex the holder holds: the far
            # side when it is the one such place, its own first lock taken where nobody
            # waits (so the dump cannot show it); the goroutines waiting for what the
            # holder waits for are the ones that would wait for that first lock
            (_, only), = ls.values()  # fmt: skip
            mine = edges[1]
            if len(mine) == 1 and None not in mine and at(only) == mine:
                n = sum(g.count for g in held) or 1
                alone.append(Opposite(only, only, n, "holds"))
            continue
        (n, early), (_, late) = ls[min(ls)], ls[max(ls)]
        for edge, mine, theirs in zip(("held", "holds"), edges, (at(early), at(late)),
                                      strict=True):  # fmt: skip
            if len(mine) == 1 and None not in mine and theirs == mine:
                found.append(Opposite(late, early, n, edge))
                break
    if found:
        return found[0] if len(found) == 1 else None
    return alone[0] if len(alone) == 1 else None


def _waits_at(g: Goroutine, at: Frame) -> bool:
    """A lock waiter whose Lock call is `at` (its first entry frame)."""
    entry = entry_frames(g)
    return (category(g.state, g.frames) == "lock" and bool(entry)
            and (entry[0].function, entry[0].line) == (at.function, at.line))  # fmt: skip


def _reentrant(dump: Dump, start: Dump | None) -> Holder | None:
    """A lock waiter whose caller is a method of the same receiver type as the function
    calling Lock, stuck there across the window (`start`), the one such place."""
    before = _waiting(start) if start is not None else None
    inside: dict[tuple[str, int], tuple[int, Goroutine, Frame, Frame]] = {}
    for g in dump.goroutines:
        if category(g.state, g.frames) != "lock":
            continue
        entry = entry_frames(g)
        recv = receiver(entry[0].function) if entry else None
        outer = next((f for f in entry[1:] if recv and f.function.startswith(recv)), None)
        if outer is None or (before is not None and _key(g) not in before):
            continue
        k = (outer.function, outer.line)
        c, _, _, _ = inside.get(k, (0, g, outer, entry[0]))
        inside[k] = (c + g.count, g, outer, entry[0])
    # one place only: a writer and a reader both under their own type's methods is either
    # a read lock upgraded (the writer waits on itself, readers queue behind it) or a read
    # lock taken twice (the reader waits behind the pending writer): the stacks look alike
    # (GoKer's cockroach16167 is the second, linekv's expiry sweep the first)
    if len(inside) != 1:
        return None
    (c, g, outer, at), = inside.values()  # fmt: skip
    recv = receiver(at.function) or ""
    # everything else queued on a lock in the type's methods waits behind it (the c
    # goroutines waiting on themselves are not "others")
    behind = sum(w.count for w in dump.goroutines
                 if category(w.state, w.frames) == "lock"
                 and any(f.function.startswith(recv) for f in entry_frames(w))) - c  # fmt: skip
    return Holder(at, g.state, outer, behind, at, c, reentrant=True,
                  across=start is not None, category="lock",
                  wait_minutes=g.wait_minutes)  # fmt: skip


def _key(g: Goroutine) -> tuple[int | None, tuple[tuple[str, int], ...]]:
    """A lock waiter's identity across dumps: its id (debug=2) and where it waits."""
    return g.id, tuple((f.function, f.line) for f in g.frames)


def _waiting(d: Dump) -> set[tuple[int | None, tuple[tuple[str, int], ...]]]:
    return {_key(g) for g in d.goroutines if category(g.state, g.frames) == "lock"}


def _holder(g: Goroutine, prefix: str | None, sec: Frame, n: int, at: Frame, c: int,
            same_type: bool) -> Holder:  # fmt: skip
    frames = [(f.function, f.file, f.line) for f in g.frames]
    site = sites.pick(frames, prefix) or frames[0]
    return Holder(
        Frame(site[0], "", site[1], site[2]),
        g.state,
        sec,
        n,
        at,
        c,
        same_type,
        category=category(g.state, g.frames),
        wait_minutes=g.wait_minutes,
        own_wait=_own_wait(g),
    )


def _own_wait(g: Goroutine) -> bool:
    """The first frame of `g` above the runtime and the lock implementation is the
    program's own (not the standard library's)."""
    f = next((f for f in g.frames if not f.function.startswith(_LOCK_IMPL)), None)
    return f is not None and not is_stdlib(f.function)


def receiver(fn: str) -> str | None:
    """`pkg.(*T).m` -> `pkg.(*T).`; None for anything else. A type that embeds a lock has
    pointer receivers (a value receiver would copy the lock)."""
    head, _, _ = fn.rpartition(".")
    return head + "." if head.endswith(")") else None


def _same_type(dump: Dump, prefix: str | None, fn: str, n: int, at: Frame) -> Holder | None:
    """A goroutine blocked elsewhere inside another method of the waiters' receiver type.

    A Go lock is normally a field of the struct whose methods take it; a goroutine parked
    on a channel, a select, I/O or a sleep inside one of that type's other methods, while
    the type's lock has waiters and no goroutine is past their Lock line, is the one place
    left where it can be held. Decided only when that place is unique.
    """
    recv = receiver(fn)
    if recv is None:
        return None
    # the mutexes they wait for (the check is off when the dump did not print them all)
    waited = {address(g) for g in dump.goroutines
              if category(g.state, g.frames) == "lock"
              and any((f.function, f.line) == (fn, at.line) for f in entry_frames(g))}  # fmt: skip
    inside: dict[tuple[str, int], tuple[int, Goroutine, Frame]] = {}
    for g in dump.goroutines:
        cat = category(g.state, g.frames)
        if cat not in WAITS_ELSEWHERE:
            continue
        sec = next((f for f in g.frames if f.function.startswith(recv)), None)
        if sec is None or sec.function == fn or sec.file != at.file:
            continue
        if None not in waited and all(outside(m, sec) for m in waited):
            continue  # none of the locks they wait for is a field of this method's receiver
        k = (sec.function, sec.line)
        c, _, _ = inside.get(k, (0, g, sec))
        inside[k] = (c + g.count, g, sec)
    if len(inside) != 1:
        return None
    (c, g, sec), = inside.values()  # fmt: skip
    if c > 1 and len(waited) == 1 and None not in waited:
        # they all wait for one mutex (a Mutex, or an RWMutex's writer lock), which has one
        # holder: a place where several identical goroutines park (a pool, one per
        # connection) is not it, and one of them holding it while its twins do not is the
        # unlikely reading
        return None
    return _holder(g, prefix, sec, n, at, c, same_type=True)


# a struct's fields lie at or above its address, and a lock this far past it would be in a
# struct larger than a small heap object (Go puts objects of 32 KiB and more on spans of
# their own): the lock of another object
FIELD_SPAN = 32 << 10


def address(g: Goroutine) -> str | None:
    from godiag.analysis.rootcause.lockcycle import address as printed  # it imports this module

    return printed(g)


def outside(mutex: str | None, f: Frame) -> bool:
    """The mutex (its printed address) is not a field of the object that `f`, a method with
    a pointer receiver, runs on (its first argument, printed exactly): the same-type and
    creator readings assume the lock is the receiver's, which the addresses then refute
    (a per-item lock taken in a method of the collection). False when either is unknown."""
    first = f.args.split(",")[0].strip()
    if mutex is None or receiver(f.function) is None or not EXACT.fullmatch(first):
        return False
    return not 0 <= int(mutex, 16) - int(first, 16) < FIELD_SPAN


def location(h: Holder) -> dict[str, object]:
    """Where the lock is held: the holder's frame in the function that holds it (the call
    it is making there while it holds the lock), which is where a fix releases it. Of two
    sides of an inversion, the one whose held lock fewer goroutines wait for: as
    lockcycle.location reasons, the busier path's order is the one the code follows, and
    the odd order out is more likely the other's."""
    sec = odd_side(h)
    return {"function": sec.function, "file": sec.file, "line": sec.line}


def odd_side(h: Holder) -> Frame:
    """The section a fix most likely changes: the holder's, or its opposite's when fewer
    goroutines wait for the lock that side holds."""
    o = h.opposite
    return o.section if o is not None and o.waiters < h.waiters else h.section


def evidence(h: Holder) -> list[str]:
    """The waiters first (what is seen), then the holder (what it explains)."""
    at = f"{h.waited_at.function} ({h.waited_at.file}:{h.waited_at.line})"
    sec = f"{h.section.function} ({h.section.file}:{h.section.line})"
    leaf = f"{h.frame.function} ({h.frame.file}:{h.frame.line})"
    how = ("another method of the same type" if h.same_type
           else "past the waiters' Lock in the same function")  # fmt: skip
    if h.reentrant:
        when = "at both ends of the window" if h.across else "in the dump"
        confirm = "" if h.across else "; a second dump still showing it would confirm"
        return [
            f"{h.holders} goroutine(s) wait to lock in {at}, called from {sec}, a method of "
            f"the same type, {when}; {h.waiters} other goroutine(s) wait on locks in that "
            f"type's methods",
            f"Go's locks are not reentrant: if {h.section.function} holds the lock when it "
            f"calls there (a read lock upgraded to a write lock, or a locking method called "
            f"with the lock held) the goroutine waits on itself for ever and the others "
            f"queue behind it{confirm}",
        ]
    if h.creator:
        waits = h.state if h.frame.line == h.section.line else f"{h.state} in {leaf}"
        return [
            f"{h.waiters} goroutine(s) wait to lock in {at}, started by {h.section.function}",
            f"the holder: {h.holders} goroutine(s) in {sec}, the function that started them, "
            f"waiting on {waits}: it waits for them while it holds the lock they "
            f"wait for, so neither ends; release the lock before waiting for them, or let "
            f"them run without it",
        ]
    if h.nested:
        return [
            f"{h.waiters} goroutine(s) wait to lock in {at}",
            f"the holder: {h.holders} goroutine(s) past that Lock, waiting on {h.state} for "
            f"a second lock in {sec} (nobody else is inside): unless the first was released "
            f"between the two lines, they hold it while they wait, and two of them taking the "
            f"same two locks in opposite orders each hold what the other waits for "
            f"(lock-order inversion); one lock order everywhere, or one lock, breaks it",
            *_opposite_lines(h),
        ]
    return [
        f"{h.waiters} goroutine(s) wait to lock in {at}",
        f"the holder: {h.holders} goroutine(s) in {sec} ({how}), not waiting on a lock "
        f"but on {h.state} in {leaf}",
    ]


def _opposite_lines(h: Holder) -> list[str]:
    o = h.opposite
    if o is None:
        return []
    sec = f"{h.section.function} ({h.section.file}:{h.section.line})"
    far = f"{o.section.function} ({o.section.file}:{o.section.line})"
    first = f"{o.held_at.function} ({o.held_at.file}:{o.held_at.line})"
    odd = odd_side(h)
    busy, rare = (sec, far) if odd is o.section else (far, sec)
    if o.held_at == o.section:
        return [
            f"the other side, likely: {far}, the one place outside {h.section.function} where "
            f"goroutines wait for the very mutex the holder holds (its own waiters' address); "
            f"if it took the lock the holder waits for earlier in {o.section.function} (where "
            f"nobody else waits, so the dump cannot show it), the two functions take the two "
            f"locks in opposite orders",
            f"the order to change is more likely {rare}'s: {busy} is on the busier path "
            f"({many(n := max(o.waiters, h.waiters), 'goroutine')} {agree(n, 'waits', 'wait')} "
            f"for the lock it holds against {min(o.waiters, h.waiters)}), whose order the rest "
            f"of the code follows",
        ]
    if o.edge == "held":
        tie = (f"where {o.waiters} goroutine(s) wait for the very mutex the holder waits for "
               f"(the same address): they hold it while they wait")  # fmt: skip
    else:
        tie = (f"where {o.waiters} goroutine(s) wait, and those at {far} wait for the very "
               f"mutex the holder holds (its own waiters' address): they hold the other lock "
               f"while they wait")  # fmt: skip
    return [
        f"the other side: goroutine(s) wait at {far} past the Lock at {first}, {tie}, and the "
        f"two functions take the two locks in opposite orders",
        f"the order to change is more likely {rare}'s: {busy} is on the busier path "
        f"({many(n := max(o.waiters, h.waiters), 'goroutine')} {agree(n, 'waits', 'wait')} for the "
        f"lock it holds against "
        f"{min(o.waiters, h.waiters)}), whose order the rest of the code follows",
    ]
