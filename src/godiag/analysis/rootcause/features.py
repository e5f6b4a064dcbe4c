"""Observation -> the feature vector the ranker reads (docs/diagnose.md lists each one).

A feature the service does not expose is None ("missing"), never 0: zero mutex wait
and "mutex profiling is off" are different facts. Rates are per second over the
observation window, growth per minute.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from godiag.analysis import sites
from godiag.analysis.goroutine_rules import BLOCKED, is_stdlib
from godiag.analysis.goroutines import Sig, group, ids
from godiag.analysis.rootcause import locate
from godiag.analysis.rootcause import served as served_
from godiag.analysis.rootcause.derived import Derived, derive, service_prefix
from godiag.analysis.rules.memory_leak import DEFAULT_PERIOD
from godiag.formats.observation import served_requests
from godiag.model.goroutine import Dump
from godiag.model.observation import MetricSample, Observation

MIN_CPU_SAMPLES = 20  # 0.2 s of CPU at Go's 100 Hz
HEAP_SAMPLES = 2  # sampling periods of growth at one site before its share counts
# A /metrics read after a forced GC also counts what was allocated between the end of that
# collection and the read: at this rate a few milliseconds of delay are a heap profile
# sampling period (Prometheus at 320 MiB/s: +1.3 MiB/s by its reads, -0.2 by its profiles)
CHURN = 50 * 2**20  # bytes allocated per second

# name -> (unit, source); the order is the model's input order for numeric features
FEATURES: dict[str, tuple[str, str]] = {
    "goroutines": ("count", "go_goroutines, else the end goroutine dump's total"),
    "goroutine_growth_per_min": ("goroutines/min", "go_goroutines over the window, else dumps"),
    "goroutines_delta_5m": ("goroutines", "Prometheus query_range of go_goroutines, last 5 min"),
    "largest_group_share": ("fraction", "end dump: largest identical-stack group / total"),
    "largest_group_category": ("category", "end dump: largest group's wait category"),
    "largest_group_wait_minutes": ("minutes", "end dump: largest group's longest wait"),
    "top_growth_per_min": ("goroutines/min", "dump diff: fastest-growing group"),
    "top_growth_blocked": ("0/1", "dump diff: fastest-growing group waits on chan/lock/..."),
    "top_growth_count": ("count", "dump diff: goroutines the fastest-growing group gained"),
    "top_growth_ended_share": (
        "fraction",
        "dump diff: of the fastest-growing group's goroutines at the start, the share gone at "
        "the end (by goroutine id; null without ids or when the group is new)",
    ),
    "top_growth_moved_share": (
        "fraction",
        "dump diff: of the goroutines the fastest-growing group gained, the share already in "
        "the start dump under another stack (by goroutine id; null without ids)",
    ),
    "top_growth_lock": ("0/1", "dump diff: fastest-growing group waits on a sync lock"),
    "top_growth_from_zero": (
        "0/1",
        "dump diff: the fastest-growing group had no goroutine at the window's start, nor in "
        "the stored baseline dump when there is one",
    ),
    "leaked_goroutines": ("count", "goroutineleak profile (Go 1.27+, or experiment)"),
    "lock_waiters": ("count", "goroutines waiting on a sync lock: dumps, lock profile mean"),
    "lock_waiters_growth": (
        "count",
        "dump diff: goroutines waiting on a sync lock at the end less those at the start "
        "(debug=2 dumps)",
    ),
    "lock_waiters_across": (
        "count",
        "dump diff: goroutines waiting on a sync lock in the same call at both ends of the "
        "window (by id; debug=2 dumps)",
    ),
    "blocked_user_goroutines": ("count", "end dump: goroutines blocked on chan/select/lock"),
    "blocked_client_calls": (
        "count",
        "end dump: of blocked_user_goroutines, those inside an HTTP client call (waiting on "
        "a response: outbound requests in flight)",
    ),
    "running_goroutines": ("count", "end dump: running or runnable goroutines"),
    "stuck_handlers": (
        "count",
        "both dumps: the same handler call (same goroutine, frames and "
        "arguments) blocked on a channel or lock at both ends",
    ),
    "stuck_handler_share": ("fraction", "stuck_handlers / goroutines in the end dump"),
    "stuck_handlers_settled": (
        "count",
        "both dumps: of stuck_handlers, those blocked where no request handler of the start "
        "dump had left by the end (by id): a wait others leave within seconds ends",
    ),
    "lock_holder_waits": (
        "category",
        "end dump: what the holder of the lock most goroutines wait for waits on itself "
        "(Derived.holder; null when no holder is identified)",
    ),
    "heap_inuse_bytes": ("bytes", "go_memstats_heap_inuse_bytes / expvar HeapInuse"),
    "heap_growth_bytes_per_s": (
        "bytes/s",
        "live heap after forced GCs at both ends (the heap profiles' at >= 50 MiB/s allocated)",
    ),
    "heap_growth_top_share": (
        "fraction",
        "heap diff: top site's share of inuse growth (0 below 2 sample periods)",
    ),
    "heap_growth_retention": (
        "fraction",
        "heap diff at the top growing site: its inuse growth / what it allocated in the window",
    ),
    "heap_growth_in_flight": (
        "count",
        "end dump: goroutines at work in the code that allocated the top growing site",
    ),
    "heap_growth_in_flight_rise": ("count", "heap_growth_in_flight, end dump - start dump"),
    "heap_growth_fallback": (
        "fraction",
        "heap profiles within the window: the top growing site's largest fall / its growth",
    ),
    "heap_growth_top_bytes": (
        "bytes",
        "heap diff: the live heap the top growing site (memory-leak's location) gained over "
        "the window (null below 2 sample periods)",
    ),
    "heap_growth_window_bytes": (
        "bytes",
        "heap_growth_bytes_per_s over the window's length: what the live heap gained in it",
    ),
    "alloc_bytes_per_s": (
        "bytes/s",
        "go_memstats_alloc_bytes_total / expvar TotalAlloc, else the forced-GC heap profiles",
    ),
    "gc_cycles_per_s": ("cycles/s", "go_gc_duration_seconds_count / NumGC, forced GCs excluded"),
    "gc_pause_p99_ms": ("ms", "expvar PauseNs ring (client_golang's summary has no p99)"),
    "gc_cpu_fraction": (
        "fraction",
        "MemStats GCCPUFraction, expvar's or a debug=1 heap profile's (since process start)",
    ),
    "gogc_percent": ("percent", "go_gc_gogc_percent"),
    "threads": ("count", "go_threads"),
    "open_fds": ("count", "process_open_fds"),
    "fd_growth_per_min": ("fds/min", "process_open_fds over the window"),
    "fd_growth": ("fds", "process_open_fds over the window: last - first"),
    "self_conn_growth": (
        "connections",
        "/proc (local process): TCP connections to the service's own address (the URL's "
        "port, on loopback), last - first sample",
    ),
    "peer_conn_growth": (
        "connections",
        "/proc (local process): TCP connections gained over the window, summed over the "
        "remote ends listed",
    ),
    "cpu_seconds_per_s": (
        "s/s",
        "process_cpu_seconds_total, else the CPU profile's CPU time, else a local process's "
        "/proc/PID/stat",
    ),
    "client_conn_goroutines": ("count", "end dump: goroutines holding a client connection"),
    "client_conn_growth": (
        "count",
        "goroutines holding a client connection: end dump - start dump",
    ),
    "dial_live_bytes": ("bytes", "end heap snapshot: live bytes allocated under a dial"),
    "mutex_wait_s_per_s": ("s/s", "mutex profile delay, end - start (null when rate is off)"),
    "block_wait_s_per_s": (
        "s/s",
        "block profile delay on sync locks, end - start (null when rate is off)",
    ),
    "lock_wait_s_per_s": (
        "s/s",
        "mutex_wait_s_per_s, else block_wait_s_per_s: time waited on sync locks",
    ),
    "lock_waiter_share": ("fraction", "lock_waiters / goroutines in the end dump"),
    "lock_wait_share": (
        "fraction",
        "lock_wait_s_per_s / goroutines: the average share of "
        "goroutines waiting on a lock over the window",
    ),
    "cpu_profile_gc_share": ("fraction", "CPU profile: samples in GC work or malloc"),
    "cpu_hotspot_share": (
        "fraction",
        "CPU profile: the hottest function of the service's own code (innermost frame of "
        "its code in each sample), as a share of all samples",
    ),
    "cpu_hotspot_request_share": (
        "fraction",
        "CPU profile: of the hottest function's samples, those under a request handler "
        "(net/http's per-connection goroutine, gRPC's per-stream one, or a worker one "
        "started: served.py)",
    ),
    "alloc_request_share": (
        "fraction",
        "heap profiles: of what the site allocating most during the window allocated, the "
        "share under a request handler (as cpu_hotspot_request_share)",
    ),
    "cpu_code_share": (
        "fraction",
        "CPU profile: samples in the service's own code and not in GC work or malloc under "
        "it, as a share of all samples (the observer's own stacks left out)",
    ),
    "alloc_bytes_per_cpu_s": ("bytes/CPU s", "alloc_bytes_per_s / cpu_seconds_per_s"),
    "http_5xx_per_s": ("requests/s", "*requests_total{code=5xx} when exported"),
    "http_requests_per_s": ("requests/s", "*requests_total when exported"),
}


Growing = tuple[str | None, sites.Site, int]
Calls = tuple[tuple[str, str], ...]  # a goroutine's frames with their arguments


def _growing_site(obs: Observation, prefix: str | None) -> Growing | None:
    """(module prefix, site, bytes) of the site whose live heap grew most between the two
    absolute snapshots, as the memory-leak locator picks it; None below HEAP_SAMPLES
    sampling periods there, where a sample more or less decides every share of it."""
    if len(obs.heap) != 2:
        return None
    a, b = obs.heap
    best = sites.top(sites.growth(*(sites.by_site(p, "inuse_space", prefix) for p in (a, b))))
    if best is None or best[1] < (b.period or DEFAULT_PERIOD) * HEAP_SAMPLES:
        return None
    return prefix, best[0], best[1]


def _fallback(obs: Observation, top: Growing | None) -> float | None:
    """The largest fall of the growing site's live heap within the window (heap profiles
    at the inner samples, each as of the service's last GC), over its growth end to end.

    A leak's site only rises: what it allocates stays. A working set held by requests in
    flight rises and falls with them, and at a snapshot taken at a peak of load it reads
    as growth; looking at it more than twice shows the fall. 0 when it never fell by
    HEAP_SAMPLES sampling periods (a sample more or less), None without inner snapshots.
    """
    if top is None or not obs.heap_mid:
        return None
    prefix, site, grew = top
    levels = [sites.by_site(p, "inuse_space", prefix).get(site, 0)
              for p in (obs.heap[0], *obs.heap_mid, obs.heap[1])]  # fmt: skip
    peak = fall = 0
    for v in levels:
        peak = max(peak, v)
        fall = max(fall, peak - v)
    period = (obs.heap[1].period or DEFAULT_PERIOD) * HEAP_SAMPLES
    return fall / grew if fall >= period else 0.0


def _retention(obs: Observation, top: Growing | None) -> float | None:
    """Of what the site whose live heap grew most allocated during the window, the
    fraction it still holds at the end (both heap snapshots follow a forced GC, and a heap
    profile counts both the bytes a site allocated since the start and those still live).

    A leak keeps everything it allocates, or nearly: even one that grows by reallocating
    a container keeps the last copy, at least 1/5 of the bytes (Go grows a large slice by
    1.25x, so each reallocation frees the 1/1.25 it copied; maps and small slices double,
    1/2). A working set under load (buffers of requests in flight, pooled slices) keeps
    only what is in use at the moment of the snapshot, a small share of what it churned
    through. The site is the one the memory-leak locator names (same user frame choice);
    None below HEAP_SAMPLES sampling periods of growth there, where a sample more or less
    decides the share, or when no allocation was sampled there.
    """
    if top is None:
        return None
    prefix, site, kept = top
    a, b = obs.heap
    alloc = sites.by_site(b, "alloc_space", prefix).get(site, 0)
    alloc -= sites.by_site(a, "alloc_space", prefix).get(site, 0)
    return min(1.0, kept / alloc) if alloc > 0 else None


# goroutines doing work (not parked on a channel, lock, timer or WaitGroup: a parked one
# holding memory is a leak's shape, not load's)
WORKING = ("running", "runnable", "syscall", "io", "gc", "other")
ALLOC_UP = 2  # callers above the growing site that count as the code allocating there


def _in_flight(obs: Observation, top: Growing | None) -> tuple[int, int] | None:
    """Goroutines at work inside the code that allocated the growth, (start, end).

    The code is the growing site's function and its nearest ALLOC_UP callers outside the
    standard library, from the heap profile's allocation stacks at that site. A working
    set held by requests in flight (or a pool sized by them) rises with the number of
    requests in that code; a leak's memory stays after the code that allocated it returned.
    """
    if top is None or len(obs.dumps) != 2:
        return None
    prefix, site, _ = top
    code: set[str] = set()
    for frames, _ in sites.stacks(obs.heap[1], "inuse_space"):
        if sites.pick(frames, prefix) != site:
            continue
        fns = [f[0] for f in frames if not is_stdlib(f[0])]
        i = fns.index(site[0]) if site[0] in fns else 0
        code.update(fns[i : i + 1 + ALLOC_UP])
    from godiag.analysis.goroutine_rules import category

    def count(dump: Any) -> int:
        return sum(
            g.count
            for g in dump.goroutines
            if category(g.state, g.frames) in WORKING and any(f.function in code for f in g.frames)
        )

    return count(obs.dumps[0]), count(obs.dumps[1])


LOOPBACK = ("127.", "::1", "[::1]", "localhost")


def peer_samples(obs: Observation) -> list[dict[str, float]]:
    """The /proc samples that list remote ends (procfs#N, a local process), oldest first:
    HOST:PORT -> TCP connections open to it."""
    from godiag.formats.observation import PEER

    out = []
    for x in obs.samples:
        if peers := {k[len(PEER) :]: v for k, v in x.values.items() if k.startswith(PEER)}:
            out.append(peers)
    return out


def _peer_growth(obs: Observation) -> tuple[float | None, float | None]:
    """(connections to the service's own address, connections to every remote end listed)
    gained between the first and last /proc samples; (None, None) without them. A service's
    requests to itself (an in-process client, a self-call) are served by its own server
    side: they come and go with that traffic."""
    from urllib.parse import urlsplit

    held = peer_samples(obs)
    if len(held) < 2:
        return None, None
    first, last = held[0], held[-1]
    gained = {peer: v - first.get(peer, 0.0) for peer, v in last.items()}
    try:
        url = urlsplit(obs.url)
        host, port = url.hostname or "", url.port
    except ValueError:
        return None, sum(max(g, 0.0) for g in gained.values())

    def own(peer: str) -> bool:
        h, _, p = peer.rpartition(":")
        if port is None or p != str(port):
            return False
        return h.strip("[]") == host or (host.startswith(LOOPBACK) and h.startswith(LOOPBACK))

    mine = sum(g for peer, g in gained.items() if own(peer))
    return mine, sum(max(g, 0.0) for g in gained.values())


def _series(samples: list[MetricSample], name: str) -> list[tuple[float, float]]:
    return [(s.at, s.values[name]) for s in samples if name in s.values]


def _rate(samples: list[MetricSample], name: str) -> float | None:
    pts = _series(samples, name)
    if len(pts) < 2 or pts[-1][0] <= pts[0][0]:
        return None
    return (pts[-1][1] - pts[0][1]) / (pts[-1][0] - pts[0][0])


def _last(samples: list[MetricSample], name: str) -> float | None:
    pts = _series(samples, name)
    return pts[-1][1] if pts else None


def _contention(profiles: list[Any], seconds: float, locks_only: bool = False) -> float | None:
    """Delay added over the window, s/s. The block profile also records every channel
    and select wait (idle workers, clients awaiting answers): `locks_only` keeps the
    samples waiting on a sync lock, which is what contention means."""
    if len(profiles) != 2 or seconds <= 0:
        return None
    on_lock = sites.has_prefix(sites.LOCKS) if locks_only else None
    a, b = (sites.total(p, "delay", on_lock) for p in profiles)
    return max(0, b - a) / 1e9 / seconds


def _memstats(obs: Observation) -> dict[str, Any] | None:
    """The runtime's MemStats at the window's end: expvar's, else a debug=1 heap profile's."""
    mem = (obs.vars_last or {}).get("memstats")
    return mem if isinstance(mem, dict) else obs.memstats_last


def _gc_pause_p99(obs: Observation) -> float | None:
    mem = _memstats(obs)
    if mem is None:
        return None
    ring, n = mem.get("PauseNs"), mem.get("NumGC")
    if not isinstance(ring, list) or not isinstance(n, int) or n <= 0:
        return None
    pauses = sorted(float(x) for x in (ring if n >= 256 else ring[:n]))
    return pauses[min(len(pauses) - 1, int(0.99 * len(pauses)))] / 1e6


HANDLER = served_.HANDLER


def _profile_cpu(obs: Observation) -> float | None:
    """CPU seconds per second from the CPU profile: its sampled CPU time over its duration.
    The same quantity as process_cpu_seconds_total's rate, for services that do not export
    it; sampling at 100 Hz undercounts a little, never overcounts."""
    prof = obs.cpu
    if prof is None or prof.duration_nanos <= 0:
        return None
    return sites.total(prof, "cpu") / prof.duration_nanos


def _profile_alloc(obs: Observation) -> float | None:
    """Bytes allocated per second from the two heap profiles: each was taken right after a
    forced collection, and a heap profile's alloc_space counts everything allocated up to
    the last one, so their difference is what the window allocated (sampled: within a few
    tens of percent of go_memstats_alloc_bytes_total's rate on the scenarios). For the
    services that expose neither /metrics nor expvar."""
    if len(obs.heap) != 2:
        return None
    a, b = obs.heap
    dt = (b.time_nanos - a.time_nanos) / 1e9 if a.time_nanos and b.time_nanos else obs.duration
    grown = sites.total(b, "alloc_space") - sites.total(a, "alloc_space")
    return grown / dt if dt > 0 and grown >= 0 else None


# a read or write on a connection; io.Copy between two TCP connections does not call
# Read: on Linux it waits in splice(2) under (*TCPConn).ReadFrom / WriteTo
CONN_IO = ("net.(*conn).Read", "net.(*conn).Write", "net.(*TCPConn).ReadFrom",
           "net.(*TCPConn).WriteTo", "net.(*UnixConn).ReadFrom", "net.spliceFrom",
           "net.spliceTo", "net.sendFile", "internal/poll.Splice")  # fmt: skip
# net/http's server side: the connection's own goroutine, and the background read it
# starts while a handler runs (one per request in flight on a busy server)
SERVER_CONN = ("net/http.(*conn).serve", "net/http.(*Server).Serve", "net/http.(*connReader).")


def holds_client_conn(g: Any) -> bool:
    """A goroutine that keeps a client connection open: an HTTP transport's per-connection
    loop, a client call or a dial in progress, or a read/write on a connection that is not
    one an in-process HTTP server accepted."""
    fns = [f.function for f in g.frames]
    if any(fn.startswith(sites.CONN_LOOPS + sites.NET_CLIENT + sites.DIAL) for fn in fns):
        return True
    created = g.created_by.function if g.created_by is not None else ""
    server = created.startswith(SERVER_CONN) or any(fn.startswith(SERVER_CONN) for fn in fns)
    return not server and any(fn.startswith(CONN_IO) for fn in fns)


def _calls(dump: Any, cats: tuple[str, ...], handlers: bool = False) -> dict[int, Calls]:
    """Goroutines waiting in one of `cats` (goroutine_rules.category), request handlers only
    with `handlers`: goroutine id -> its frames with their arguments. A keep-alive
    connection's goroutine serves request after request, so the same id waiting at both ends
    of the window can be two requests; the same frames with the same arguments (per-request
    pointers included) are the same call, still waiting."""
    from godiag.analysis.goroutine_rules import category

    return {
        g.id: tuple((f.function, f.args) for f in g.frames)
        for g in dump.goroutines
        if g.id is not None
        and category(g.state, g.frames) in cats
        and (not handlers or any(f.function.startswith(HANDLER) for f in g.frames))
    }


def _dump_features(obs: Observation, derived: Derived, out: dict[str, Any]) -> None:
    end = obs.dumps[-1]
    groups = derived.end
    total = max(1, sum(g.count for g in groups))
    if groups:
        g = groups[0]
        out["largest_group_share"] = g.count / total
        out["largest_group_category"] = g.category
        out["largest_group_wait_minutes"] = g.wait_max
    cats = derived.end_categories
    # the larger of the two dumps' counts (no start count with one): contention comes and goes
    out["lock_waiters"] = max(cats.get("lock", 0), derived.start_categories.get("lock", 0))
    # Two dumps are two instants; a lock profile's waiting seconds per second is the mean
    # number of waiters over the whole window, so a dump taken between bursts of
    # contention does not make a contended lock read as free.
    lw = out.get("lock_wait_s_per_s")
    if lw is not None:
        out["lock_waiters"] = max(out["lock_waiters"], round(lw))
    blocked = [g for g in groups if g.category in BLOCKED and g.user_frame is not None]
    out["blocked_user_goroutines"] = sum(g.count for g in blocked)
    out["blocked_client_calls"] = sum(
        g.count for g in blocked if any(f.function.startswith(sites.NET_CLIENT) for f in g.frames)
    )
    out["running_goroutines"] = max(0, cats.get("running", 0) + cats.get("runnable", 0) - 1)
    out["lock_waiter_share"] = out["lock_waiters"] / total
    if out["goroutines"] is None:
        out["goroutines"] = end.total or len(end.goroutines)
    if derived.total_growth is not None and obs.duration > 0:  # two dumps
        # a scrape or profile being served at the end dump is the observer's, not growth
        grow = next((g for g in derived.groups if not locate.observing(g, derived.prefix)), None)
        minutes = obs.duration / 60
        if grow is not None and grow.growth > 0:
            out["top_growth_per_min"] = grow.growth / minutes
            out["top_growth_count"] = grow.growth
            out["top_growth_blocked"] = int(grow.category in BLOCKED)
            out["top_growth_lock"] = int(grow.category == "lock")
            out["top_growth_ended_share"] = _ended_share(obs.dumps[0], end, grow.key)
            out["top_growth_moved_share"] = _moved_share(obs.dumps[0], end, grow.key)
            base = obs.baseline_dump
            out["top_growth_from_zero"] = int(
                grow.before == 0 and (base is None or grow.key not in group(base))
            )
        else:
            out["top_growth_per_min"], out["top_growth_blocked"], out["top_growth_lock"] = 0, 0, 0
            out["top_growth_count"] = 0
        if out["goroutine_growth_per_min"] is None:
            out["goroutine_growth_per_min"] = derived.total_growth / minutes
        # a request that is blocked at both ends of the window never completes: the mark
        # of a deadlock (a leak's goroutines are spawned by handlers that did return)
        if any(g.id is not None for g in end.goroutines):  # ids: debug=2 dumps
            was, now = _calls(obs.dumps[0], ("lock",)), _calls(end, ("lock",))
            out["lock_waiters_across"] = sum(1 for i, fr in now.items() if was.get(i) == fr)
            out["lock_waiters_growth"] = len(now) - len(was)
        before, after = (_calls(d, BLOCKED, handlers=True) for d in (obs.dumps[0], end))
        stuck = sum(1 for i, frames in after.items() if before.get(i) == frames)
        out["stuck_handlers"] = stuck
        out["stuck_handlers_settled"] = _settled(before, after)
        out["stuck_handler_share"] = stuck / total


def _settled(before: dict[int, Calls], after: dict[int, Calls]) -> int:
    """Of the handler calls blocked at both ends of the window, those whose wait (their
    stack, arguments aside) no handler of the start dump had left by the end: long polls,
    or requests queued behind a slow worker, share their wait with calls that ended within
    the window, and a wait some leave is one that ends; a deadlock releases nobody."""

    def site(frames: Calls) -> tuple[str, ...]:
        return tuple(fn for fn, _ in frames)

    # a keep-alive connection's goroutine serves the next request with the same id: a call
    # whose arguments changed has left its wait too
    left = {site(fr) for i, fr in before.items() if after.get(i) != fr}
    return sum(1 for i, fr in after.items() if before.get(i) == fr and site(fr) not in left)


def _ended_share(start: Dump, end: Dump, key: Sig) -> float | None:
    """Of the goroutines with stack `key` in the start dump, the share no longer there (by
    id) in the end dump: a leak's goroutines never leave, work's do. None when the dumps
    carry no ids (debug=1) or no goroutine had that stack at the start."""
    before, after = ids(start, key), ids(end, key)
    if not before or after is None:
        return None
    return round(len(before - after) / len(before), 4)


def _moved_share(start: Dump, end: Dump, key: Sig) -> float | None:
    """Of the goroutines with stack `key` in the end dump and not in the start dump's group,
    the share already in the start dump (by id) under another stack: goroutines that
    changed what they wait on (a pool's workers going idle), not new ones. None when the
    dumps carry no ids or the group gained none."""
    everyone, now = ids(start), ids(end, key)
    if everyone is None or now is None:
        return None
    gained = now - (ids(start, key) or set())
    if not gained:
        return None
    return round(len(gained & everyone) / len(gained), 4)


def allocating_site(obs: Observation, prefix: str | None) -> tuple[sites.Site, int] | None:
    """The site that allocated most during the window, and how much (alloc_space is
    cumulative: the end heap profile's less the start's); None without both profiles."""
    if len(obs.heap) != 2:
        return None
    a, b = (sites.by_site(p, "alloc_space", prefix) for p in obs.heap)
    return sites.top(sites.growth(a, b))


def _alloc_request_share(
    obs: Observation, prefix: str | None, asked: Callable[[list[sites.Site]], bool]
) -> float | None:
    """Of what the site that allocated most during the window (gc-pressure's location)
    allocated, the share `asked` keeps: work requests asked for (None: no such site)."""
    hit = allocating_site(obs, prefix)
    if hit is None or hit[1] <= 0:
        return None
    a, b = (sites.by_site(p, "alloc_space", prefix, asked) for p in obs.heap)
    served = b.get(hit[0], 0) - a.get(hit[0], 0)
    return round(max(0.0, min(1.0, served / hit[1])), 4)


def _own_cpu(
    cpu: Any, prefix: str | None, served: Callable[[list[sites.Site]], bool] | None = None
) -> dict[sites.Site, int]:
    """CPU per site of the service's own code, outside system calls: a sample inside one is
    the kernel's work for the caller (a connection wrapper's writes would otherwise "burn"
    what the socket costs). `served`: only the samples it keeps (work requests asked for)."""
    in_call = sites.has_prefix(sites.SYSCALLS)
    return sites.by_site(
        cpu, "cpu", prefix, lambda fr: not in_call(fr) and (served is None or served(fr))
    )


def _hotspot_share(
    cpu: Any, prefix: str | None, served: Callable[[list[sites.Site]], bool] | None = None
) -> tuple[float, float] | None:
    """How much of the CPU one function of the service's own code takes, and the share of
    that function's CPU spent serving requests: (hotspot share, request share).

    A loop that spins or a path that does too much concentrates the profile where a service
    at work spreads it over its handlers, the runtime and the network. Where the hot
    function runs tells a loop of the service's own (a goroutine of its making) from work
    requests ask for (under net/http's or gRPC's per-request goroutines, or in workers a
    handler started: served.py), which grows with the load as much as with the cost of
    each request."""
    whole = sites.total(cpu, "cpu")
    hot = sites.function_hotspot(_own_cpu(cpu, prefix))
    if hot is None or not whole:
        return None
    fn = hot[0][0]
    asked = sum(v for s, v in _own_cpu(cpu, prefix, served or sites.has_prefix(HANDLER)).items()
                if s[0] == fn)  # fmt: skip
    return hot[1] / whole, asked / hot[1]


def _code_share(cpu: Any, prefix: str | None) -> float | None:
    """How much of the CPU the service's own code takes, itself: samples with a frame of
    its code, none of the collector's or the allocator's (an allocation under the code is
    the GC's cost of it), and not the observer's."""

    def own(frames: list[sites.Site]) -> bool:
        return (any(sites.is_user(f[0], prefix) for f in frames)
                and not any(f[0].startswith(sites.GC_WORK) for f in frames)
                and not sites.observing(frames, prefix))  # fmt: skip

    return sites.share(cpu, "cpu", own)


def _observer_growth(obs: Observation, prefix: str | None) -> int:
    """The growth of the live heap under the observer's own stacks (sites.observing)
    between the window's two heap profiles; 0 without both."""
    if len(obs.heap) != 2:
        return 0

    def theirs(frames: list[sites.Site]) -> bool:
        return sites.observing(frames, prefix)

    a, b = (sites.total(p, "inuse_space", theirs) for p in obs.heap)
    return b - a


def extract(obs: Observation, derived: Derived | None = None) -> dict[str, Any]:
    """The features of `obs`; `derived` is what `derive(obs)` returns, when already made."""
    out: dict[str, Any] = {k: None for k in FEATURES}
    prefix = derived.prefix if derived is not None else service_prefix(obs)
    s = obs.samples
    # the post-GC read at the end follows a forced collection: rates of GC counters stop
    # before it; heap growth compares the two post-GC reads
    pre = [x for x in s if not (x.post_gc and x is s[-1])] if len(s) > 2 else s
    out["goroutines"] = _last(s, "go_goroutines")
    if len(obs.history) >= 2:
        out["goroutines_delta_5m"] = obs.history[-1][1] - obs.history[0][1]
    g = _rate(s, "go_goroutines")
    out["goroutine_growth_per_min"] = None if g is None else g * 60
    out["threads"] = _last(s, "go_threads")
    out["open_fds"] = _last(s, "process_open_fds")
    f = _rate(s, "process_open_fds")
    out["fd_growth_per_min"] = None if f is None else f * 60
    fds = _series(s, "process_open_fds")
    out["fd_growth"] = fds[-1][1] - fds[0][1] if len(fds) >= 2 else None
    out["self_conn_growth"], out["peer_conn_growth"] = _peer_growth(obs)
    out["cpu_seconds_per_s"] = _rate(pre, "process_cpu_seconds_total")
    if out["cpu_seconds_per_s"] is None:
        out["cpu_seconds_per_s"] = _profile_cpu(obs)
    if out["cpu_seconds_per_s"] is None:  # a local process whose CPU profile was refused
        out["cpu_seconds_per_s"] = _rate(pre, "godiag_proc_cpu_seconds_total")
    out["alloc_bytes_per_s"] = _rate(pre, "go_memstats_alloc_bytes_total")
    if out["alloc_bytes_per_s"] is None:
        out["alloc_bytes_per_s"] = _profile_alloc(obs)
    gc = _rate(pre, "go_gc_duration_seconds_count")
    if gc is None:
        gc = _rate(pre, "go_gc_cycles_total")
    out["gc_cycles_per_s"] = gc
    out["gogc_percent"] = _last(s, "go_gc_gogc_percent")
    asked = served_.request_work(obs, prefix)  # read from the dumps once, for both shares
    out["alloc_request_share"] = _alloc_request_share(obs, prefix, asked)
    out["heap_inuse_bytes"] = _last(s, "go_memstats_heap_inuse_bytes")
    live = [x for x in s if x.post_gc]
    name = "go_memstats_heap_alloc_bytes"
    # under heavy allocation the heap profiles' in-use figures, which are as of the forced
    # collections themselves
    churn = (out["alloc_bytes_per_s"] or 0.0) >= CHURN and len(obs.heap) == 2
    metric = len(live) == 2 and all(name in x.values for x in live) and live[1].at > live[0].at
    # what the observer's own work kept live over the window (a CPU profile's buffers,
    # ~1 MiB, allocated under runtime/pprof.StartCPUProfile) is the cost of being looked
    # at: as large as the slow leaks the growth is there to show
    mine = _observer_growth(obs, prefix)
    if metric and not (churn and obs.duration > 0):
        span = live[1].at - live[0].at
        out["heap_growth_bytes_per_s"] = (live[1].values[name] - live[0].values[name] - mine) / span
    elif len(obs.heap) == 2 and obs.duration > 0:
        a, b = (sites.total(p, "inuse_space") for p in obs.heap)
        out["heap_growth_bytes_per_s"] = (b - a - mine) / obs.duration
    if (grew := out.get("heap_growth_bytes_per_s")) is not None and obs.duration > 0:
        out["heap_growth_window_bytes"] = grew * obs.duration
    if len(obs.heap) == 2:
        grow = sites.growth(*(sites.by_site(p, "inuse_space") for p in obs.heap))
        whole = sum(grow.values())
        best = sites.top(grow, prefer_main=False)
        # A heap profile estimates one sampled allocation as about one sampling period
        # (512 KiB by default): a site with a single new sample at rest would own 100%
        # of the growth, and a churning map's site moves by a few samples either way.
        # Below HEAP_SAMPLES periods of growth, at the site and in the live heap over
        # the window, the share says nothing.
        period = (obs.heap[1].period or DEFAULT_PERIOD) * HEAP_SAMPLES
        rate = out.get("heap_growth_bytes_per_s")
        enough = best is not None and best[1] >= period
        enough = enough and (rate is None or rate * obs.duration >= period)
        out["heap_growth_top_share"] = best[1] / whole if best and whole and enough else 0.0
        # the site the memory-leak locator names, read by the three checks of its growth
        top = _growing_site(obs, prefix)
        out["heap_growth_retention"] = _retention(obs, top)
        out["heap_growth_fallback"] = _fallback(obs, top)
        out["heap_growth_top_bytes"] = top[2] if top is not None else None
        flight = _in_flight(obs, top)
        if flight is not None:
            out["heap_growth_in_flight"] = flight[1]
            out["heap_growth_in_flight_rise"] = flight[1] - flight[0]
    e5 = [(x.at, x.http_5xx) for x in pre if x.http_5xx is not None]
    if len(e5) >= 2 and e5[-1][0] > e5[0][0]:
        assert e5[-1][1] is not None and e5[0][1] is not None
        out["http_5xx_per_s"] = (e5[-1][1] - e5[0][1]) / (e5[-1][0] - e5[0][0])
    reqs = [k for k in (s[0].values if s else {}) if served_requests(k)]
    if reqs:
        out["http_requests_per_s"] = sum(_rate(pre, k) or 0.0 for k in reqs)
    out["mutex_wait_s_per_s"] = _contention(obs.mutex, obs.duration)
    out["block_wait_s_per_s"] = _contention(obs.block, obs.duration, locks_only=True)
    # one measure of lock waiting, whichever profile the service has turned on
    mw, bw = out["mutex_wait_s_per_s"], out["block_wait_s_per_s"]
    out["lock_wait_s_per_s"] = mw if mw is not None else bw
    if obs.leak is not None:
        out["leaked_goroutines"] = sites.total(obs.leak, "goroutine")
    out["gc_pause_p99_ms"] = _gc_pause_p99(obs)
    # a short profile of an idle-ish process holds a handful of samples: no share from it
    if obs.cpu is not None and sites.total(obs.cpu, "samples") >= MIN_CPU_SAMPLES:
        out["cpu_profile_gc_share"] = sites.share(obs.cpu, "cpu", sites.has_prefix(sites.GC_WORK))
        hot = _hotspot_share(obs.cpu, prefix, asked)
        if hot is not None:
            out["cpu_hotspot_share"], out["cpu_hotspot_request_share"] = hot
        out["cpu_code_share"] = _code_share(obs.cpu, prefix)
    cpu, alloc = out["cpu_seconds_per_s"], out["alloc_bytes_per_s"]
    if cpu is not None and alloc is not None and cpu > 0.005:
        out["alloc_bytes_per_cpu_s"] = alloc / cpu
    mem = _memstats(obs)
    if mem is not None and isinstance(mem.get("GCCPUFraction"), int | float):
        out["gc_cpu_fraction"] = float(mem["GCCPUFraction"])
    if obs.dumps:
        derived = derive(obs) if derived is None else derived
        _dump_features(obs, derived, out)
        h = derived.holder
        out["lock_holder_waits"] = h.category if h is not None else None
        held = [sum(g.count for g in d.goroutines if holds_client_conn(g)) for d in obs.dumps]
        out["client_conn_goroutines"] = held[-1]
        if len(held) >= 2:
            out["client_conn_growth"] = held[-1] - held[0]
    if obs.heap:
        out["dial_live_bytes"] = sites.total(
            obs.heap[-1], "inuse_space", sites.has_prefix(sites.DIAL)
        )
    lw, n = out["lock_wait_s_per_s"], out["goroutines"]
    if lw is not None and n:
        out["lock_wait_share"] = min(1.0, lw / n)
    return out
