"""What happened before the window: the stored baseline and the Prometheus history.

A diagnosis window is seconds long; real leaks are slow (a goroutine a second, tens of KB
a minute), below the window's noise and below the heap sampler, and obvious over
minutes. Two references reach further back:

- the service's stored reference capture (`Observation.baseline_heap` / `baseline_dump`:
  its newest marked baseline, else its oldest capture within the lookback): growth per
  allocation site and per goroutine group since then, with the baseline's age;
- the target's series in the configured Prometheus over the lookback
  (`Observation.trends`), each reduced to a `history.Trend` (slope, monotonicity, shape).

Neither is a model input (the training data has neither). They act after the model, in
one place (`adjust` and `doubt`), by two rules, each written into the cause's evidence:

1. decisive (`adjust`): memory-leak when the live heap grew by MBs since the baseline at
   one site (the site holds at least half of the growth, the site and the total each
   grew by HEAP_MIN_BYTES or more) and the window does not contradict it (the site did
   not shrink by two sampling periods during the window); goroutine-leak when one
   blocked group grew by GOROUTINE_MIN or more since the baseline (or by
   GOROUTINE_MIN_DOUBLED and at least doubled) and its goroutines
   have waited a minute or more (a burst that drains has young waits); or either kind
   when Prometheus shows its series growing linearly over CORROBORATE_MIN_S or more
   (its evidence line then says "corroborates"). Goroutines that grew that way are a
   connection-leak instead when a share of them are connections' own goroutines and almost
   none wait in a client call on them (`connections_left_open`: response bodies or clients
   never closed; a call that never returns keeps a caller per connection and stays a
   goroutine leak), or when they wait for a pooled connection (`_pool_exhausted`). Neither
   baseline rule decides when Prometheus saw the series stop growing (`_stopped`). The
   kind's probability moves half-way
   to 1 and to at least RAISED; the others share the rest in their proportions.
2. doubt (`doubt`): a confident "healthy" while the baseline shows heap growth of rule
   1's size that rule 1 did not find decisive (spread over sites, or shrinking in the
   window), or a Prometheus series growing linearly over a shorter span, is reported as
   not sure, naming the growth. Goroutines that grew since the baseline with young waits
   are a batch running now, not a doubt.

Two more act in the same places. 5. cleared (`cleared`, in `adjust`): since a reference
CLEAR_AGE_S old or more under which nothing stayed (the heap under HEAP_MIN_BYTES at any
site; goroutines added only with young waits), or with a Prometheus series flat, periodic
or declining, the kinds that accumulate keep CLEARED of their probability. 6. looping
(`looping_line`): a deadlock whose named goroutines were blocked at the same place in a
reference a minute old or more, yet have waited less than its age, is not sure, and
deadlock keeps CLEARED of its probability as in rule 5. 7. inversion
(decisive in `adjust` as rule 1 is): a lock-order cycle in the end dump (lockcycle,
`LongTerm.cycle`), or (`inversion`) lock waiters that have waited a minute or more in two
functions or more with no holder seen, are a deadlock; the dump's own wait ages reach
before the window, and a cycle never resolves. 8. arrivals (`arrivals`, decisive in
`adjust` as rule 1 is): with no baseline dump, a go_goroutines history that grew linearly
for two minutes or more, held by one blocked group whose goroutines parked one by one
throughout it and stayed (their waits spread over ARRIVAL_MINUTES whole minutes or more,
half of them a minute old or more, the oldest as old as the history): the count's trend
says the goroutines grew, the waits say they are the same goroutines and never left. A
ramp's goroutines are requests in flight (young waits); a pool or a set of watches started
at once parks at one time (one or two wait values). 9. kept (`retained`, `leads` in
`adjust`): with no baseline heap, a live-heap history grown linearly by HEAP_MIN_BYTES or
more over CLEAR_AGE_S or more, go_goroutines not growing alongside, and a site of the
end heap profile holding KEEP_SHARE or more of all it allocated since the process started
(alloc_space is cumulative): memory-leak ranks first at LEAD, at that site, not sure
(`undecided`): a cache still filling keeps what it allocates too.

goroutine-leak's own `unsupported` reads `history_goroutines_shape`: a count that
Prometheus saw flat, periodic or declining over the lookback is not a leak (batches that
drain).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from godiag.analysis import history, sites
from godiag.analysis.goroutine_rules import BLOCKED, is_stdlib
from godiag.analysis.goroutines import Group, GroupGrowth, Sig, group, growth
from godiag.analysis.rootcause import locate
from godiag.analysis.rootcause.derived import Derived
from godiag.analysis.rules.memory_leak import DEFAULT_PERIOD
from godiag.model.observation import Observation

HEAP_MIN_BYTES = 8 * DEFAULT_PERIOD  # 4 MiB: 8 sampling periods, as `check --rule memory-leak`
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
GOROUTINE_MIN = 100
# or fewer, when the group at least doubled since the baseline: a bounded pool or a set of
# long polls keeps its size, a leak a few minutes old is most of its group
GOROUTINE_MIN_DOUBLED = 20
OLD_WAIT_MIN = 1  # minutes a group's longest waiter has waited (Go prints whole minutes)
CORROBORATE_MIN_S = 600.0  # a linear history this long is a leak, not a ramp
HISTORY_MIN_S = 60.0  # a count not growing over this long rules a leak out
# history shapes (analysis/history.py) a leak does not have: goroutine-leak's and
# memory-leak's `unsupported` rule a leak out with them
NOT_GROWING = ("flat", "periodic", "declining")
HISTORY_GROWTH_MIN = {"go_goroutines": 50.0, "heap_live_bytes": float(HEAP_MIN_BYTES)}
RAISED = 0.75
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

# name -> (unit, source): reported and shown, not model inputs (ranker.SKIP)
FEATURES: dict[str, tuple[str, str]] = {
    "baseline_age_minutes": ("minutes", "age of the stored reference capture (heap, else dump)"),
    "baseline_heap_growth_bytes_per_min": (
        "bytes/min",
        "stored baseline heap -> end heap: inuse_space growth over the baseline's age",
    ),
    "baseline_top_site_share": ("fraction", "stored baseline heap -> end heap: top site's share"),
    "baseline_site_consistency": (
        "shape",
        "the top site's growth in the window against its rate since the baseline: swings, "
        "step or steady",
    ),
    "baseline_site_retention": (
        "fraction",
        "stored baseline heap -> end heap, at the top site when decisive: inuse_space growth / "
        "alloc_space growth",
    ),
    "baseline_site_objects": (
        "count",
        "stored baseline heap -> end heap, at the top site when decisive: inuse_objects growth",
    ),
    "baseline_goroutine_growth_per_min": (
        "goroutines/min",
        "stored baseline dump -> end dump: fastest-growing blocked group",
    ),
    "history_minutes": ("minutes", "Prometheus history: span of go_goroutines"),
    "history_goroutines_delta": ("goroutines", "Prometheus history: go_goroutines last - first"),
    "history_goroutines_shape": ("shape", "Prometheus history: go_goroutines shape"),
    "history_heap_growth_bytes_per_min": ("bytes/min", "Prometheus history: live heap slope"),
    "history_heap_shape": ("shape", "Prometheus history: live heap shape"),
    "history_arrived_goroutines": (
        "count",
        "Prometheus history and end dump: goroutines of the blocked group that parked one by "
        "one while go_goroutines grew, none of them a connection's own (rule 8)",
    ),
    "history_kept_bytes": (
        "bytes",
        "Prometheus history and end heap profile: in-use bytes of the site that kept nearly "
        "all it allocated while the live heap grew linearly (rule 9)",
    ),
    "growing_group_wait_uptime_share": (
        "fraction",
        "end dump: the growing blocked group's longest wait / process uptime "
        "(process_start_time_seconds)",
    ),
}
LABELS = {
    "go_goroutines": ("go_goroutines", ""),
    "heap_live_bytes": ("live heap", " B"),
    "process_open_fds": ("open fds", ""),
    "gc_cycles_per_s": ("GC/s", ""),
    "cpu_seconds_per_s": ("CPU s/s", ""),
}


@dataclass(frozen=True)
class HeapSince:
    age_s: float
    total_growth: int  # bytes, end - baseline, over all sites
    site: sites.Site | None
    site_growth: int
    site_window: int | None  # the site's growth within the window (None: one heap snapshot)
    share: float  # site_growth / total_growth (0 when the total did not grow)
    window_s: float = 0.0  # the window's length (0: unknown)
    # how far the site's level moved within the window: highest - lowest over the two ends
    # and the heap profiles between them (None: one heap snapshot)
    site_range: int | None = None
    # what the site allocated since the reference (alloc_space, cumulative in both
    # profiles) and how many more of its objects are live (inuse_objects); None: unknown
    site_allocated: int | None = None
    site_objects: int | None = None


@dataclass(frozen=True)
class GoroutinesSince:
    age_s: float
    total_growth: int
    top: GroupGrowth | None  # the fastest-growing blocked group since the baseline
    # goroutines added since the baseline to blocked groups (or in network I/O waits: a
    # connection's reader) that may be staying: their oldest have waited OLD_WAIT_MIN or
    # more, or they wait in a select outside the standard library (one with a timer case
    # wakes and loops, restarting its wait, so a young wait there does not show the
    # goroutines came and went). A burst running now waits young on a channel, a lock, a
    # network read or a client call's answer.
    may_stay: int = 0
    # goroutines added since the baseline that are connections' own (`_is_conn_goroutine`)
    conn_growth: int = 0


@dataclass(frozen=True)
class Kept:
    """Rule 9's site of the end heap profile: what it holds and what it ever allocated."""

    site: sites.Site
    inuse: int
    allocated: int
    line: str


