"""Recording -> Observation: decode every capture of a diagnosis by its role.

The one place where a diagnosis's bytes become models, for a live service and for a saved
bundle alike (a live Observer decodes through `decode` as it goes, to decide what to fetch
next, and hands what it decoded back to `build` so nothing is decoded twice). Pure: bytes
and facts in, an Observation out; no clock, no network, no files. It lives in formats/
because it only decodes (formats -> model); analysis/ reads the Observation it returns.

Roles: `heap@start|end`, `mutex@start|end`, `block@start|end`, `goroutineleak`, `cpu`
(pprof profiles), `goroutine@start|end` (debug=2 dumps), `metrics#N` (Prometheus text)
or `expvar#N` (/debug/vars) for the N-th metrics sample, `gcount#N` (the debug=1 goroutine
profile: its total is sample N's go_goroutines when the metrics lack it, or the whole sample
when the service has no metrics), `procfs#N` (a local process's fd and TCP socket counts
from /proc, taken with sample N: its process_open_fds when the metrics lack it),
`memstats#N` (the MemStats block of a debug=1 heap profile: sample N's heap and GC
counters when the metrics lack them, as expvar's memstats would give them),
`vars@start|end` (/debug/vars), `heap#N` (a heap profile with sample N, no forced GC).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from godiag.errors import ParseError
from godiag.limits import InFlight
from godiag.model.capture import Capture
from godiag.model.goroutine import Dump
from godiag.model.observation import MetricSample, Observation, Recorded, Recording
from godiag.model.profile import Profile

PROFILES = ("heap", "mutex", "block")
ENDS = ("start", "end")
ROLE = re.compile(
    r"(?:(?:heap|mutex|block|goroutine|vars)@(?:start|end)|(?:heap|goroutine)@baseline|goroutineleak|cpu|(?:metrics|expvar|gcount|procfs|memstats|heap)#\d{1,4})"
)


def profile_kind(role: str) -> str:
    """The pprof profile type a role holds ("heap@start" -> "heap")."""
    return role.split("@", 1)[0].split("#", 1)[0]


# client_golang's count of the /metrics handler's own answers: the scrapes (godiag's own,
# Prometheus's), not the service's traffic
SCRAPES = "promhttp_metric_handler_"


def served_requests(name: str) -> bool:
    """Whether a series counts the requests the service answers (`*requests_total`)."""
    return name.endswith("requests_total") and not name.startswith(SCRAPES)


def metric_sample(at: float, cap: Capture) -> tuple[MetricSample, str | None]:
    """One Prometheus /metrics answer -> a sample, and go_build_info's module path."""
    from godiag.formats import prometheus

    fams = prometheus.parse(cap.data, cap.source)
    values: dict[str, float] = {}
    errs: float | None = None
    quant: dict[float, float] = {}
    for fam in fams.values():
        for s in fam.samples:
            values[s.name] = values.get(s.name, 0.0) + s.value
            labels = dict(s.labels)
            # the scrapes' own answers included (5xx: none): the model learned it so
            if s.name.endswith("requests_total") and ("code" in labels or "status" in labels):
                code = labels.get("code") or labels.get("status") or ""
                errs = (errs or 0.0) + (s.value if code.startswith("5") else 0.0)
            if s.name == "go_gc_duration_seconds" and "quantile" in labels:
                quant[float(labels["quantile"])] = s.value
    path = prometheus.label_of(fams, "go_build_info", "path")
    return MetricSample(at, values, errs, quant), path


# OpenTelemetry's Go runtime instrumentation (go.opentelemetry.io/contrib/instrumentation/
# runtime) exports go_goroutine_count, go_memory_*: not read as the Go collector's series,
# because it refreshes them at most every 15 s by default, so over a window of seconds a
# growing count reads flat. Such a service's samples take the goroutine count from the
# debug=1 profile instead (gcount#N), like a service with no metrics.


_TOTAL = re.compile(rb"\Agoroutine profile: total (\d{1,9})\r?\n")


def goroutine_total(cap: Capture) -> float:
    """The total of a debug=1 goroutine profile's first line."""
    m = _TOTAL.match(cap.data)
    if m is None:
        raise ParseError(
            cap.source, "not a debug=1 goroutine profile (no 'goroutine profile: total N')"
        )
    return float(m.group(1))


