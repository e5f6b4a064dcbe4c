"""Rule 1 from the stored reference: growth per allocation site and per goroutine group
since the baseline capture, and when it decides; rule 6 (`looping_line`): goroutines
blocked at the same place in the reference that woke in between."""

from __future__ import annotations

from typing import Any

from godiag.analysis import sites
from godiag.analysis.goroutine_rules import BLOCKED, is_stdlib
from godiag.analysis.goroutines import Group, GroupGrowth, Sig, group, growth
from godiag.analysis.rootcause import locate
from godiag.analysis.rootcause.derived import Derived
from godiag.analysis.rootcause.longterm.common import (
    CORROBORATE_MIN_S,
    GOROUTINE_MIN,
    GOROUTINE_MIN_DOUBLED,
    HEAP_MIN_BYTES,
    HISTORY_GROWTH_MIN,
    OLD_WAIT_MIN,
    GoroutinesSince,
    HeapSince,
    LongTerm,
    _ago,
    before_start,
)
from godiag.analysis.rootcause.longterm.connections import _is_conn_group
from godiag.analysis.rules.memory_leak import DEFAULT_PERIOD
from godiag.model.observation import Observation

HEAP_SITE_SHARE = 0.5
# what a site allocated and how many of its objects stay live, reference -> end
KEPT_VALUES = ("alloc_space", "inuse_objects")
# Since a reference, a leak's site keeps what it allocated; a container grown by
# reallocation keeps 1/5 of it (Go's slowest slice growth), in one live object. A site that
# kept under TURNOVER of its bytes, in MANY_OBJECTS more live objects or more, frees most
# of what it allocates: entries replaced as they come (a bounded cache that evicts); the
# margin over 1/5 is the heap profile's sampling.
TURNOVER = 0.25
MANY_OBJECTS = 32
# The site's growth within the window against its growth since the baseline. A leak grows
# at its rate in both. A site that grew within the window's seconds by SWING_SHARE or more
# of what it gained since a reference minutes old swings with the load (Prometheus's pooled
# point slices: +9.8 MB in 75 s, +18 MB within a 5 s window); one that its rate since the
# baseline says should have grown by STEP_MIN_BYTES or more in the window, and grew by less
# than a quarter of that, stepped up once (the same pool: +32.8 MB in 75 s, +0 in the window).
# "Moved" is the site's range over the window's heap snapshots (ends and those between),
# up or down: a level that falls by half of the difference within seconds (a burst of
# connections that finishes) makes two points minutes apart say nothing about a trend.
SWING_SHARE = 0.5
STEP_MIN_BYTES = 4 * DEFAULT_PERIOD


def _by_function(d: dict[sites.Site, int]) -> dict[sites.Site, int]:
    """Per-line values summed per function (line 0)."""
    out: dict[sites.Site, int] = {}
    for (fn, file, _), v in d.items():
        out[(fn, file, 0)] = out.get((fn, file, 0), 0) + v
    return out