@dataclass(frozen=True)
class LongTerm:
    heap: HeapSince | None = None
    goroutines: GoroutinesSince | None = None
    trends: dict[str, history.Trend] = field(default_factory=dict)
    lookback_s: float = 0.0
    prefix: str | None = None
    # seconds the process had run at the end of the window (process_start_time_seconds)
    uptime_s: float | None = None
    # the blocked group that grew (in the window, else since the baseline) and by how many
    growing: tuple[GroupGrowth, int] | None = None
    # the end dump's goroutines that are connections' own (`_is_conn_goroutine`) and those
    # waiting inside a client call (a caller of a connection)
    connections: tuple[int, int] = (0, 0)
    end_goroutines: int = 0  # goroutines in the end dump
    # user functions (file:line sites) of blocked groups whose same goroutines were blocked at
    # the same place in a reference a minute old or more, yet have waited under a minute:
    # they woke and came back in between (a loop), they are not stuck -> their count
    looping: dict[tuple[str, int], int] = field(default_factory=dict)
    # the age of a stored reference left out because it predates the process's start
    stale_reference_s: float | None = None
    # lock waiters a minute old in two functions or more, no holder seen (`inversion`)
    inversion: locate.Located | None = None
    cycle: int = 0  # goroutines in the end dump's lock-order cycle (lockcycle)
    # rule 8: the group that arrived throughout a linear go_goroutines history, and its line
    # (None too when a baseline dump of this process is there: rule 1 compares with it)
    arrived: tuple[GroupGrowth, str] | None = None
    # rule 9: the heap site that kept what it allocated while the live heap's history grew
    # linearly, and its line (None too when a baseline heap is there: rule 1 compares)
    kept: Kept | None = None