# procfs#N lines -> the sample names they stand for (process_open_fds as client_golang's
# process collector names it, so fd growth is read the same way from either)
PROCFS = {"open_fds": "process_open_fds", "sockets": "godiag_proc_sockets",
          "tcp_established": "godiag_proc_tcp_established",
          "tcp_close_wait": "godiag_proc_tcp_close_wait",
          "tcp_close_wait_outbound": "godiag_proc_tcp_close_wait_outbound",
          "uptime_seconds": "godiag_proc_uptime_seconds",
          "cpu_ms": "godiag_proc_cpu_seconds_total"}  # fmt: skip
# ... and the unit each line's value is in, where it is not the sample's
PROCFS_SCALE = {"cpu_ms": 1e-3}


# `peer HOST:PORT N`: N established connections to that remote end, as sample name
# PEER + "HOST:PORT" (an address of digits, dots, colons and brackets only)
PEER = "godiag_proc_peer "
_PEER_LINE = re.compile(r"peer (\[?[0-9a-fA-F.:]{1,45}\]?:[0-9]{1,5}) ([0-9]{1,9})")


def procfs_values(cap: Capture) -> dict[str, float]:
    """The `name value` lines of a procfs capture, by their sample names."""
    out: dict[str, float] = {}
    for line in cap.data.decode("ascii", "replace").splitlines()[:16]:
        name, _, value = line.partition(" ")
        if name in PROCFS and value.isdigit():
            out[PROCFS[name]] = float(value) * PROCFS_SCALE.get(name, 1.0)
        elif (m := _PEER_LINE.fullmatch(line)) is not None:
            out[PEER + m.group(1)] = float(m.group(2))
    if "process_open_fds" not in out:
        raise ParseError(cap.source, "no open_fds line (not a /proc fd snapshot)")
    return out


def expvar_sample(at: float, doc: dict[str, Any]) -> MetricSample:
    from godiag.formats.expvar import memstats

    mem = memstats(doc)
    names = {
        "HeapInuse": "go_memstats_heap_inuse_bytes",
        "HeapAlloc": "go_memstats_heap_alloc_bytes",
        "NumGC": "go_gc_cycles_total",
    }
    values = {metric: mem[key] for key, metric in names.items() if key in mem}
    total = (doc.get("memstats") or {}).get("TotalAlloc")
    if isinstance(total, int | float) and not isinstance(total, bool):
        values["go_memstats_alloc_bytes_total"] = float(total)
    return MetricSample(at, values)


def decode_dump(cap: Capture, limit: int | None = None, pool: InFlight | None = None) -> Dump:
    from godiag.formats.goroutines import parse

    dump = parse(cap.data, cap.source, strict=False, limit=limit, pool=pool)
    if not dump.goroutines:
        raise ParseError(cap.source, "no goroutines in the answer (not a goroutine dump)")
    return dump


def decode_profile(cap: Capture, limit: int | None, pool: InFlight | None) -> Profile:
    from godiag.formats.pprof import decode

    return decode(cap.data, cap.source, limit=limit, pool=pool)


def decode(rec: Recorded, limit: int | None = None, pool: InFlight | None = None) -> Any:
    """One capture, decoded as its role says: Profile, Dump, (MetricSample, build path)
    or the /debug/vars document. ParseError names the capture's source."""
    from godiag.formats import expvar

    role, cap = rec.role, rec.capture
    if not ROLE.fullmatch(role):
        raise ParseError(cap.source, f"unknown capture role {role!r}")
    kind = profile_kind(role)
    if kind == "goroutine":
        return decode_dump(cap, limit, pool)
    if kind == "metrics":
        sample, path = metric_sample(rec.at, cap)
        sample.post_gc = rec.after_gc
        return sample, path
    if kind == "expvar":
        sample = expvar_sample(rec.at, expvar.parse(cap.data, cap.source))
        sample.post_gc = rec.after_gc
        return sample, None
    if kind == "vars":
        return expvar.parse(cap.data, cap.source)
    if kind == "gcount":
        return goroutine_total(cap)
    if kind == "procfs":
        return procfs_values(cap)
    if kind == "memstats":
        from godiag.formats import memstats

        return memstats.parse(cap.data, cap.source)
    return decode_profile(cap, limit, pool)


