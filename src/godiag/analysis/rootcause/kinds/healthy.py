"""healthy: no fault over the window. It points nowhere in the code.

Not ranked when a lock profile shows at least one goroutine waiting on a lock, on average,
over the whole window: that is contention however quiet the rest looks (the training
services with a contended lock were all busy on CPU as well, so the model alone leans to
healthy for a lock held across a slow call in an idle one).
"""

from __future__ import annotations

from godiag.analysis.rootcause.kinds.base import Features, Kind, change_in, measured_line
from godiag.words import many

UNHEALTHY_LOCK_WAIT = 1.0  # s/s: on average a goroutine waited on a lock the whole window


def ruled_out(feats: Features) -> bool:
    waited = feats.get("lock_wait_s_per_s")
    return bool(waited is not None and waited >= UNHEALTHY_LOCK_WAIT)


def title(feats: Features, where: str) -> str:
    return "no fault: the service looks healthy over the window"


# What "healthy" rests on: a fault is seen through one of these, so without one it could be
# there unseen (a retry loop spinning on the CPU of a service with no CPU measure).
MEASURES = (
    ("cpu_seconds_per_s", "no CPU measure",
     "expose process_cpu_seconds_total in /metrics or allow a CPU profile (--cpu)"),
    # the live heap is read after a forced collection (the heap profile's ?gc=1): a /metrics
    # read alone counts the garbage of the moment with it
    ("heap_growth_bytes_per_s", "no live-heap measure",
     "allow the heap profile (/debug/pprof/heap; the live heap is read after the collection "
     "it forces)"),
    ("goroutines", "no goroutine count",
     "allow /debug/pprof/goroutine or expose go_goroutines"),
)  # fmt: skip


def unsupported(feats: Features) -> str | None:
    """Healthy is a finding only where it was looked for: name each measure it lacks."""
    lacking = [(what, how) for name, what, how in MEASURES if feats.get(name) is None]
    if not lacking:
        return None
    return "; ".join(f"{what}: {how}" for what, how in lacking)


def measured(feats: Features, window_s: float) -> list[str]:
    """What the window measured, in one line: a healthy verdict shows what it rests on."""
    parts = []
    if (n := feats.get("goroutines")) is not None:
        grew = change_in(feats.get("goroutine_growth_per_min"), window_s)
        parts.append(f"{many(n, 'goroutine', '.0f')}{grew}")
    if (h := feats.get("heap_growth_bytes_per_s")) is not None:
        parts.append(f"live heap {h / 1024:+.0f} KiB/s")
    if (c := feats.get("cpu_seconds_per_s")) is not None:
        parts.append(f"{c:.2f} CPU-s/s")
    if (w := feats.get("lock_waiters")) is not None:
        parts.append(f"{w:.0f} lock waiters")
    if (f := feats.get("open_fds")) is not None:
        parts.append(f"{f:.0f} open fds{change_in(feats.get('fd_growth_per_min'), window_s)}")
    elif parts:
        # a connection leak of raw sockets shows in fds first: say they were not seen
        parts.append("open fds not measured (no process_open_fds in /metrics; "
                     "`godiag diagnose PID` reads them from /proc)")  # fmt: skip
    return measured_line(parts)


# What a leak of the rates that matter adds at one site within one window (30 KB/s for two
# minutes; a stored reference minutes old asks as much: longterm's HEAP_MIN_BYTES).
WINDOW_GROWTH_MIN = 4 * 2**20
# a site whose level fell by this share of its growth within the window swings with the load
SWING = 0.5
# the share of what it allocated in the window a leaking site keeps (all of it, or half
# when it also makes short-lived buffers); a working set under load keeps a few percent
KEPT = 0.5


def doubt(feats: Features) -> str | None:
    """One site's live heap that grew by a leak's amount over the window and never fell
    back is what a leak and a cache still filling both do; with nothing that reaches
    before the window (a stored reference, a live-heap history: their own rules weigh
    those), one window cannot call it healthy."""
    grew, fell = feats.get("heap_growth_top_bytes"), feats.get("heap_growth_fallback")
    before = ("baseline_heap_growth_bytes_per_min", "history_heap_shape")
    if grew is None or any(feats.get(n) is not None for n in before) or (fell or 0.0) >= SWING:
        return None
    decide = ("a leak and a cache still filling look the same in one window; a stored "
              "baseline (`godiag diagnose URL --as-baseline` now, diagnose again minutes "
              "later) or live-heap history in a configured Prometheus would decide")  # fmt: skip
    if grew >= WINDOW_GROWTH_MIN:
        return (f"one site's live heap grew by {grew / 2**20:.1f} MiB over the window and did "
                f"not fall back (memory-leak's evidence names it): {decide}")  # fmt: skip
    # a leak spread over several lines (a struct, its map, its copied body) reaches the
    # amount in the whole live heap before it does at one site; the growing site must keep
    # what it allocated, as a leak does, where a working set churns through it
    whole, kept = feats.get("heap_growth_window_bytes"), feats.get("heap_growth_retention")
    if whole is not None and whole >= WINDOW_GROWTH_MIN and (kept or 0.0) >= KEPT:
        return (f"the live heap grew by {whole / 2**20:.1f} MiB over the window, and its "
                f"fastest-growing site kept {kept:.0%} of what it allocated and did not fall "
                f"back (memory-leak's evidence names it): {decide}")  # fmt: skip
    return None


# a starved CPU-bound service reads as idle: "healthy" would be a guess, not a finding
KIND = Kind("healthy", title, ruled_out=ruled_out, timing=True, unsupported=unsupported,
            doubt=doubt, measured=measured)  # fmt: skip