# clocks: the process's start is the target's clock, a capture's time godiag's
CLOCK_SLACK_S = 60.0


def before_start(obs: Observation, kind: str) -> float | None:
    """The age (s) of the stored reference of `kind` ("heap", "goroutine") when it was taken
    before the process started: a restart since, and the reference is another process's
    heap or goroutines, nothing this one grew from. None when it is this process's (or
    either time is unknown: process_start_time_seconds is not exported)."""
    up, age = _uptime(obs), obs.baseline_ages.get(kind)
    if up is None or age is None:
        return None
    return age if age > up - obs.duration + CLOCK_SLACK_S else None


def heap_since(obs: Observation, prefix: str | None) -> HeapSince | None:
    if obs.baseline_heap is None or not obs.heap or before_start(obs, "heap") is not None:
        return None

    def by(p: Any, value: str = "inuse_space") -> dict[sites.Site, int]:
        return sites.by_site(p, value, prefix, chooser=sites.pick_or_innermost)

    base, end = by(obs.baseline_heap), by(obs.heap[-1])
    total = sum(end.values()) - sum(base.values())
    grew = sites.growth(base, end)
    hit = sites.top(grew) if grew else None
    if hit is None:
        return HeapSince(obs.baseline_ages.get("heap", 0.0), total, None, 0, None, 0.0)
    site, amount = hit
    window = moved = None
    if len(obs.heap) == 2:
        levels = [by(p).get(site, 0) for p in (obs.heap[0], *obs.heap_mid, obs.heap[1])]
        window, moved = levels[-1] - levels[0], max(levels) - min(levels)
    share = amount / total if total > 0 else 0.0
    age = obs.baseline_ages.get("heap", 0.0)
    ends = (obs.baseline_heap, obs.heap[-1])
    allocated, objects = ([by(p, v).get(site, 0) for p in ends] for v in KEPT_VALUES)
    return HeapSince(age, total, site, amount, window, share, obs.duration, moved,
                     allocated[1] - allocated[0], objects[1] - objects[0])  # fmt: skip


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
    return GoroutinesSince(
        obs.baseline_ages.get("goroutine", 0.0),
        obs.dumps[-1].total - obs.baseline_dump.total,
        top,
        sum(g.growth for g in grown if g.growth > 0
            and (g.category in (*BLOCKED, "io") or _piles_up(g))
            and (g.wait_max >= OLD_WAIT_MIN or _may_loop(g))),
        sum(g.growth for g in grown if g.growth > 0 and _is_conn_group(g)),
    )  # fmt: skip


def _uptime(obs: Observation) -> float | None:
    """Seconds between process_start_time_seconds and the last metrics capture."""
    started = next((s.values["process_start_time_seconds"] for s in reversed(obs.samples)
                    if "process_start_time_seconds" in s.values), None)  # fmt: skip
    at = max((c.captured_at.timestamp() for c in obs.captures if c.profile_type == "metrics"),
             default=None)  # fmt: skip
    if started is None or at is None or started <= 0 or at <= started:
        return None
    return at - started


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


# A connection's own goroutines: net/http's transport loops (sites.CONN_LOOPS, created by
# dialConn), alive as long as the connection is open.
CONN_DIALER = "net/http.(*Transport).dialConn"
# Callers per leaked connection above which the goroutines that grew are stuck callers (a
# request that never returns holds its connection too: a goroutine leak whose goroutines
# happen to be in a client call), not connections nobody holds any more. A connection has
# two goroutines of its own; a stuck call adds one caller: 1/2 per connection. A body never
# closed adds none.
CONN_CALLERS_MAX = 0.25
# Of the goroutines added since the baseline, the share that are connections' own above
# which the leaked units hold connections: a net/http connection is two goroutines, a gRPC
# ClientConn one reader among eight (writer, keepalive, callback serializers), and a client
# with a resolver or balancer more; a goroutine leak without connections adds none.
CONN_GROWTH_SHARE = 1 / 16