def heap_since(obs: Observation, prefix: str | None) -> HeapSince | None:
    """The live heap's growth since the stored baseline, and the function it grew most in,
    at that function's line that grew most. By function, not by line: a value built in
    steps (a strings.Builder's Fprintf calls, appends in turn) is allocated at several
    lines of one function, each a fraction of what the leak keeps. What the function
    allocated and its level within the window are those of its lines that grew."""
    if obs.baseline_heap is None or not obs.heap or before_start(obs, "heap") is not None:
        return None

    def by(p: Any, value: str = "inuse_space") -> dict[sites.Site, int]:
        return sites.by_site(p, value, prefix, chooser=sites.pick_or_innermost)

    base, end = by(obs.baseline_heap), by(obs.heap[-1])
    total = sum(end.values()) - sum(base.values())
    grew = sites.growth(_by_function(base), _by_function(end))
    hit = sites.top(grew) if grew else None
    if hit is None:
        return HeapSince(obs.baseline_ages.get("heap", 0.0), total, None, 0, None, 0.0)
    key, amount = hit
    lines = {s: v - base.get(s, 0) for s, v in end.items() if s[:2] == key[:2]}
    site = max(lines.items(), key=lambda kv: (kv[1], kv[0]))[0]
    # the function's lines that grew: one that only makes scratch (a render buffer freed
    # before the return) keeps nothing and would read as a cache's turnover
    kept = {s for s, v in lines.items() if v > 0}

    def at(p: Any, value: str = "inuse_space") -> int:
        return sum(v for s, v in by(p, value).items() if s in kept)

    window = moved = None
    if len(obs.heap) == 2:
        levels = [at(p) for p in (obs.heap[0], *obs.heap_mid, obs.heap[1])]
        window, moved = levels[-1] - levels[0], max(levels) - min(levels)
    share = amount / total if total > 0 else 0.0
    age = obs.baseline_ages.get("heap", 0.0)
    ends = (obs.baseline_heap, obs.heap[-1])
    allocated, objects = ([at(p, v) for p in ends] for v in KEPT_VALUES)
    busy = (
        (obs.baseline_dump.total, obs.dumps[-1].total) if obs.baseline_dump and obs.dumps else None
    )
    return HeapSince(age, total, site, amount, window, share, obs.duration, moved,
                     allocated[1] - allocated[0], objects[1] - objects[0], busy)  # fmt: skip


def _may_loop(g: GroupGrowth) -> bool:
    """A select outside the standard library (the service's code, a library's) may have a
    timer case and loop, restarting its wait; the standard library's (a client call waiting
    for its answer, a connection's read and write loops) wait once per event, and their wait
    is their age."""
    return g.state.startswith("select") and bool(g.frames) and not is_stdlib(g.frames[0].function)


def _piles_up(g: GroupGrowth) -> bool:
    """Goroutines that can pile up since a reference: blocked ones, and ones asleep for a
    minute or more (a retry or backoff started per event and sleeping for minutes
    accumulates as long as events come faster than the sleeps end; a loop that sleeps
    seconds between its rounds never shows a minute's wait)."""
    return g.category in BLOCKED or (g.category == "sleep" and g.wait_max >= OLD_WAIT_MIN)


def goroutines_since(obs: Observation, prefix: str | None) -> GoroutinesSince | None:
    """The goroutine groups' growth since the stored reference dump (None without one, or
    with one from before the process started)."""
    if obs.baseline_dump is None or not obs.dumps or before_start(obs, "goroutine") is not None:
        return None
    return _goroutines(obs, (group(obs.baseline_dump), group(obs.dumps[-1])), prefix)


# the baseline dump's groups and the end dump's (None without a stored reference)
Groups = tuple[dict[Sig, Group], dict[Sig, Group]] | None


def _goroutines(obs: Observation, pair: Groups, prefix: str | None) -> GoroutinesSince | None:
    # (both callers leave out a reference from before the process started)
    if pair is None or obs.baseline_dump is None:
        return None
    grown = growth(*pair)
    blocked = [g for g in grown if _piles_up(g) and g.growth > 0
               and not locate.observing(g, prefix)]  # fmt: skip
    top = max(blocked, key=lambda g: (g.growth, g.count)) if blocked else None
    then, now = pair
    was = then.get(top.key) if top is not None else None
    alive = len(set(was.ids) & set(now[top.key].ids)) if top is not None and was else 0
    return GoroutinesSince(
        obs.baseline_ages.get("goroutine", 0.0),
        obs.dumps[-1].total - obs.baseline_dump.total,
        top,
        sum(g.growth for g in grown if g.growth > 0
            and (g.category in (*BLOCKED, "io") or _piles_up(g))
            and (g.wait_max >= OLD_WAIT_MIN or _may_loop(g))),
        sum(g.growth for g in grown if g.growth > 0 and _is_conn_group(g)),
        alive,
    )  # fmt: skip


