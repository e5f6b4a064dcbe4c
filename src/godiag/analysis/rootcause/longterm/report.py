"""What the long-term rules report: the features, the evidence lines of a cause and the
summary of which history a diagnosis used."""

from __future__ import annotations

from typing import Any

from godiag.analysis import history
from godiag.analysis.rootcause import locate
from godiag.analysis.rootcause.longterm import bodies
from godiag.analysis.rootcause.longterm.common import (
    LABELS,
    OLD_WAIT_MIN,
    GoroutinesSince,
    HeapSince,
    LongTerm,
    _ago,
    _history_line,
    _mb,
    _span,
)
from godiag.analysis.rootcause.longterm.connections import _is_conn_group
from godiag.analysis.rootcause.longterm.since import (
    by_ids,
    consistency,
    goroutines_decisive,
    heap_decisive,
    history_decisive,
    other_load,
    retention,
)
from godiag.words import many

# name -> (unit, source): reported and shown, not model inputs (ranker.SKIP)
FEATURES: dict[str, tuple[str, str]] = {
    "baseline_age_minutes": ("minutes", "age of the stored reference capture (heap, else dump)"),
    "baseline_heap_growth_bytes_per_min": (
        "bytes/min",
        "stored baseline heap -> end heap: inuse_space growth over the baseline's age",
    ),
    "baseline_top_site_share": (
        "fraction",
        "stored baseline heap -> end heap: the top function's share (its lines summed)",
    ),
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
    "window_kept_bytes": (
        "bytes",
        "the window's two heap profiles: in-use bytes of the site that kept nearly all it "
        "allocated since the process started and all it allocated in the window, with no "
        "history (rule 9 within the window)",
    ),
    "unread_response_bodies": (
        "count",
        "both dumps: HTTP/1 read loops waiting for their response body to be read or closed, "
        "beyond the goroutines reading one; the smaller of the two counts (rule 10)",
    ),
    "growing_group_wait_uptime_share": (
        "fraction",
        "end dump: the growing blocked group's longest wait / process uptime "
        "(process_start_time_seconds)",
    ),
}


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
        out["window_kept_bytes" if lt.kept.window else "history_kept_bytes"] = lt.kept.inuse
    if lt.unread is not None:
        out["unread_response_bodies"] = lt.unread.both
    ht = lt.trends.get("heap_live_bytes")
    if ht is not None:
        out["history_heap_growth_bytes_per_min"] = round(ht.slope_per_min, 1)
        out["history_heap_shape"] = ht.shape
    return out


def heap_line(h: HeapSince) -> str:
    where = locate.where(locate.loc(h.site))
    window = "" if h.site_window is None else f", {h.site_window / 2**20:+.2f} MiB in the window"
    load = f"; {why}" if (why := other_load(h)) is not None and h.site_growth > 0 else ""
    return (f"baseline capture {_ago(h.age_s)} ago: live heap {h.total_growth / 2**20:+.1f} MiB, "
            f"{_mb(h.site_growth)} ({h.share:.0%}) in the function of {where}{window}"
            f"{load}")  # fmt: skip


def goroutine_line(g: GoroutinesSince) -> str:
    assert g.top is not None
    t = g.top
    where = locate.group_where(t, locate.loc(t.user_frame) if t.user_frame else None)
    wait = f", waiting up to {t.wait_max} min" if t.wait_max else ""
    if by_ids(g):
        wait = f", {g.survivors} of them the same goroutines as in the baseline"
    how = "asleep" if t.category == "sleep" else f"blocked on {t.state}"
    return (f"baseline capture {_ago(g.age_s)} ago: {many(t.growth, 'goroutine', '+d')} {how} "
            f"in {where} ({t.count} now{wait})")  # fmt: skip


# kind -> the Prometheus series its evidence quotes
_KINDS = {
    "memory-leak": "heap_live_bytes",
    "goroutine-leak": "go_goroutines",
    "deadlock": "go_goroutines",
}


def evidence(kind: str, lt: LongTerm) -> list[str]:
    """The long-term lines of a cause of `kind` (none for kinds they do not speak to)."""
    out: list[str] = []
    if kind == "connection-leak" and lt.unread is not None and lt.unread.found:
        out.append(bodies.line(lt.unread))
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
    if kind == "goroutine-leak" and lt.orphans is not None:
        out.append(lt.orphans.line)
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


def summary(lt: LongTerm) -> str | None:
    """Which history the diagnosis used: "Prometheus 30m: ...; baseline capture 8 min ago"."""
    parts: list[str] = []
    if lt.trends and all(t.shape == "unknown" for t in lt.trends.values()):
        # "CPU s/s unknown, GC/s unknown, ..." read as no series at all beside "Prometheus
        # has 24 s of it": say how much there is and what a shape needs
        longest = max(lt.trends.values(), key=lambda t: t.span_s)
        parts.append(f"Prometheus {_span(lt)}: {_ago(longest.span_s)} of history "
                     f"({many(longest.points, 'point')}), too little for a trend (it takes "
                     f"{history.MIN_POINTS} points over {history.MIN_SPAN_S:.0f} s)")  # fmt: skip
    elif lt.trends:
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