# Any client library's connection has a reader: a goroutine parked in a network read
# (gRPC's transport reader, a database driver's) that the library started. One started
# by a server's side of a connection (an in-process server) is the far end, not the
# service's own connection: its creator names a server.
NET_READ = "internal/poll.(*pollDesc).waitRead"
# client calls of libraries other than net/http (gRPC's unary and stream calls)
CALLS = (*sites.NET_CLIENT, "google.golang.org/grpc.(*ClientConn).Invoke",
         "google.golang.org/grpc.(*clientStream)")  # fmt: skip


def _is_conn_goroutine(fns: list[str], made: str) -> bool:
    if made.startswith(CONN_DIALER) or any(fn.startswith(sites.CONN_LOOPS) for fn in fns):
        return True
    server = "server" in made.lower() or made.startswith("net/http.(*conn")
    return NET_READ in fns and bool(made) and not server and not made.startswith("main.")


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


def _connections(obs: Observation) -> tuple[int, int]:
    if not obs.dumps:
        return 0, 0
    own = callers = 0
    for g in obs.dumps[-1].goroutines:
        fns = [f.function for f in g.frames]
        made = g.created_by.function if g.created_by is not None else ""
        if _is_conn_goroutine(fns, made):
            own += g.count
        elif any(fn.startswith(CALLS) for fn in fns):
            callers += g.count
    return own, callers


def connections_left_open(lt: LongTerm) -> str | None:
    """Why the goroutines that grew are connections left open rather than leaked goroutines:
    a share of what grew since the baseline (with no baseline: most of the service's
    goroutines) are connections' own, and almost none has a caller waiting on it (a response
    body never read or closed, a client never closed, keeps its connection with no caller)."""
    own, callers = lt.connections
    g = lt.goroutines
    if own == 0 or callers > CONN_CALLERS_MAX * own:
        return None
    if g is not None:  # what grew since the baseline: connections, a share of it or more
        if g.conn_growth < max(GOROUTINE_MIN_DOUBLED, CONN_GROWTH_SHARE * g.total_growth):
            return None
    elif own < lt.end_goroutines / 2:  # history only: most goroutines are connections'
        return None
    return (f"{own:,} of the goroutines are connections' own (transport read/write loops, "
            f"network readers) and {callers:,} wait in a client call on them: connections "
            f"left open")  # fmt: skip


# Waiting to be handed a pooled connection: database/sql's pool has none free and is at
# its limit. Goroutines piling up there are the victims of connections not given back
# (rows or transactions left open), not leaked goroutines of their own.
POOL_WAIT = ("database/sql.(*DB).conn",)


def _pool_exhausted(lt: LongTerm) -> str | None:
    g = lt.goroutines
    top = g.top if g is not None else (lt.growing[0] if lt.growing is not None else None)
    if top is None or not any(f.function.startswith(POOL_WAIT) for f in top.frames):
        return None
    return (
        f"the {top.count:,} goroutines that grew wait in {top.frames[0].function} for a "
        f"pooled connection: the pool is exhausted, its connections are not given back"
    )


def _is_conn_group(t: GroupGrowth) -> bool:
    made = t.group.created_by.function if t.group.created_by is not None else ""
    return _is_conn_goroutine([f.function for f in t.frames], made)


def _trends(obs: Observation) -> dict[str, history.Trend]:
    """The observation's Prometheus series, each reduced to its trend (those too short for
    one left out)."""
    return {n: t for n, pts in obs.trends.items() if (t := history.trend(pts)) is not None}


def gather(obs: Observation, derived: Derived) -> LongTerm:
    trends = _trends(obs)
    pair = None
    # grouped once for both comparisons; a reference from before a restart is none
    if obs.baseline_dump is not None and obs.dumps and before_start(obs, "goroutine") is None:
        pair = (group(obs.baseline_dump), group(obs.dumps[-1]))
    since = _goroutines(obs, pair, derived.prefix)
    came = arrivals(trends.get("go_goroutines"), derived) if since is None else None
    heap = heap_since(obs, derived.prefix)
    kept = retained(obs, trends, derived.prefix) if obs.baseline_heap is None else None
    return LongTerm(heap, since, trends, obs.lookback,
                    derived.prefix, _uptime(obs), _growing(derived, since), _connections(obs),
                    obs.dumps[-1].total if obs.dumps else 0,
                    _looping(obs, pair, derived.prefix),
                    before_start(obs, "heap") or before_start(obs, "goroutine"),
                    inversion(derived), len(derived.cycle),
                    came, kept)  # fmt: skip


# Rule 8: whole-minute wait values among one group's goroutines that show they parked one
# by one (a leak adds some every minute; a pool started at once shows one value, two with
# a late joiner), and the share of the group that has waited a minute or more
ARRIVAL_MINUTES = 3
STAY_SHARE = 0.5