def build(
    rec: Recording,
    *,
    limit: int | None = None,
    pool: InFlight | None = None,
    decoded: Mapping[str, Any] | None = None,
) -> Observation:
    """The Observation of a Recording. `decoded` holds what a live observer already
    decoded, by role (the same `decode` on the same bytes); the rest is decoded here.
    A capture that does not decode raises ParseError: a recording holds only captures
    that did decode when they were taken, so this is a damaged or foreign bundle."""
    decoded = decoded or {}
    obs = Observation(
        rec.url, duration=rec.duration, metrics_source=rec.metrics_source,
        cpu_seconds=rec.cpu_seconds, history=list(rec.history), missing=list(rec.missing),
        trends={k: list(v) for k, v in rec.trends.items()}, lookback=rec.lookback,
        notes=list(rec.notes), budget_hits=[dict(h) for h in rec.budget_hits],
    )  # fmt: skip
    by_role: dict[str, Any] = {}
    samples: list[tuple[int, MetricSample, str | None]] = []
    for r in rec.captures:
        if r.role in by_role:
            raise ParseError(r.capture.source, f"capture role {r.role!r} appears twice")
        value = decoded[r.role] if r.role in decoded else decode(r, limit, pool)
        by_role[r.role] = value
        if r.role.startswith(("metrics#", "expvar#")):
            samples.append((int(r.role.split("#", 1)[1]), *value))
        if r.stored:
            obs.captures.append(r.capture)
    _count_samples(rec, by_role, samples)
    samples.sort(key=lambda s: s[0])
    obs.samples = [s for _, s, _ in samples]
    # the first sample that names the module, as the live observer read them
    obs.build_path = next((p for _, _, p in samples if p), None)
    obs.dumps = [by_role[f"goroutine@{e}"] for e in ENDS if f"goroutine@{e}" in by_role]
    obs.heap = [by_role[f"heap@{e}"] for e in ENDS if f"heap@{e}" in by_role]
    mids = sorted((int(r.split("#", 1)[1]), p) for r, p in by_role.items() if r.startswith("heap#"))
    obs.heap_mid = [p for _, p in mids]
    for kind in ("mutex", "block"):  # a pair or nothing: growth needs both ends
        pair = [by_role.get(f"{kind}@{e}") for e in ENDS]
        if all(p is not None for p in pair):
            setattr(obs, kind, pair)
    _reference(rec, by_role, obs)
    obs.leak = by_role.get("goroutineleak")
    obs.cpu = by_role.get("cpu")
    obs.vars_first = by_role.get("vars@start")
    obs.vars_last = by_role.get("vars@end")
    stats = sorted(
        (int(r.split("#", 1)[1]), m) for r, m in by_role.items() if r.startswith("memstats#")
    )
    obs.memstats_last = stats[-1][1] if stats else None
    return obs


def _count_samples(
    rec: Recording, by_role: dict[str, Any], samples: list[tuple[int, MetricSample, str | None]]
) -> None:
    """Each `gcount#N` gives sample N its goroutine count when the metrics did not (expvar
    has none), each `procfs#N` its fd and socket counts, each `memstats#N` its heap and GC
    counters; any of them is sample N when no metrics answered."""
    index = {n: ms for n, ms, _ in samples}
    for r in rec.captures:
        if not r.role.startswith(("gcount#", "procfs#", "memstats#")):
            continue
        got = by_role[r.role]
        if r.role.startswith("gcount#"):
            values = {"go_goroutines": got}
        elif r.role.startswith("memstats#"):
            values = expvar_sample(r.at, {"memstats": got}).values
        else:
            values = got
        n = int(r.role.split("#", 1)[1])
        if n not in index:
            index[n] = MetricSample(r.at, {}, post_gc=r.after_gc)
            samples.append((n, index[n], None))
        for name, v in values.items():
            index[n].values.setdefault(name, v)


def _reference(rec: Recording, by_role: dict[str, Any], obs: Observation) -> None:
    """The stored reference captures (`...@baseline`), each with how long before the
    observation's start it was taken."""
    for r in rec.captures:
        if r.role.endswith("@baseline"):
            kind = profile_kind(r.role)
            obs.baseline_ages[kind] = max(0.0, -r.at)
            obs.baseline_sources.append(r.capture.source)
    obs.baseline_heap = by_role.get("heap@baseline")
    obs.baseline_dump = by_role.get("goroutine@baseline")
