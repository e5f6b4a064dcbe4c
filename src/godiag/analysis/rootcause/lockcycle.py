"""Lock-order cycles in one goroutine dump: goroutines that each hold a lock another waits for.

A debug=2 dump prints the receiver of `sync.(*Mutex).lockSlow`, the address of the mutex a
waiter waits for (an RWMutex's writer waits on its first field, the same address). Which
lock a goroutine holds is not printed; it is read as holder.find reads it: a goroutine
whose stack passes through a function past the line where other goroutines wait to lock
(a lock taken in a function is held to its Unlock there, mostly a defer) holds the lock
they wait for, when every waiter at that line waits for the same address.

A lock that is a field of an object is held, too, by a goroutine that has that object in
an argument of one of its own frames (the address printed exactly, not marked `?`): the
nearest mutex at or above that address, within MAX_OFFSET bytes, when another goroutine
waits for that mutex and no other goroutine of the dump, in any state, points at it so (a
lock waiter at a Lock line its function's other waiters are past has taken nothing there):
a transfer(from, to) waiting for to.mu holds from.mu. The frame is where it holds it.

A holder that itself waits for a lock is an edge from the lock it holds to the one it
waits for. A cycle of two or more such edges through different goroutines is a lock-order
inversion: each holds what the next waits for, and none of them can ever go on. Each edge
rests on the "past the Lock line" reading (a lock released before that line would make it
wrong), so a cycle needs every one of its edges; with a dump from the start of the window,
every goroutine of the cycle must be waiting at the same place in it too (a deadlock does
not move). A single goroutine waiting for the lock it holds is not taken: one misread edge
would make it (holder._reentrant weighs that case with its own evidence).
"""

from __future__ import annotations

from dataclasses import dataclass

from godiag.analysis.goroutine_rules import category, is_stdlib
from godiag.analysis.rootcause.holder import EXACT, entry_frames
from godiag.model.goroutine import Dump, Frame, Goroutine
from godiag.words import many

# sync.Mutex is internal/sync.Mutex since Go 1.24
_LOCK_SLOW = ("sync.(*Mutex).lockSlow", "internal/sync.(*Mutex).lockSlow")
# a mutex this far into the object an argument points at is that object's (a struct's
# fields before its lock: an id, a name, a few counters)
MAX_OFFSET = 128


@dataclass(frozen=True)
class Edge:
    holds: str  # address of the lock held
    waits: str  # address of the lock waited for
    section: Frame  # the holder's frame in the function holding the lock (the call it makes)
    waited_at: Frame  # where the holder waits for the next lock (its Lock call)
    held_at: Frame  # where the other goroutines wait for the lock it holds
    waiters: int  # goroutines waiting for the lock it holds, wherever they wait
    state: str
    past: bool = True  # held past a Lock line others wait at (else: through an argument)


def address(g: Goroutine) -> str | None:
    """The mutex a lock waiter waits for, when the traceback printed it (not marked `?`)."""
    for f in g.frames:
        if f.function in _LOCK_SLOW:
            arg = f.args.split(",")[0].strip()
            return arg if EXACT.fullmatch(arg) else None
    return None


# a lock waiter whose mutex address was printed: (goroutine, address, its Lock call's frame
# in the program's own code, None when the call is the standard library's)
Waiter = tuple[Goroutine, str, Frame | None]


def _waiters(dump: Dump) -> list[Waiter]:
    out: list[Waiter] = []
    for g in dump.goroutines:
        if category(g.state, g.frames) == "lock" and (a := address(g)) is not None:
            entry = entry_frames(g)
            out.append((g, a, entry[0] if entry else None))
    return out


def _sites(waiters: list[Waiter]) -> dict[tuple[str, str, int], tuple[str, Frame]]:
    """Lock calls where goroutines wait, each for one address: site -> (address, frame). A
    site whose waiters wait for different addresses (a helper locking whatever it is given)
    says nothing about which lock a goroutine past it holds."""
    seen: dict[tuple[str, str, int], tuple[set[str], Frame]] = {}
    for _, a, f in waiters:
        if f is None:
            continue
        addrs, _ = seen.get((f.function, f.file, f.line), (set(), f))
        seen[(f.function, f.file, f.line)] = (addrs | {a}, f)
    return {k: (next(iter(a)), f) for k, (a, f) in seen.items() if len(a) == 1}


def pointers(f: Frame) -> list[int]:
    """The arguments of a frame printed as exact addresses."""
    out = []
    for arg in f.args.replace("{", ",").replace("}", ",").split(","):
        arg = arg.strip()
        if EXACT.fullmatch(arg) and (v := int(arg, 16)) >= 1 << 16:
            out.append(v)
    return out


def _inside(frames: list[Frame], mutexes: set[str], waits: str | None) -> set[str]:
    """The mutexes (of `mutexes`) the frames' arguments point at: for each pointer, the
    nearest mutex at or above it within MAX_OFFSET (small objects sit side by side, so a
    farther one is as likely the next object's), unless it is `waits`."""
    out = set()
    for f in frames:
        for p in pointers(f):
            near = [(int(a, 16) - p, a) for a in mutexes if 0 <= int(a, 16) - p < MAX_OFFSET]
            if near and (a := min(near)[1]) != waits:
                out.add(a)
    return out