def arrivals(t: history.Trend | None, derived: Derived) -> tuple[GroupGrowth, str] | None:
    """Rule 8 of the module's docstring: the blocked group that holds a linear go_goroutines
    history's growth, its goroutines parked throughout the history and still there, with the
    line that says so (None when there is no such history or group)."""
    if (t is None or t.shape != "linear" or t.span_s < CLEAR_AGE_S
            or t.delta < HISTORY_GROWTH_MIN["go_goroutines"]):  # fmt: skip
        return None
    prefix = derived.prefix
    # (lock waiters piling up are deadlock's and contention's: rule 7)
    cands = [
        g
        for g in derived.groups
        if g.count > 0
        and _piles_up(g)
        and g.category != "lock"
        and not locate.observing(g, prefix)
        and locate.user(g, prefix) is not None
    ]
    if not cands:
        return None
    g = max(cands, key=lambda g: (_old(g), g.count))
    waits = g.group.waits
    if (
        g.count < t.delta / 2
        or _old(g) < STAY_SHARE * g.count
        or len(waits) < ARRIVAL_MINUTES
        or g.wait_max < t.minutes - 1
    ):
        return None
    where = locate.where(locate.user(g, prefix))
    how = "asleep" if g.category == "sleep" else f"blocked on {g.state}"
    return g, (f"{g.count:,} goroutines {how} in {where} parked one by one over the "
               f"{t.minutes:.0f} min that go_goroutines grew by {t.delta:+,.0f} and none left: "
               f"their waits run from {min(waits)} to {g.wait_max} min, {_old(g):,} of them a "
               f"minute or more")  # fmt: skip


def arrived(obs: Observation, derived: Derived) -> tuple[GroupGrowth, str] | None:
    """Rule 8 from the observation itself, for the locators (which call it, as `gather`
    does, only when no baseline dump of this process is there to compare with)."""
    pts = obs.trends.get("go_goroutines")
    return arrivals(history.trend(pts), derived) if pts else None


# Rule 9: what a leaking site holds of all it allocated since the process started (the heap
# profile's alloc_space is cumulative, its inuse_space what the last GC found live). A leak
# keeps nearly all of it; a working set that comes and goes with requests keeps what is in
# flight (a streaming handler's frames: 71% at most in these recordings) and a pool or
# buffer reused keeps one round. Four sampling periods at least, so that the share is not
# one or two samples'.
KEEP_SHARE = 0.8
KEPT_MIN_BYTES = 4 * DEFAULT_PERIOD


def retained(obs: Observation, trends: dict[str, history.Trend], prefix: str | None) -> Kept | None:
    """Rule 9 of the module's docstring: with no baseline heap, a live-heap history grown
    linearly by a leak's amount for CLEAR_AGE_S or more, while go_goroutines did not grow
    by a leak's count (goroutines carry memory of their own: rules 1 and 8 are theirs),
    and the service's site of the end heap profile that holds most among those that kept
    KEEP_SHARE of all they allocated. It points at memory-leak and names the site; it
    does not decide (a cache still filling keeps all it allocates too)."""
    t, g = trends.get("heap_live_bytes"), trends.get("go_goroutines")
    if (t is None or t.shape != "linear" or t.span_s < CLEAR_AGE_S
            or t.delta < HISTORY_GROWTH_MIN["heap_live_bytes"] or not obs.heap):  # fmt: skip
        return None
    if g is not None and g.shape == "linear" and g.delta >= HISTORY_GROWTH_MIN["go_goroutines"]:
        return None
    inuse, alloc = (sites.by_site(obs.heap[-1], v, prefix) for v in ("inuse_space", "alloc_space"))
    cands = [(n, s) for s, n in inuse.items() if sites.is_user(s[0], prefix)
             and n >= KEPT_MIN_BYTES and n >= KEEP_SHARE * alloc.get(s, 0)]  # fmt: skip
    if not cands:
        return None
    n, site = max(cands)
    made = alloc.get(site, 0)
    where = locate.where(locate.loc(site))
    return Kept(site, n, made, (
        f"the live heap grew by {t.delta / 2**20:.1f} MiB, linearly, over the {t.minutes:.1f} "
        f"min of its history, and {where} holds {_mb(n)}, {n / max(1, made):.0%} of all it "
        f"allocated since the process started: a leak keeps what it allocates"))  # fmt: skip


def kept_in(obs: Observation, derived: Derived) -> Kept | None:
    """Rule 9 from the observation itself, for memory-leak's locator (called, as `gather`
    does, only when no baseline heap is there to compare with)."""
    if obs.baseline_heap is not None:
        return None
    return retained(obs, _trends(obs), derived.prefix)


def _old(g: GroupGrowth) -> int:
    """A group's goroutines that have waited a minute or more."""
    return sum(n for w, n in g.group.waits.items() if w >= OLD_WAIT_MIN)


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


