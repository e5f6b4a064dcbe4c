"""Watch a live Go service for a window: metrics samples, dumps and profiles at both ends.

Everything here is collection plus decoding; features and ranking live in
analysis/rootcause. Nothing raises for a missing or broken endpoint: each failure is
recorded in `Observation.missing` as one sentence, so the diagnosis can be partial.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from godiag.collect.http import HttpClient
from godiag.collect.pprof import collect_profile, profile_url
from godiag.errors import CollectError, OverBudget, ParseError
from godiag.model.capture import Capture, CaptureMeta
from godiag.model.goroutine import Dump
from godiag.model.profile import Profile

Progress = Callable[[str], None]
CPU_AUTO_THRESHOLD = 0.15  # CPU s/s above which an automatic CPU profile is worth taking


@dataclass
class MetricSample:
    at: float  # seconds since the observation started
    values: dict[str, float]  # sample name -> value, series of one name summed
    http_5xx: float | None = None  # requests answered 5xx so far (None: no request metric)
    gc_pause_quantiles: dict[float, float] = field(default_factory=dict)  # seconds
    post_gc: bool = False  # taken right after a forced GC: heap values are live data


@dataclass
class Observation:
    url: str
    started: float = 0.0
    duration: float = 0.0
    metrics_source: str | None = None  # "metrics", "expvar" or None
    samples: list[MetricSample] = field(default_factory=list)
    vars_first: dict[str, Any] | None = None
    vars_last: dict[str, Any] | None = None
    dumps: list[Dump] = field(default_factory=list)  # [start, end]
    leak: Profile | None = None
    heap: list[Profile] = field(default_factory=list)  # absolute snapshots after a GC
    mutex: list[Profile] = field(default_factory=list)
    block: list[Profile] = field(default_factory=list)
    cpu: Profile | None = None
    cpu_seconds: float = 0.0
    # go_goroutines before the window, from the Prometheus named in the configuration:
    # (seconds relative to the observation's start, value)
    history: list[tuple[float, float]] = field(default_factory=list)
    build_path: str | None = None
    captures: list[Capture] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # captures that went over a budget: {"capture", "budget" (bytes|time|deadline|memory),
    # "why"}; each is also one sentence in `missing`
    budget_hits: list[dict[str, str]] = field(default_factory=list)

    def note_missing(self, what: str) -> None:
        if what not in self.missing:
            self.missing.append(what)

    def failed(self, capture: str, exc: Exception) -> None:
        """A capture that could not be had: one sentence, and which budget if one stopped it."""
        if isinstance(exc, OverBudget):
            self.budget_hits.append({"capture": capture, "budget": exc.budget, "why": str(exc)})
        self.note_missing(f"{capture}: {exc}")


def _metric_sample(at: float, cap: Capture) -> tuple[MetricSample, str | None]:
    from godiag.formats import prometheus

    fams = prometheus.parse(cap.data, cap.source)
    values: dict[str, float] = {}
    errs: float | None = None
    quant: dict[float, float] = {}
    for fam in fams.values():
        for s in fam.samples:
            values[s.name] = values.get(s.name, 0.0) + s.value
            labels = dict(s.labels)
            if s.name.endswith("requests_total") and ("code" in labels or "status" in labels):
                code = labels.get("code") or labels.get("status") or ""
                errs = (errs or 0.0) + (s.value if code.startswith("5") else 0.0)
            if s.name == "go_gc_duration_seconds" and "quantile" in labels:
                quant[float(labels["quantile"])] = s.value
    path = prometheus.label_of(fams, "go_build_info", "path")
    return MetricSample(at, values, errs, quant), path


def _expvar_sample(at: float, doc: dict[str, Any]) -> MetricSample:
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


class Observer:
    """One observation of one service; `run()` fills and returns the Observation."""

    def __init__(
        self,
        url: str,
        client: HttpClient,
        window: float,
        cpu: float | None,
        meta: CaptureMeta,
        timeout: float = 10.0,
        progress: Progress | None = None,
        samples: int = 5,
        prometheus: str | None = None,
        prometheus_headers: dict[str, str] | None = None,
    ) -> None:
        self.url, self.client, self.window, self.cpu = url.rstrip("/"), client, window, cpu
        self.meta, self.timeout, self.progress = meta, timeout, progress
        self.n_samples = max(3, samples)
        self.prometheus = prometheus
        self.prometheus_headers = prometheus_headers or {}
        self.obs = Observation(self.url)
        self.pool = ThreadPoolExecutor(6)

    def _say(self, msg: str) -> None:
        if self.progress is not None:
            self.progress(msg)

    def _now(self) -> float:
        return time.monotonic() - self.obs.started

    # ---- single fetches, each returning None (and noting why) on failure
    def _profile(
        self, kind: str, *, gc: bool = False, seconds: float | None = None
    ) -> Profile | None:
        from godiag.formats.pprof import decode

        try:
            cap = collect_profile(
                self.client, self.url, kind, gc=gc, seconds=seconds, timeout=self.timeout,
                meta=self.meta,
            )  # fmt: skip
            prof = decode(
                cap.data, cap.source, limit=self.client.budget.max_bytes, pool=self.client.pool
            )
        except (CollectError, ParseError) as exc:
            text = str(exc)
            if "sampling rate is 0" in text or "no goroutineleak profile" in text:
                self.obs.notes.append(f"{kind} profile not available: {text}")  # normal
            else:
                self.obs.failed(f"{kind} profile", exc)
            return None
        self.obs.captures.append(cap)
        return prof

    def _dump(self) -> Dump | None:
        from datetime import UTC, datetime

        from godiag.formats.goroutines import parse

        url = profile_url(self.url, "goroutine") + "?debug=2"
        try:
            res = self.client.get(url, self.timeout)
            cap = Capture(
                res.body, url, "goroutine", datetime.now(UTC), res.content_type, self.meta
            )
            dump = parse(cap.data, cap.source, strict=False)
            if not dump.goroutines:
                raise ParseError(url, "no goroutines in the answer (not a goroutine dump)")
        except (CollectError, ParseError) as exc:
            self.obs.failed("goroutine dump", exc)
            return None
        self.obs.captures.append(cap)
        return dump

    def _sample(self, keep: bool = False) -> MetricSample | None:
        """One metrics sample from /metrics, else /debug/vars (remembering which works)."""
        from godiag.collect.pprof import collect_metrics, collect_vars
        from godiag.formats import expvar

        src = self.obs.metrics_source
        at = self._now()
        if src in (None, "metrics"):
            try:
                cap = collect_metrics(self.client, self.url, self.timeout)
                ms, path = _metric_sample(at, cap)
                if "go_goroutines" not in ms.values and src is None:
                    raise ParseError(cap.source, "no Go collector metrics (go_goroutines)")
                self.obs.metrics_source = "metrics"
                self.obs.build_path = self.obs.build_path or path
                if keep:
                    self.obs.captures.append(cap)
                return ms
            except (CollectError, ParseError) as exc:
                if src == "metrics":
                    self.obs.notes.append(f"metrics sample lost: {exc}")
                    if isinstance(exc, OverBudget):
                        self.obs.budget_hits.append(
                            {"capture": "/metrics", "budget": exc.budget, "why": str(exc)}
                        )
                    return None
                self.obs.failed("/metrics", exc)
        try:
            cap = collect_vars(self.client, self.url, self.timeout)
            doc = expvar.parse(cap.data, cap.source)
        except (CollectError, ParseError) as exc:
            if src is None:
                self.obs.failed("/debug/vars", exc)
                self.obs.metrics_source = "none"
            return None
        self.obs.metrics_source = "expvar"
        return _expvar_sample(at, doc)

    def _vars(self) -> dict[str, Any] | None:
        from godiag.collect.pprof import collect_vars
        from godiag.formats import expvar

        try:
            cap = collect_vars(self.client, self.url, self.timeout)
            return expvar.parse(cap.data, cap.source)
        except (CollectError, ParseError):
            return None

    def _history(self) -> list[tuple[float, float]]:
        from godiag.collect.promapi import goroutine_history

        assert self.prometheus is not None
        # a client of its own: the target's credentials are not Prometheus's; its budget is
        client = HttpClient(
            headers=self.prometheus_headers, budget=self.client.budget, pool=self.client.pool
        )
        try:
            pts = goroutine_history(client, self.prometheus, self.url, timeout=self.timeout)
        except (CollectError, ParseError) as exc:
            self.obs.failed("Prometheus history", exc)
            return []
        # wall-clock points, relative to the observation's start like the samples
        at0 = time.time() - self._now()
        return [(t - at0, v) for t, v in pts]

    # ---- the observation
    def run(self) -> Observation:
        obs = self.obs
        obs.started = time.monotonic()
        try:
            self._run()
        finally:
            self.pool.shutdown(wait=True)
            obs.duration = self._now()
        return obs

    def _run(self) -> None:
        obs, pool = self.obs, self.pool
        self._say(f"observing {self.url} for {self.window:g}s")
        history = pool.submit(self._history) if self.prometheus else None
        # Start: the heap snapshot forces a GC, so it goes first and the first metrics
        # sample right after it reads the live heap; the other fetches wait for that read
        # (a debug=2 dump of thousands of goroutines is megabytes of fresh garbage).
        first_heap = self._profile("heap", gc=True)
        first = self._sample(keep=True)
        starts: dict[str, Future[Any]] = {
            "dump": pool.submit(self._dump),
            "leak": pool.submit(self._profile, "goroutineleak"),
            "mutex": pool.submit(self._profile, "mutex"),
            "block": pool.submit(self._profile, "block"),
            "vars": pool.submit(self._vars),
        }
        if obs.metrics_source == "none" and first_heap is None and starts["dump"].result() is None:
            obs.note_missing(f"{self.url}: nothing answered: no metrics, dumps or profiles")
            return
        if first is not None:
            first.post_gc = first_heap is not None
            obs.samples.append(first)
        d0 = starts["dump"].result()
        obs.leak = starts["leak"].result()
        m0, b0 = starts["mutex"].result(), starts["block"].result()
        obs.vars_first = starts["vars"].result()
        cpu_job: Future[Profile | None] | None = None
        if self.cpu:  # asked for: start right away, it overlaps the window
            cpu_job = self._start_cpu(min(self.cpu, max(1.0, self.window - self._now())))
        deadline = self.window
        steps = self.n_samples - 1
        for i in range(1, steps + 1):
            target_t = deadline * i / steps
            time.sleep(max(0.0, target_t - self._now()))
            if i < steps:
                s = self._sample()
                if s is not None:
                    obs.samples.append(s)
                if cpu_job is None and self.cpu is None and i == 1 and self._cpu_high():
                    left = deadline - self._now()
                    if left >= 0.8:
                        cpu_job = self._start_cpu(left - 0.3)
        end_dump = pool.submit(self._dump)
        end_vars = pool.submit(self._vars)
        ends: dict[str, Future[Profile | None] | None] = {
            "mutex": pool.submit(self._profile, "mutex") if m0 is not None else None,
            "block": pool.submit(self._profile, "block") if b0 is not None else None,
        }
        last = self._sample()
        # as at the start: nothing else in flight while the end snapshot's GC runs and
        # the live heap is read after it
        for job in (end_dump, end_vars, *ends.values()):
            if job is not None:
                job.exception()
        heap_b = self._profile("heap", gc=True) if first_heap is not None else None
        # the live heap right after the end snapshot's GC
        after = self._sample(keep=True)
        if after is not None:
            after.post_gc = heap_b is not None
        for s in (last, after):
            if s is not None:
                obs.samples.append(s)
        d1 = end_dump.result()
        obs.dumps = [d for d in (d0, d1) if d is not None]
        obs.heap = [h for h in (first_heap, heap_b) if h is not None]
        for name, a in (("mutex", m0), ("block", b0)):
            job = ends[name]
            b = job.result() if job is not None else None
            if a is not None and b is not None:
                setattr(obs, name, [a, b])
        obs.vars_last = end_vars.result()
        if history is not None:
            obs.history = history.result()
        if cpu_job is not None:
            obs.cpu = cpu_job.result()
        elif self.cpu == 0:
            obs.notes.append("CPU profile not taken (--cpu 0)")

    def _cpu_high(self) -> bool:
        s = self.obs.samples
        if len(s) < 2 or "process_cpu_seconds_total" not in s[-1].values:
            return False
        dt = s[-1].at - s[0].at
        if dt <= 0:
            return False
        used = s[-1].values["process_cpu_seconds_total"] - s[0].values.get(
            "process_cpu_seconds_total", 0.0
        )
        return used / dt >= CPU_AUTO_THRESHOLD

    def _start_cpu(self, seconds: float) -> Future[Profile | None]:
        secs = max(1.0, round(seconds))
        self.obs.cpu_seconds = secs
        self._say(f"CPU profile for {secs:g}s")
        return self.pool.submit(self._profile, "cpu", seconds=secs)
