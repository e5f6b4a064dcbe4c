"""Which container keeps a leak's memory: the line a developer changes is where the values
are kept, not always where they were made.

A heap profile names the code that allocated each live byte. A leak's bytes are mostly the
values it keeps (a request body read by io.ReadAll, a JSON document from json.Marshal, a
receipt built by a strings.Builder), allocated wherever they were made; the fix is at the
slice or map that keeps them (`t.log = append(t.log, m)`, `byID[id] = e`), often in
another function. That container's own backing store is in the profile too: Go's runtime
drops its growslice and map-growth frames, so the samples end at the user's line that
appended or inserted. It looks like no value site does: a few large live objects (one
backing array per slice, a few tables per map) made by the language itself at that line
(the leaf frame is the user's, not a library call), reallocated as it grows (a doubling
slice or map frees the old store: the site allocated more than it holds), and it grows
while the values do.

The value and its container are tied by the code: the function that made the value calls
(or is called by, or shares a caller with) the code that keeps it, a few frames apart
(`publishTick` makes a body and calls `Publish`, whose append keeps it; a middleware runs
the handler whose response is recorded, then files it in an audit map). A container found
on that path is named as the location, the value's site as what it keeps. Nothing is
named when the value site itself makes large objects at its own line (`make([]T, n)`, an
append: that line keeps them, or is as near it as the profile says), when no
container grew on a related path, or when two related containers are equally close.

Two weaker answers follow when no container is tied. Values handed over through a channel
or a queue leave no call path between maker and keeper: since a stored baseline, the one
function's container that grew by UNTIED_MIN is named, and its evidence says nothing ties
it. Else, a helper named as one that makes values (MAKERS) hands over to its caller, as a
connection helper does (`maker_caller`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from godiag.analysis import sites
from godiag.analysis.goroutine_rules import package_of
from godiag.analysis.rootcause import locate
from godiag.model.profile import Profile

# A container's store is few large objects: one backing array per slice, a handful of
# tables per map (Go's maps split at 1,024 slots: ~25 KiB tables of pointer entries).
# 4 KiB is a 512-element slice of pointers; values kept by a leak are mostly smaller
# (headers, records, documents of a few hundred bytes), and a value site holding larger
# ones is left as it is (container-like, so named itself).
MIN_OBJECT = 4096
# Reallocated as it grows: a slice grown by append allocated 1.25-2x what its last array
# holds (the earlier arrays are freed), a map the same by doubling; kept values allocated
# what they hold. A store of this many live objects or fewer is one or a few containers
# even when the sampler caught none of their freed predecessors.
CHURN = 1.3
FEW_OBJECTS = 32
# What a container with no call path to the values must have grown by since a stored
# baseline to be named: two sampling periods of the heap profile, not a sampler's step.
UNTIED_MIN = 1 << 20
# How far up the two stacks the tie may be: the value's function, its caller or theirs;
# further up every site of a server shares its accept loop.
MAX_DEPTH = 3


@dataclass(frozen=True)
class SiteStats:
    inuse: int = 0
    objects: int = 0
    allocated: int = 0
    leaf: bool = True  # every sample's leaf frame is the site itself


# A site and the user frames it was reached by, leaf first, MAX_DEPTH callers up: one line
# can allocate a slice's store on one path and small values on another.
Path = tuple[sites.Site, ...]


@dataclass(frozen=True)
class Keeper:
    site: sites.Site
    value: sites.Site
    grew: int | None  # its live bytes' growth since the reference, None without one
    objects: int
    churn: float
    line: str


def _at(site: sites.Site) -> str:
    return locate.where(locate.loc(site))


_CLOSURE = re.compile(r"(\.func\d+|\.gowrap\d+|\.deferwrap\d+|\.\d+)+$")
_DECLARED = re.compile(r"(\(\*?[^()]+\)\.)?[^.()]+$")


def code(function: str) -> str:
    """The function a frame's code was written in: a closure's `.funcN` dropped, and the
    inlined instances' prefixes (`(*api).routes.(*api).wrap.func2` is `wrap`'s closure)."""
    name = _CLOSURE.sub("", function)
    m = _DECLARED.search(name)
    return m.group(0) if m else name


def stats(profile: Profile, prefix: str | None) -> dict[Path, SiteStats]:
    """Per user site (sites.pick) and user path to it, its live and allocated bytes, live
    objects, and whether its samples are allocations at the site's own line."""
    idx = {st.type: i for i, st in enumerate(profile.sample_types)}
    if not {"inuse_space", "inuse_objects", "alloc_space"} <= set(idx):
        return {}
    out: dict[Path, SiteStats] = {}
    for smp in profile.samples:
        frames = sites._frames(smp.locations)
        if sites.observing(frames, prefix):
            continue
        site = sites.pick(frames, prefix)
        if site is None:
            continue
        v = smp.values
        inuse, objects, made = v[idx["inuse_space"]], v[idx["inuse_objects"]], v[idx["alloc_space"]]
        if not made and not inuse:
            continue
        up = frames[frames.index(site) :]
        path = (site, *[f for f in up[1:] if sites.is_user(f[0], prefix)][:MAX_DEPTH])
        was = out.get(path, SiteStats())
        out[path] = SiteStats(was.inuse + inuse, was.objects + objects, was.allocated + made,
                              was.leaf and frames[0] == site)  # fmt: skip
    return out


def container_like(s: SiteStats, grown: bool = True) -> bool:
    """Few large objects made at the site's own line, and evidence that it grows: it grew
    since a reference (`grown`), or it was reallocated (CHURN). A store of FEW_OBJECTS
    counts as one only beside such a growth: a table sized once at start has no churn."""
    if s.inuse <= 0 or not _large_here(s):
        return False
    return s.allocated >= CHURN * s.inuse or (grown and s.objects <= FEW_OBJECTS)