def _waiting_lines(waiters: list[Waiter]) -> dict[tuple[str, str], list[int]]:
    """(function, file) -> the lines of its Lock calls goroutines wait at."""
    out: dict[tuple[str, str], list[int]] = {}
    for _, _, f in waiters:
        if f is not None:
            out.setdefault((f.function, f.file), []).append(f.line)
    return out


def _pointing(g: Goroutine, at: Frame | None, waiting: dict[tuple[str, str], list[int]]
              ) -> list[Frame]:  # fmt: skip
    """A goroutine's own frames whose argument pointers may be locks it holds (`at`: its
    Lock call's frame, when it waits for a lock). A lock waiter at a Lock line of a function
    where others wait at a later line has taken no lock there yet: that frame is left out."""
    own = [f for f in g.frames if not is_stdlib(f.function)]
    if at is not None and any(n > at.line for n in waiting.get((at.function, at.file), [])):
        own = [f for f in own if f is not at]
    return own


def _claims(dump: Dump, waiters: list[Waiter], waiting: dict[tuple[str, str], list[int]]
            ) -> dict[str, int]:  # fmt: skip
    """Mutex -> goroutines of the dump, in any state, with it inside an object their own
    code's frames point at (`_pointing`; the mutex a lock waiter waits for aside)."""
    mutexes = {a for _, a, f in waiters if f is not None}
    waiting_at = {id(g): (a, f) for g, a, f in waiters}
    out: dict[str, int] = {}
    for g in dump.goroutines:
        waits, at = waiting_at.get(id(g), (None, None))
        for a in _inside(_pointing(g, at, waiting), mutexes, waits):
            out[a] = out.get(a, 0) + 1
    return out


def _edges(dump: Dump) -> list[tuple[Goroutine, Edge]]:
    waiters = _waiters(dump)
    sites = _sites(waiters)
    queued: dict[str, int] = {}
    first: dict[str, Frame] = {}  # a place each mutex is waited for
    for g, a, f in waiters:
        queued[a] = queued.get(a, 0) + g.count
        if f is not None:
            first.setdefault(a, f)
    waiting = _waiting_lines(waiters)
    claims = _claims(dump, waiters, waiting)
    out: list[tuple[Goroutine, Edge]] = []
    for g, waits, at in waiters:
        for (fn, file, line), (held, held_at) in sites.items():
            # the frame of fn nearest the leaf, past the waiters' Lock line (its own Lock
            # call when it waits at a later line of the same function: a lock inside a lock)
            sec = next((f for f in g.frames if f.function == fn), None)
            if sec is None or sec.file != file or sec.line <= line or held == waits:
                continue
            out.append((g, Edge(held, waits, sec, at or g.frames[0], held_at, queued[held],
                                g.state)))  # fmt: skip
        # held through an object pointer only when no other goroutine could be holding it
        # the same way: two goroutines each waiting for another lock of one object would
        # otherwise read as each holding what the other waits for
        if at is None:
            continue
        pointing = _pointing(g, at, waiting)
        for f in entry_frames(g):
            if f not in pointing:
                continue
            for held in _inside([f], set(first), waits):
                if claims.get(held) == 1:
                    out.append((g, Edge(held, waits, f, at, first[held], queued[held],
                                        g.state, past=False)))  # fmt: skip
    return out


def _stuck(g: Goroutine, start: Dump | None) -> bool:
    """Waiting at the same place at the start of the window (by goroutine id)."""
    if start is None or g.id is None:
        return start is None
    where = [(f.function, f.line) for f in g.frames]
    return any(s.id == g.id and [(f.function, f.line) for f in s.frames] == where
               for s in start.goroutines)  # fmt: skip


def find(dump: Dump, start: Dump | None = None) -> list[Edge] | None:
    """The shortest lock-order cycle of the dump (two edges or more, each through its own
    goroutine), its edges in cycle order; None when there is none."""
    edges = [(g, e) for g, e in _edges(dump) if _stuck(g, start)]
    by_lock: dict[str, list[tuple[Goroutine, Edge]]] = {}
    for g, e in edges:
        by_lock.setdefault(e.holds, []).append((g, e))
    best: list[Edge] | None = None
    for g0, e0 in edges:
        # breadth-first from the lock e0 waits for back to the one it holds
        paths: list[tuple[list[tuple[Goroutine, Edge]], str]] = [([(g0, e0)], e0.waits)]
        seen = {e0.holds}
        while paths:
            nxt: list[tuple[list[tuple[Goroutine, Edge]], str]] = []
            for path, lock in paths:
                for g, e in by_lock.get(lock, []):
                    if any(g is p for p, _ in path):
                        continue
                    if e.waits == e0.holds:
                        cycle = [x for _, x in path] + [e]
                        if best is None or len(cycle) < len(best):
                            best = cycle
                        continue
                    if e.waits not in seen:
                        seen.add(e.waits)
                        nxt.append(([*path, (g, e)], e.waits))
            paths = nxt if best is None else []
    return best