def _growing(derived: Derived, since: GoroutinesSince | None) -> tuple[GroupGrowth, int] | None:
    """The blocked group that grew most in the window (by count among equals), else the
    one that grew since the baseline."""
    grew = [g for g in derived.groups if g.category in BLOCKED and g.growth > 0
            and not locate.observing(g, derived.prefix)]  # fmt: skip
    if grew:
        g = max(grew, key=lambda g: (g.growth, g.count))
        return g, g.growth
    if since is not None and since.top is not None:
        return since.top, since.top.growth
    return None


def _looping(obs: Observation, pair: Groups, prefix: str | None) -> dict[tuple[str, int], int]:
    age = obs.baseline_ages.get("goroutine", 0.0)
    if pair is None or age < 60 * OLD_WAIT_MIN:
        return {}
    then, now = pair
    out: dict[tuple[str, int], int] = {}
    for key, g in now.items():
        was = then.get(key)
        # stuck since before the reference, a goroutine has waited its age at least (the
        # runtime floors minutes): a shorter wait woke in between
        if was is None or g.max_wait >= int(age // 60) or not set(g.ids) & set(was.ids):
            continue
        uf = locate.loc(sites.pick([(f.function, f.file, f.line) for f in g.frames], prefix))
        if uf is not None:
            out[(str(uf["function"]), int(uf["line"]))] = g.count
    return out


def looping_line(loc: dict[str, Any] | None, lt: LongTerm) -> str | None:
    """Why the goroutines a deadlock names are not stuck: the same ones were blocked at the
    same place in the reference, minutes ago, and have waited less than that since."""
    if not loc or (str(loc["function"]), int(loc["line"])) not in lt.looping:
        return None
    ago = lt.goroutines.age_s if lt.goroutines is not None else 0.0
    return (f"the goroutines blocked in {locate.where(loc)} were blocked there in the baseline "
            f"capture {_ago(ago)} ago too, and have waited less than that: they woke and "
            f"came back in between (a loop), they are not stuck")  # fmt: skip


def heap_decisive(h: HeapSince | None) -> bool:
    return bool(
        h is not None
        and h.site is not None
        and h.site_growth >= HEAP_MIN_BYTES
        and h.total_growth >= HEAP_MIN_BYTES
        and h.share >= HEAP_SITE_SHARE
        and (h.site_window is None or h.site_window > -2 * DEFAULT_PERIOD)
        and consistency(h) not in ("swings", "step")
        and not turns_over(h)
        and other_load(h) is None
    )


# A reference taken while the service ran a fraction of the goroutines it runs now (at
# rest, or before its traffic came) and this many fewer: what a service holds grows with its
# load (a write cache, buffers, requests in flight), so the growth since is not a trend.
# The slow eval's references were taken under the diagnosis's load; InfluxDB 1.x at rest
# (17 goroutines) against itself under a write load (47) grew 30 MiB in its TSM write cache.
LOAD_RATIO = 2.0
LOAD_MIN = 16


def other_load(h: HeapSince | None) -> str | None:
    """Why the reference is not comparable with the end (None when it is): it was taken
    with under 1/LOAD_RATIO of the goroutines the service runs now, LOAD_MIN fewer or more."""
    if h is None or h.goroutines is None:
        return None
    then, now = h.goroutines
    if now < LOAD_RATIO * then or now - then < LOAD_MIN:
        return None
    return (f"the baseline capture had {then} goroutines and the end {now}: it was taken "
            f"under a lighter load (at rest, or before the traffic came), and what a service "
            f"holds grows with its load (caches, buffers, requests in flight); a baseline "
            f"taken under the usual load would decide")  # fmt: skip


def retention(h: HeapSince | None) -> float | None:
    """What the top site kept of what it allocated since the reference, when it grew by a
    leak's amount (None: it did not, or the profiles do not say)."""
    if h is None or h.site is None or h.site_growth < HEAP_MIN_BYTES:
        return None
    return h.site_growth / h.site_allocated if h.site_allocated and h.site_allocated > 0 else None


def turns_over(h: HeapSince | None) -> bool:
    """The top site frees most of what it allocated since the reference (`frees_most`)."""
    return h is not None and frees_most(retention(h), h.site_objects)


def frees_most(kept: float | None, objects: int | None) -> bool:
    """Under TURNOVER of the bytes kept, in MANY_OBJECTS more live objects or more."""
    return kept is not None and objects is not None and kept < TURNOVER and objects >= MANY_OBJECTS


def consistency(h: HeapSince | None) -> str | None:
    """How the top site's growth within the window compares with its growth since the
    baseline: "swings", "step", "steady", or None (one heap snapshot, no growth)."""
    if h is None or h.site_window is None or h.site_growth <= 0:
        return None
    moved = h.site_window if h.site_range is None else h.site_range
    if moved >= SWING_SHARE * h.site_growth:
        return "swings"
    expected = h.site_growth * h.window_s / h.age_s if h.age_s > 0 else 0.0
    if expected >= STEP_MIN_BYTES and h.site_window < expected / 4:
        return "step"
    return "steady"


def goroutines_decisive(g: GoroutinesSince | None) -> bool:
    return bool(
        g is not None
        and g.top is not None
        and (
            g.top.growth >= GOROUTINE_MIN
            or (g.top.growth >= GOROUTINE_MIN_DOUBLED and g.top.growth >= g.top.before)
        )
        and (g.top.wait_max >= OLD_WAIT_MIN or lived_through(g))
    )


# Of the top group's goroutines in the reference, at least this many, and half, are the
# same goroutines at the end: a group that grew while its members stayed. A burst's
# goroutines are gone minutes later (its group, if caught again, is new goroutines); a pool
# that recycles its workers keeps few of them.
SURVIVORS_MIN = 2
# Where a loop parks between its rounds (a select or a receive on a ticker, a sleep): a
# wait that restarts at each round. Not a lock: waiters that lose the race for a mutex park
# again, their wait restarts too, and a queue of requests behind a held lock that never
# drains keeps the same goroutines for minutes (lock contention, not a leak).
LOOP_WAITS = ("select", "channel", "sleep")


# An HTTP/1 server's connection goroutine serves one request after another on a keep-alive
# connection: the same goroutine id in a handler minutes apart is two requests, not one
# that stayed. (HTTP/2 runs each request on a goroutine of its own.)
SERVER_CONN = ("net/http.(*conn).serve",)


def lived_through(g: GoroutinesSince) -> bool:
    """The top group's goroutines of a reference a minute old or more are, for the most
    part, still there, parked where a loop waits between rounds: they live as long as the
    reference is old, the way an old wait shows it for goroutines that never wake (a loop
    on a ticker restarts its wait at every tick). Not request handlers (SERVER_CONN)."""
    t = g.top
    return (
        t is not None
        and t.category in LOOP_WAITS
        and not any(f.function.startswith(SERVER_CONN) for f in t.frames)
        and g.age_s >= 60 * OLD_WAIT_MIN
        and g.survivors >= SURVIVORS_MIN
        and 2 * g.survivors >= t.before
    )


def by_ids(g: GoroutinesSince | None) -> bool:
    """Decisive through `lived_through` alone: no old wait to show it."""
    return bool(g is not None and g.top is not None and g.top.wait_max < OLD_WAIT_MIN
                and lived_through(g))  # fmt: skip


def history_decisive(lt: LongTerm, series: str) -> bool:
    """The series grew linearly, by a leak's amount, over CORROBORATE_MIN_S or more."""
    t = lt.trends.get(series)
    return bool(
        t is not None
        and t.shape == "linear"
        and t.span_s >= CORROBORATE_MIN_S
        and t.delta >= HISTORY_GROWTH_MIN[series]
    )