def _large_here(s: SiteStats) -> bool:
    """Large objects made at the site's own line (`make([]T, n)`, an append): the line
    that keeps them, or as near it as the profile can say."""
    return s.leaf and s.objects > 0 and s.inuse / s.objects >= MIN_OBJECT


def _tie(a: Path, b: Path) -> int | None:
    """How close two user paths meet: the least sum of the depths at which they share the
    code of a function (`code`); None when they do not."""
    best = None
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            if (x[1], code(x[0])) == (y[1], code(y[0])) and (best is None or i + j < best):
                best = i + j
    return best


def keeper(
    value: sites.Site,
    end: Profile,
    ref: Profile | None,
    prefix: str | None,
    must_grow: bool = True,
    now: dict[Path, SiteStats] | None = None,
) -> Keeper | None:
    """The container that keeps what `value` allocated (the module's docstring), from the
    end heap profile and, when there is one, a reference profile: since a stored baseline
    minutes old the container must have grown (`must_grow`); since the window's start,
    seconds in which a slice seldom reallocates, only not have shrunk. Without growth, its
    reallocations are the evidence that it grows. `now`: `stats(end, prefix)` when the
    caller has it."""
    now = stats(end, prefix) if now is None else now
    values = [p for p in now if p[0] == value]
    whole = SiteStats(sum(now[p].inuse for p in values), sum(now[p].objects for p in values),
                      0, all(now[p].leaf for p in values))  # fmt: skip
    if not values or _large_here(whole):
        return None
    before = stats(ref, prefix) if ref is not None else {}
    grown = {p: s.inuse - before[p].inuse if p in before else s.inuse for p, s in now.items()}
    found: list[tuple[int, int, Path]] = []
    untied: list[Path] = []
    for path, s in now.items():
        if path[0] == value or (ref is not None and grown[path] < (1 if must_grow else 0)):
            continue
        if not container_like(s, grown=ref is not None and grown[path] > 0):
            continue
        ties = [t for v in values if now[v].inuse > 0 and (t := _tie(v, path)) is not None]
        if ties:
            found.append((min(ties), -s.inuse, path))
        elif ref is not None and must_grow and grown[path] >= UNTIED_MIN:
            untied.append(path)
    if not found:
        # values handed over through a channel or a queue leave no call path between the
        # code that made them and the one that keeps them: since a stored baseline, the one
        # container that grew by a sampler-proof amount is named, and the evidence says
        # nothing ties it
        if len({p[0] for p in untied}) != 1:
            return None
        best = max(untied, key=lambda p: now[p].inuse)
        return _found(best, value, now[best], grown[best], tied=False)
    found.sort()
    best = found[0][2]
    if any(t == found[0][0] and p[0][0] != best[0][0] for t, _, p in found[1:]):
        return None  # two containers as close: the profile does not say which keeps it
    return _found(best, value, now[best], grown[best] if ref is not None else None, tied=True)


def _found(path: Path, value: sites.Site, s: SiteStats, grew: int | None, tied: bool) -> Keeper:
    churn = s.allocated / s.inuse
    how = [f"{s.inuse / 2**20:.2f} MiB in {s.objects} live objects"]
    if grew is not None:
        how.append(f"+{grew / 2**20:.2f} MiB since the reference")
    if churn >= CHURN:
        how.append(f"allocated {churn:.1f}x what it holds: reallocated as it grows")
    if tied:
        why = (f"on the path of the code that allocated the values at {_at(value)}: made "
               f"there, kept here")  # fmt: skip
    else:
        why = (f"the only slice or map that grew since the reference; no call path ties it to "
               f"the values allocated at {_at(value)} (values handed over through a "
               f"channel or a queue leave none), so it is the likeliest keeper, not a proven "
               f"one")  # fmt: skip
    line = f"kept by the slice or map grown at {_at(path[0])} ({'; '.join(how)}), {why}"
    return Keeper(path[0], value, grew, s.objects, churn, line)


# Names of helpers that make and return a value (a constructor, an encoder, a renderer):
# what they allocate is kept, or not, by whoever called them, as connection helpers hand
# over to their caller (sites.pick_owner).
MAKERS = ("new", "make", "build", "render", "format", "encode", "marshal", "pack", "clone",
          "copy", "display")  # fmt: skip


def maker_caller(
    value: sites.Site,
    end: Profile,
    prefix: str | None,
    now: dict[Path, SiteStats] | None = None,
) -> Keeper | None:
    """When no container is tied to the values and the code that allocated them is a
    helper named as one that makes values (MAKERS), its caller in the same package, on
    the path holding most of them: the code that received the value and kept it."""
    now = stats(end, prefix) if now is None else now
    paths = [(s.inuse, p) for p, s in now.items() if p[0] == value]
    name = code(value[0]).rsplit(".", 1)[-1].lower()
    if not paths or not name.startswith(MAKERS):
        return None
    _, path = max(paths)
    if len(path) < 2 or package_of(path[1][0]) != package_of(value[0]):
        return None
    caller = path[1]
    return Keeper(caller, value, None, 0, 0.0, (
        f"allocated by {_at(value)}, a helper that makes values by its name; its caller "
        f"{_at(caller)} received them, and keeps them or hands them to what does"))  # fmt: skip


def located(
    value: sites.Site, end: Profile, ref: Profile | None, prefix: str | None, must_grow: bool
) -> Keeper | None:
    """`keeper`, else `maker_caller`, over one reading of the end profile."""
    now = stats(end, prefix)
    return keeper(value, end, ref, prefix, must_grow, now) or maker_caller(value, end, prefix, now)