def _where(f: Frame) -> str:
    return f"{f.function} ({f.file}:{f.line})"


def location(cycle: list[Edge] | tuple[Edge, ...]) -> dict[str, object]:
    """The call made under the lock with the fewest waiters. Every edge of the cycle is a
    place where one lock is taken inside another and the fix is to reorder one of them; the
    lock most goroutines queue on is the one taken first on the busiest paths, whose order
    the rest of the code follows, so the odd order out is more likely at the other's. When
    as many wait on each, the edge that takes its second lock inside a function it calls
    (a helper that locks on its own, called under the first lock) comes before one taking
    both in its own body: that nesting is the one not seen where it is written."""
    e = min(cycle, key=lambda e: (e.waiters, e.waited_at.function == e.section.function,
                                  e.section.function, e.section.line))  # fmt: skip
    return {"function": e.section.function, "file": e.section.file, "line": e.section.line}


def evidence(cycle: list[Edge] | tuple[Edge, ...]) -> list[str]:
    how = {True: "past the Lock at {}", False: "its arguments point at the object, which "
           "no other goroutine's do; waited for at {}"}  # fmt: skip
    lines = [
        f"a goroutine in {_where(e.section)} ({how[e.past].format(_where(e.held_at))}) holds "
        f"mutex {e.holds} ({e.waiters} goroutine(s) wait for it) and waits at "
        f"{_where(e.waited_at)} for mutex {e.waits}"
        for e in cycle
    ]
    return [
        f"lock-order cycle: {many(len(cycle), 'goroutine')} each hold the mutex the next one waits "
        f"for (addresses from the dump's lockSlow frames); none of them can go on",
        *lines,
        "take the locks in one order everywhere, or release one before taking the other",
    ]


@dataclass(frozen=True)
class Counted:
    """A lock-order cycle read by counting where the addresses of the locks held are not
    printed (a transfer(from, to int) reaching its locks by index): N goroutines wait at a
    function's second Lock, each for a mutex goroutines also wait for at its first Lock,
    and no other goroutine is past any Lock those mutexes are waited for at.
    Then only the N hold those mutexes (each took one at the first Lock), and each waits
    for one the others hold: following "waits for the one held by" from any of them comes
    back around, a cycle, whichever holds which. Every one of them waits at the same place
    at both ends of the window (a cycle does not move)."""

    section: Frame  # one of the N, at the second Lock: the call made under the first lock
    first: Frame  # the function's first Lock, where the others wait
    holders: int
    queued: int  # goroutines waiting at the first Lock


def counted(dump: Dump, start: Dump | None = None) -> Counted | None:
    """The counted cycle of the dump (see Counted); None when there is none."""
    waiters = _waiters(dump)
    at: dict[tuple[str, str], dict[int, list[Waiter]]] = {}
    for w in waiters:
        if w[2] is not None:
            at.setdefault((w[2].function, w[2].file), {}).setdefault(w[2].line, []).append(w)
    for lines in at.values():
        if len(lines) != 2:
            continue
        first, second = sorted(lines)
        inner, outer = lines[second], lines[first]
        taken, n = {a for _, a, _ in outer}, sum(g.count for g, _, _ in inner)
        if n < 2 or not {a for _, a, _ in inner} <= taken:
            continue
        if not all(_stuck(g, start) for g, _, _ in inner):
            continue
        # where those mutexes are locked: any other goroutine past one of those Locks (a
        # waiter at a later Lock of its function too) may hold one of them
        sites = {(w[2].function, w[2].line) for w in waiters
                 if w[2] is not None and w[1] in taken}  # fmt: skip
        mine = {id(g) for g, _, _ in inner}
        if any(id(g) not in mine and _past(g, sites) for g in dump.goroutines):
            continue
        section = inner[0][2]
        assert section is not None and outer[0][2] is not None
        return Counted(section, outer[0][2], n, sum(g.count for g, _, _ in outer))
    return None


def _past(g: Goroutine, sites: set[tuple[str, int]]) -> bool:
    """A frame of the goroutine in a function of `sites` past its Lock line there."""
    return any(f.function == fn and f.line > line for f in g.frames for fn, line in sites)


def counted_evidence(c: Counted) -> list[str]:
    return [
        f"lock-order cycle: {many(c.holders, 'goroutine')} wait at {_where(c.section)} for "
        f"mutexes also waited for at {_where(c.first)} (its first Lock, "
        f"{many(c.queued, 'goroutine')} there), and no other goroutine is past a Lock of "
        f"those mutexes: they hold them among themselves and each waits for "
        f"another's (the dump does not print which holds which)",
        "take the locks in one order everywhere (by index or address), or release one before "
        "taking the other",
    ]