def features(lt: LongTerm) -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(FEATURES)
    h, g = lt.heap, lt.goroutines
    age = h.age_s if h is not None else g.age_s if g is not None else None
    if age is not None:
        out["baseline_age_minutes"] = round(age / 60, 2)
    if h is not None and h.age_s > 0:
        out["baseline_heap_growth_bytes_per_min"] = round(h.total_growth / (h.age_s / 60), 1)
        out["baseline_top_site_share"] = round(h.share, 4)
        out["baseline_site_consistency"] = consistency(h)
        if (kept := retention(h)) is not None:
            out["baseline_site_retention"] = round(kept, 4)
            out["baseline_site_objects"] = h.site_objects
    if g is not None and g.age_s > 0:
        grew = g.top.growth if g.top is not None else 0
        out["baseline_goroutine_growth_per_min"] = round(grew / (g.age_s / 60), 2)
    gt = lt.trends.get("go_goroutines")
    if gt is not None:
        out["history_minutes"] = round(gt.minutes, 2)
        out["history_goroutines_delta"] = gt.delta
        out["history_goroutines_shape"] = gt.shape
    if lt.growing is not None and lt.uptime_s:
        share = lt.growing[0].wait_max * 60 / lt.uptime_s
        out["growing_group_wait_uptime_share"] = round(min(1.0, share), 4)
    if lt.arrived is not None and not _is_conn_group(lt.arrived[0]):
        out["history_arrived_goroutines"] = lt.arrived[0].count
    if lt.kept is not None:
        out["history_kept_bytes"] = lt.kept.inuse
    ht = lt.trends.get("heap_live_bytes")
    if ht is not None:
        out["history_heap_growth_bytes_per_min"] = round(ht.slope_per_min, 1)
        out["history_heap_shape"] = ht.shape
    return out


def _mb(n: float) -> str:
    return f"{n / 2**20:.1f} MiB"


def _ago(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def _span(lt: LongTerm) -> str:
    return _ago(lt.lookback_s).replace(" min", "m").replace(" s", "s")


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
    )


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
        and g.top.wait_max >= OLD_WAIT_MIN
    )


def history_decisive(lt: LongTerm, series: str) -> bool:
    """The series grew linearly, by a leak's amount, over CORROBORATE_MIN_S or more."""
    t = lt.trends.get(series)
    return bool(
        t is not None
        and t.shape == "linear"
        and t.span_s >= CORROBORATE_MIN_S
        and t.delta >= HISTORY_GROWTH_MIN[series]
    )


def heap_line(h: HeapSince) -> str:
    where = locate.where(locate.loc(h.site))
    window = "" if h.site_window is None else f", {h.site_window / 2**20:+.2f} MiB in the window"
    return (f"baseline capture {_ago(h.age_s)} ago: live heap {h.total_growth / 2**20:+.1f} MiB, "
            f"{_mb(h.site_growth)} ({h.share:.0%}) at {where}{window}")  # fmt: skip


def goroutine_line(g: GoroutinesSince) -> str:
    assert g.top is not None
    t = g.top
    where = locate.where(locate.loc(t.user_frame) if t.user_frame else None)
    wait = f", waiting up to {t.wait_max} min" if t.wait_max else ""
    how = "asleep" if t.category == "sleep" else f"blocked on {t.state}"
    return (f"baseline capture {_ago(g.age_s)} ago: {t.growth:+d} goroutines {how} "
            f"in {where} ({t.count} now{wait})")  # fmt: skip


def _history_line(lt: LongTerm, series: str) -> str | None:
    t = lt.trends.get(series)
    if t is None:
        return None
    label, unit = LABELS.get(series, (series, ""))
    if series == "heap_live_bytes":
        change = f"{t.delta / 2**20:+.1f} MiB, {t.shape}"
    else:
        change = history.describe(t, unit)
    return f"Prometheus {_span(lt)}: {label} {change} over {t.minutes:.1f} min"


# kind -> the Prometheus series its evidence quotes
_KINDS = {
    "memory-leak": "heap_live_bytes",
    "goroutine-leak": "go_goroutines",
    "deadlock": "go_goroutines",
}


def evidence(kind: str, lt: LongTerm) -> list[str]:
    """The long-term lines of a cause of `kind` (none for kinds they do not speak to)."""
    out: list[str] = []
    series = _KINDS.get(kind)
    if series is None:
        return out
    line = _history_line(lt, series)
    if line is not None:
        out.append(line + (" (corroborates)" if history_decisive(lt, series) else ""))
    h = lt.heap
    # a decisive baseline is the location's own evidence line (kinds/memory_leak.py)
    if kind == "memory-leak" and h is not None and h.site is not None and not heap_decisive(h):
        out.append(heap_line(h))
    # a decisive one is the location's own evidence line (kinds/goroutine_leak.py)
    g = lt.goroutines
    if kind == "goroutine-leak" and g is not None and g.top and not goroutines_decisive(g):
        out.append(goroutine_line(g))
    if kind == "goroutine-leak" and (line := wait_line(lt)) is not None:
        out.append(line)
    return out


