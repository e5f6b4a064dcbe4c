"""The references before the window and the facts shared by the long-term rules: sizes a
leak reaches, the LongTerm record `gather` fills, the process's uptime, the Prometheus series'
trends and how they are quoted."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from godiag.analysis import history, sites
from godiag.analysis.goroutines import GroupGrowth
from godiag.analysis.rootcause import locate
from godiag.analysis.rootcause.longterm.bodies import Unread
from godiag.analysis.rootcause.longterm.orphans import Orphans
from godiag.analysis.rules.memory_leak import DEFAULT_PERIOD
from godiag.model.observation import Observation

HEAP_MIN_BYTES = 8 * DEFAULT_PERIOD  # 4 MiB: 8 sampling periods, as `check --rule memory-leak`
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
    # goroutines in the reference dump and in the end dump (None: either missing): how
    # busy the service was then and now (`other_load`)
    goroutines: tuple[int, int] | None = None


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
    # the top group's goroutines of the baseline dump still alive in the end dump (the same
    # goroutine ids: the runtime never reuses one): alive as long as the reference is old,
    # whatever their wait says (a ticker loop restarts its wait at every tick)
    survivors: int = 0


@dataclass(frozen=True)
class Kept:
    """Rule 9's site of the end heap profile: what it holds and what it ever allocated."""

    site: sites.Site
    inuse: int
    allocated: int
    line: str
    # found within the window's two heap profiles, with no history (kept.kept_now)
    window: bool = False


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
    # rule 10: responses whose bodies nobody reads, at both ends of the window (bodies.py)
    unread: Unread | None = None
    # rule 7 with a holder: the line when a lock's holder and its waiters have been blocked
    # a minute or more (`inversion.held_blocked`)
    held: str | None = None
    # rule 11: open fds that climbed through the window with no goroutine per connection,
    # or sockets left in CLOSE_WAIT (`fds.kept_open`): the lead's name and its line
    fds: tuple[str, str] | None = None
    # rule 12: senders left behind by a receiver that returned (`orphans.left_behind`)
    orphans: Orphans | None = None


# clocks: the process's start is the target's clock, a capture's time godiag's
CLOCK_SLACK_S = 60.0
# a local process's /proc age is read on godiag's own clock, in whole seconds: a restart
# 40 s after the stored capture is a restart (with a minute's slack it was read as the
# same process, and its heap as this one's)
LOCAL_SLACK_S = 5.0


def before_start(obs: Observation, kind: str) -> float | None:
    """The age (s) of the stored reference of `kind` ("heap", "goroutine") when it was taken
    before the process started: a restart since, and the reference is another process's
    heap or goroutines, nothing this one grew from. None when it is this process's (or
    either time is unknown: process_start_time_seconds is not exported)."""
    up, age = _clocked_uptime(obs), obs.baseline_ages.get(kind)
    if up is None or age is None:
        return None
    return age if age > up[0] - obs.duration + up[1] else None


def _uptime(obs: Observation) -> float | None:
    """Seconds since the process started (None: unknown)."""
    up = _clocked_uptime(obs)
    return None if up is None else up[0]


def _clocked_uptime(obs: Observation) -> tuple[float, float] | None:
    """(seconds since the process started, the slack its clock needs): for a local process,
    its last /proc reading (procfs#N: whole seconds since its start, godiag's clock); else
    between process_start_time_seconds and the last metrics capture (two clocks)."""
    proc = _last_value(obs, "godiag_proc_uptime_seconds")
    if proc is not None:
        return proc, LOCAL_SLACK_S
    started = _last_value(obs, "process_start_time_seconds")
    at = max((c.captured_at.timestamp() for c in obs.captures if c.profile_type == "metrics"),
             default=None)  # fmt: skip
    if started is None or at is None or started <= 0 or at <= started:
        return None
    return at - started, CLOCK_SLACK_S


def _last_value(obs: Observation, name: str) -> float | None:
    return next((s.values[name] for s in reversed(obs.samples) if name in s.values), None)


def _trends(obs: Observation) -> dict[str, history.Trend]:
    """The observation's Prometheus series, each reduced to its trend (those too short for
    one left out)."""
    return {n: t for n, pts in obs.trends.items() if (t := history.trend(pts)) is not None}


def _mb(n: float) -> str:
    return f"{n / 2**20:.1f} MiB"


def mb_under(n: float, limit: float) -> str:
    """`n` bytes in MiB as a figure that reads as under `limit` bytes when it is: 4,193,000
    B against 4 MiB is "3.99 MiB", not the "4.0 MiB" one decimal rounds it to."""
    if n < limit and round(n / 2**20, 1) >= limit / 2**20:
        return f"{math.floor(n / 2**20 * 100) / 100:.2f} MiB"
    return _mb(n)


def _ago(seconds: float) -> str:
    """An age as a reader divides by: "45 s", "3.4 min" (whole minutes rounded a reference
    3.5 min old to "3 min" and "4 min" in runs seconds apart, and a "+71/min" beside "+229
    since 4 min ago"), "16 min"."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 600:
        return f"{seconds / 60:.1f}".removesuffix(".0") + " min"
    return f"{seconds / 60:.0f} min"


def against_reference(age_s: float) -> str:
    """What decides once a stored reference was compared: a later diagnosis against it (not
    a baseline to store, which beside one 25 s old read as the stored one ignored)."""
    return f"a later diagnosis against the stored reference (now {_ago(age_s)} old)"


def _span(lt: LongTerm) -> str:
    return _ago(lt.lookback_s).replace(" min", "m").replace(" s", "s")


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


# Rule 5: a reference this old has seen a leak at the rates that matter accumulate (30 KB/s
# is 3.5 MB in two minutes; a goroutine a minute has waited a minute), so nothing grown
# since speaks against the kinds that accumulate (rules 8 and 9 ask for a history this long)
CLEAR_AGE_S = 120.0
