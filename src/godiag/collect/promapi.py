"""History from a Prometheus server: `/api/v1/query_range` (Prometheus HTTP API v1).

A diagnosis window is seconds long; how the service got there (its goroutine count and
live heap over the last half hour) is in the Prometheus that scrapes it, when the
configuration names one. The series are selected by the scrape target's `instance`
label, which Prometheus sets to the target's host:port by default.
"""

from __future__ import annotations

import json
import math
import time
from urllib.parse import urlencode, urlparse

from godiag.collect.http import HttpClient
from godiag.errors import CollectError, ParseError

Series = list[tuple[float, float]]  # (unix seconds, value)
STEP = 5.0  # seconds between points: 60 points for 5 minutes


def instance_of(target_url: str) -> str:
    """The `instance` label Prometheus gives a scrape target at this URL."""
    u = urlparse(target_url)
    port = u.port or (443 if u.scheme == "https" else 80)
    host = u.hostname or ""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# one machine's names for itself: Prometheus labels a target with the host its scrape
# config names, which need not be the one given to godiag
LOOPBACK = ("localhost", "127.0.0.1", "::1")


def selector(target_url: str) -> str:
    """The PromQL label selector of the target's series: its `instance`, any loopback name
    for a loopback host (`localhost:8080` is the target scraped as `127.0.0.1:8080`)."""
    inst = instance_of(target_url)
    host, _, port = inst.rpartition(":")
    if host.strip("[]") not in LOOPBACK:
        return f'{{instance="{inst}"}}'
    names = "|".join(("localhost", "127\\\\.0\\\\.0\\\\.1", "\\\\[::1\\\\]"))
    return f'{{instance=~"({names}):{port}"}}'


def query_range(
    client: HttpClient, prom_url: str, query: str, start: float, end: float, step: float,
    timeout: float,
) -> list[tuple[dict[str, str], Series]]:  # fmt: skip
    """Run a range query; one (labels, points) per returned series."""
    args = urlencode({"query": query, "start": f"{start:.3f}", "end": f"{end:.3f}",
                      "step": f"{step:g}"})  # fmt: skip
    url = f"{prom_url.rstrip('/')}/api/v1/query_range?{args}"
    res = client.get(url, timeout, allow_error=True)
    try:
        doc = json.loads(res.body)
    except (ValueError, UnicodeDecodeError):
        why = f"HTTP {res.status}: not a Prometheus API answer (not JSON)"
        raise ParseError(url, why) from None
    if not isinstance(doc, dict) or doc.get("status") != "success":
        err = doc.get("error") if isinstance(doc, dict) else None
        raise CollectError(f"{url}: Prometheus answered HTTP {res.status}: {err or 'no data'}")
    data = doc.get("data")
    if not isinstance(data, dict) or data.get("resultType") != "matrix":
        raise ParseError(url, "query_range answer is not a matrix")
    result = data.get("result") or []
    if not isinstance(result, list):
        raise ParseError(url, "query_range answer has no list of series")
    out: list[tuple[dict[str, str], Series]] = []
    for item in result:
        try:
            labels = {str(k): str(v) for k, v in dict(item["metric"]).items()}
            pts = [(float(t), float(v)) for t, v in item["values"]]
        except (KeyError, TypeError, ValueError):
            raise ParseError(url, "malformed series in the query_range answer") from None
        out.append((labels, [p for p in pts if math.isfinite(p[1])]))
    return out


# The target's series a diagnosis reads over its lookback: name -> PromQL (`{sel}` is the
# instance selector). Each is summed over the instance's series, so two jobs scraping one
# instance do not double a count; the live heap falls back to heap_alloc where a
# collector exports no heap_inuse. The rates are per second over 5 minutes, the usual
# window: at least four scrapes at the common 15 s to 1 min intervals.
HISTORY_QUERIES: dict[str, tuple[str, ...]] = {
    # the OpenTelemetry runtime instrumentation's names come after the Go collector's: they
    # refresh every 15 s, which a window of seconds cannot use but a lookback of minutes can
    "go_goroutines": ("max(go_goroutines{sel})", "max(go_goroutine_count{sel})"),
    "heap_live_bytes": (
        "max(go_memstats_heap_inuse_bytes{sel})",
        "max(go_memstats_heap_alloc_bytes{sel})",
        "max(go_memory_classes_heap_objects_bytes{sel})",  # runtime/metrics' name
        # OpenTelemetry: memory used but stacks (heap and runtime structures)
        'max(go_memory_used_bytes{sel} unless go_memory_used_bytes{go_memory_type="stack"})',
    ),
    "process_open_fds": ("max(process_open_fds{sel})",),
    "gc_cycles_per_s": (
        "max(rate(go_gc_cycles_total_gc_cycles_total{sel}[5m]))",
        "max(rate(go_gc_duration_seconds_count{sel}[5m]))",
    ),
    "cpu_seconds_per_s": ("max(rate(process_cpu_seconds_total{sel}[5m]))",),
}


def step_for(lookback_s: float) -> float:
    """Seconds between points: about 240 points over the lookback, never under 1 s."""
    return max(1.0, round(lookback_s / 240.0))


def history(
    client: HttpClient, prom_url: str, target_url: str, lookback_s: float,
    timeout: float = 10.0, now: float | None = None,
) -> tuple[dict[str, Series], list[str]]:  # fmt: skip
    """The target's HISTORY_QUERIES over the last `lookback_s` seconds: (series by name,
    one sentence per series that could not be had). A failure of the server itself
    (down, not Prometheus) raises on the first query."""
    end = time.time() if now is None else now
    sel = selector(target_url)
    step = step_for(lookback_s)
    out: dict[str, Series] = {}
    absent: list[str] = []
    for name, queries in HISTORY_QUERIES.items():
        for q in queries:
            query = q.replace("{sel}", sel)
            found = [pts for _, pts in query_range(client, prom_url, query, end - lookback_s,
                                                   end, step, timeout) if pts]  # fmt: skip
            if found:
                out[name] = found[0]
                break
        else:
            absent.append(f"{name} ({' or '.join(q.replace('{sel}', sel) for q in queries)})")
    return out, absent