def wait_line(lt: LongTerm) -> str | None:
    """The growing group's wait ages against the process's uptime: goroutines that have
    waited most of the uptime in a group that keeps growing have piled up since soon
    after the start (a fixed-size group of workers or listeners waits as long, but does
    not grow, so it is never `growing`)."""
    if lt.growing is None or not lt.uptime_s or lt.growing[0].wait_max < OLD_WAIT_MIN:
        return None
    g, grew = lt.growing
    minutes, up = g.wait_max, lt.uptime_s / 60
    most = " - most of its uptime: they pile up from the start" if minutes >= up / 2 else ""
    return (f"the oldest of this group ({g.count}, {grew:+d}) have waited {minutes} min of the "
            f"process's {up:.0f} min{most}")  # fmt: skip


def _stopped(lt: LongTerm, series: str) -> bool:
    """Prometheus saw the series not growing by its end over HISTORY_MIN_S or more: flat,
    periodic, declining, or grown and levelled off (a cache or pool that filled up). What
    grew since a reference older than the levelling is the filling, not a leak."""
    t = lt.trends.get(series)
    return t is not None and t.span_s >= HISTORY_MIN_S and t.shape in (*NOT_GROWING, "level-off")


def decisive(lt: LongTerm) -> dict[str, str]:
    """Kind -> the rule that decided it (rule 1 of the module's docstring)."""
    out: dict[str, str] = {}
    if heap_decisive(lt.heap) and not _stopped(lt, "heap_live_bytes"):
        out["memory-leak"] = "heap growth at one site since the baseline"
    elif history_decisive(lt, "heap_live_bytes"):
        out["memory-leak"] = "linear live-heap growth in the Prometheus history"
    why = None
    if goroutines_decisive(lt.goroutines) and not _stopped(lt, "go_goroutines"):
        why = "a blocked group grew since the baseline, with old waits"
    elif history_decisive(lt, "go_goroutines"):
        why = "linear go_goroutines growth in the Prometheus history"
    elif lt.arrived is not None and not _stopped(lt, "go_goroutines"):
        why = "goroutines that parked one by one while go_goroutines grew, and stayed"
    if why is not None and (conn := connections_left_open(lt) or _pool_exhausted(lt)) is not None:
        out["connection-leak"] = f"{why}; {conn}"
    elif why is not None:
        out["goroutine-leak"] = why
    if lt.cycle:
        out["deadlock"] = f"a lock-order cycle of {lt.cycle} goroutines in the dump"
    elif lt.inversion is not None:
        out["deadlock"] = "lock waits of a minute or more in two functions, no holder seen"
    return out


# Rule 5: a reference this old has seen a leak at the rates that matter accumulate (30 KB/s
# is 3.5 MB in two minutes; a goroutine a minute has waited a minute), so nothing grown
# since speaks against the kinds that accumulate; what a cleared kind keeps of its
# probability (the rest goes to the other kinds in their proportions).
CLEAR_AGE_S = 120.0
CLEARED = 0.2
# goroutines added with old waits since the reference under which nothing stayed: a few
# come and go with long requests and keep-alive connections
CLEAR_GOROUTINES = 3
_SERIES_OF = {"memory-leak": "heap_live_bytes", "goroutine-leak": "go_goroutines",
              "connection-leak": "process_open_fds"}  # fmt: skip


def cleared(lt: LongTerm) -> dict[str, str]:
    """Kind -> what reaching before the window shows did not accumulate (rule 5)."""
    out: dict[str, str] = {}
    h, g = lt.heap, lt.goroutines
    if (
        h is not None
        and h.age_s >= CLEAR_AGE_S
        and max(h.total_growth, h.site_growth) < HEAP_MIN_BYTES
    ):
        out["memory-leak"] = (f"the live heap changed by {h.total_growth / 2**20:+.1f} MiB since "
                              f"the baseline capture {_ago(h.age_s)} ago (under "
                              f"{HEAP_MIN_BYTES >> 20} MiB at any site)")  # fmt: skip
    if g is not None and g.age_s >= CLEAR_AGE_S and g.may_stay < CLEAR_GOROUTINES:
        line = (f"since the baseline capture {_ago(g.age_s)} ago no goroutine group grew but "
                f"for goroutines waiting under a minute ({g.total_growth:+d} in all): work "
                f"in progress, not goroutines that stay")  # fmt: skip
        out["goroutine-leak"] = out["connection-leak"] = line
    for kind, series in _SERIES_OF.items():
        t = lt.trends.get(series)
        if kind not in out and t is not None and t.shape in NOT_GROWING and t.span_s >= CLEAR_AGE_S:
            out[kind] = f"{_history_line(lt, series)}"
    return out


def adjust(
    ranked: list[tuple[str, float]],
    lt: LongTerm,
    deadlock_at: dict[str, Any] | None = None,
) -> tuple[list[tuple[str, float]], dict[str, str]]:
    """The model's ranking after rules 1 and 5: (ranking, kind -> what moved it and how;
    "healthy" -> what the cleared kinds were, when any was). `deadlock_at`, deadlock's
    location: goroutines there that loop (rule 6) clear deadlock as rule 5 clears the
    kinds that accumulate."""
    probs = dict(ranked)
    notes: dict[str, str] = {}
    raised = decisive(lt)
    against = {k: why for k, why in cleared(lt).items() if k in probs and k not in raised}
    loops = looping_line(deadlock_at, lt)
    if loops is not None and "deadlock" in probs and "deadlock" not in raised:
        against["deadlock"] = loops
    if against and len(against) < len(probs):
        before = dict(probs)
        for k in against:
            probs[k] *= CLEARED
        total = sum(probs.values())
        probs = {k: v / total for k, v in probs.items()}
        for k, why in against.items():
            notes[k] = (f"long-term evidence against: {why} (probability {before[k]:.2f} -> "
                        f"{probs[k]:.2f})")  # fmt: skip
        piled = sorted({why for k, why in against.items() if k != "deadlock"})
        if piled:
            notes["healthy"] = "nothing accumulated before the window: " + "; ".join(piled)
    for kind, why in raised.items():
        if kind not in probs:
            continue
        p = probs[kind]
        new = _move(probs, kind, max(RAISED, p + (1 - p) / 2))
        notes[kind] = f"decisive evidence: {why} (probability {p:.2f} -> {new:.2f})"
    for kind in leads(lt):
        if kind not in probs or probs[kind] >= LEAD or kind in raised:
            continue
        p = probs[kind]
        _move(probs, kind, LEAD)
        notes[kind] = (f"points to it without deciding: a site that kept what it allocated "
                       f"while the live heap grew (probability {p:.2f} -> {LEAD:.2f})")  # fmt: skip
    out = sorted(probs.items(), key=lambda kv: -kv[1])
    return out, notes


def _move(probs: dict[str, float], kind: str, new: float) -> float:
    """Set `kind` to `new` in place, the other kinds sharing the rest in their proportions;
    returns `new`."""
    rest = 1 - probs[kind]
    for k in probs:
        if k != kind:
            probs[k] = probs[k] * (1 - new) / rest if rest > 0 else 0.0
    probs[kind] = new
    return new


# Rule 9 puts its kind first with this probability, more likely than not, and no more: it
# cannot tell a leak from a cache still filling
LEAD = 0.6


def leads(lt: LongTerm) -> dict[str, str]:
    """Kind -> rule 9's line, when no rule decided that kind."""
    if lt.kept is None or "memory-leak" in decisive(lt):
        return {}
    return {"memory-leak": lt.kept.line}


def undecided(top_kind: str, lt: LongTerm) -> str | None:
    """Why a kind that rule 9 put first is not sure, and what would decide it."""
    why = leads(lt).get(top_kind)
    if why is None:
        return None
    up = lt.uptime_s
    young = (f" or a service warming up (it started {_ago(up)} ago)"
             if up is not None and up < 2 * CORROBORATE_MIN_S else "")  # fmt: skip
    return (f"{why}, and so does a cache still filling{young}: {CORROBORATE_MIN_S / 60:.0f} min of "
            f"history, or a baseline stored now (`godiag diagnose URL --store --as-baseline`) "
            f"and a diagnosis a few minutes later, would tell them apart")  # fmt: skip


def doubt(top_kind: str, lt: LongTerm) -> str | None:
    """Rule 3: why a "healthy" top cause is not sure given what grew before the window."""
    if top_kind != "healthy":
        return None
    h = lt.heap
    # a level that moves by half the difference within the window's seconds is not a trend
    moves = consistency(h) == "swings"
    if h is not None and h.site is not None and h.site_growth >= HEAP_MIN_BYTES and not moves:
        where = locate.where(locate.loc(h.site))
        return (f"the live heap grew {h.total_growth / 2**20:.1f} MiB since the baseline "
                f"{_ago(h.age_s)} ago, {_mb(h.site_growth)} of it at {where}; a later "
                "diagnosis against the same baseline, or `godiag check --rule memory-leak "
                "--baseline latest`, would decide")  # fmt: skip
    # (goroutines that grew since the baseline with young waits are a batch running now:
    # no doubt; with old waits rule 1 decided already)
    for series in ("go_goroutines", "heap_live_bytes"):
        t = lt.trends.get(series)
        if t is not None and t.shape == "linear" and t.delta >= HISTORY_GROWTH_MIN[series]:
            return f"{_history_line(lt, series)}: a slow leak looks like this"
    return None


def summary(lt: LongTerm) -> str | None:
    """Which history the diagnosis used: "Prometheus 30m: ...; baseline capture 8 min ago"."""
    parts: list[str] = []
    if lt.trends:
        names = ", ".join(
            f"{LABELS.get(n, (n, ''))[0]} {t.shape}" for n, t in sorted(lt.trends.items())
        )
        parts.append(f"Prometheus {_span(lt)}: {names}")
    ages = [x.age_s for x in (lt.heap, lt.goroutines) if x is not None]
    if ages:
        parts.append(f"baseline capture {_ago(max(ages))} ago")
    elif lt.stale_reference_s is not None:
        up = f" ({_ago(lt.uptime_s)} ago)" if lt.uptime_s else ""
        parts.append(f"stored reference {_ago(lt.stale_reference_s)} old not used: it predates "
                     f"the process's start{up}, another process's heap and goroutines")  # fmt: skip
    return "; ".join(parts) or None
