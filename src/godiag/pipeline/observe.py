"""Watch a live Go service for a window: metrics samples, dumps and profiles at both ends.

The live source of a diagnosis (collect/sources.py): every capture is recorded raw with
its role and time in a `Recording`; what is decoded on the way (to decide what to fetch
next) goes through formats/observation.py, the same decoder a saved bundle is replayed
with. Features and ranking live in analysis/rootcause. Nothing raises for a missing or
broken endpoint: each failure is one sentence in `Recording.missing`, so the diagnosis
can be partial.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from godiag.collect.http import HttpClient, shown_url
from godiag.collect.pprof import EmptyProfileError, collect_profile, profile_url
from godiag.errors import CollectError, HttpStatusError, OverBudget, ParseError
from godiag.formats import observation as decoder
from godiag.limits import OBSERVER_CONNECTIONS
from godiag.model.capture import Capture, CaptureMeta
from godiag.model.goroutine import Dump
from godiag.model.observation import MetricSample, Observation, Recorded, Recording
from godiag.model.profile import Profile

Progress = Callable[[str], None]
CPU_AUTO_THRESHOLD = 0.15  # CPU s/s above which an automatic CPU profile is worth taking
# GC cycles/s above which one is too: a service at its heap goal collects every few seconds
# at most; several a second is the allocation rate at issue (forced GCs of the heap snapshot
# fall before the first sample, so they are not counted)
GC_AUTO_THRESHOLD = 2.0
# the counters a GC rate is read from (client_golang's, or expvar's NumGC as named here)
GC_COUNTERS = {"go_gc_duration_seconds_count", "go_gc_cycles_total"}
NO_METRICS_ENDPOINT = (
    "no metrics endpoint: /metrics and /debug/vars both answer HTTP 404 (a service exposing "
    "pprof only): the goroutine count, heap, GC and CPU come from its profiles, and open "
    "fds from /proc for a local process"
)


def _absent(exc: Exception | None) -> bool:
    """An endpoint the server says is not there (404), not one that failed."""
    return isinstance(exc, HttpStatusError) and exc.status == 404


class Observer:
    """One observation of one service: `record()` returns the raw Recording (and keeps
    what it decoded on the way in `decoded`), `run()` the decoded Observation."""

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
        pid: int | None = None,
        lookback: float = 300.0,
        metrics_url: str | None = None,
        metrics_client: HttpClient | None = None,
    ) -> None:
        self.url, self.client, self.window, self.cpu = url.rstrip("/"), client, window, cpu
        self.meta, self.timeout, self.progress = meta, timeout, progress
        self.n_samples = max(3, samples)
        self.prometheus = prometheus
        self.prometheus_headers = prometheus_headers or {}
        self.pid = pid  # a local process: /proc says what it holds (procfs#N)
        self.lookback = lookback
        # the metrics somewhere else than under `url` (the target's metrics_url), read with
        # a client of their own (pipeline/storing.metrics_client: the target's credentials
        # only on its own origin)
        self.metrics_url = metrics_url
        self.metrics_client = metrics_client or client
        self.rec = Recording(self.url, window=window)
        self.decoded: dict[str, Any] = {}  # role -> what formats/observation decoded
        self.samples: list[MetricSample] = []  # in the order of their roles metrics#N
        self.pool = ThreadPoolExecutor(OBSERVER_CONNECTIONS)
        self.started = 0.0

    def _say(self, msg: str) -> None:
        if self.progress is not None:
            self.progress(msg)

    def _now(self) -> float:
        return time.monotonic() - self.started

    def _failed(self, capture: str, exc: Exception) -> None:
        """A capture that could not be had: one sentence, and which budget if one stopped it."""
        if isinstance(exc, OverBudget):
            self.rec.budget_hits.append({"capture": capture, "budget": exc.budget, "why": str(exc)})
        self.rec.note_missing(f"{capture}: {exc}")

    def _keep(self, role: str, at: float, cap: Capture, value: Any, stored: bool = True) -> None:
        self.rec.captures.append(Recorded(role, at, cap, stored))
        self.decoded[role] = value

    # ---- single fetches, each returning None (and noting why) on failure
    def _profile(
        self, kind: str, role: str, *, gc: bool = False, seconds: float | None = None
    ) -> Profile | None:
        at = self._now()
        try:
            cap = collect_profile(
                self.client, self.url, kind, gc=gc, seconds=seconds, timeout=self.timeout,
                meta=self.meta,
            )  # fmt: skip
            prof = decoder.decode_profile(cap, self.client.budget.max_bytes, self.client.pool)
        except (CollectError, ParseError) as exc:
            text = str(exc)
            if isinstance(exc, EmptyProfileError) or "no goroutineleak profile" in text:
                self.rec.notes.append(f"{kind} profile not available: {text}")  # normal
            else:
                self._failed(f"{kind} profile", exc)
            return None
        self._keep(role, at, cap, prof)
        return prof

    def _dump(self, role: str) -> Dump | None:
        from datetime import UTC, datetime

        url = profile_url(self.url, "goroutine", debug=2)
        at = self._now()
        try:
            res = self.client.get(url, self.timeout)
            shown = shown_url(url)
            cap = Capture(
                res.body, shown, "goroutine", datetime.now(UTC), res.content_type, self.meta
            )
            dump = decoder.decode_dump(cap, self.client.budget.max_bytes, self.client.pool)
        except (CollectError, ParseError) as exc:
            self._failed("goroutine dump", exc)
            return None
        self._keep(role, at, cap, dump)
        return dump

    def _sample(
        self, keep: bool = False, memstats: bool = False
    ) -> tuple[MetricSample, list[Recorded]] | None:
        """One metrics sample (`_metrics`), with the goroutine count from a debug=1 profile
        when the metrics lack it (expvar has none; a service may expose no metrics at all):
        the count's trend across the window is what tells a stable pool from growth.
        `memstats`: also the heap and GC counters from a debug=1 heap profile when the
        metrics lack them (taken at the window's ends only: the text holds every sampled
        stack, and a rate needs two reads)."""
        got = self._metrics(keep)
        ms, recs = (got[0], [got[1]]) if got is not None else (None, [])

        def add(read: tuple[dict[str, float], Recorded] | None) -> None:
            # what the metrics lack, from another capture taken with this sample
            nonlocal ms
            if read is not None:
                ms = ms or MetricSample(read[1].at, {})
                for name, v in read[0].items():
                    ms.values.setdefault(name, v)
                recs.append(read[1])

        if memstats and (ms is None or not GC_COUNTERS & ms.values.keys()):
            add(self._memstats())
        if ms is None or "go_goroutines" not in ms.values:
            counted = self._count()
            add(({"go_goroutines": counted[0]}, counted[1]) if counted is not None else None)
        if self.pid is not None:
            # also beside /metrics: only /proc tells the remote ends connections go to
            add(self._held())
        return (ms, recs) if ms is not None else None

    def _held(self) -> tuple[dict[str, float], Recorded] | None:
        from datetime import UTC, datetime

        from godiag.collect.procfs import fd_snapshot

        assert self.pid is not None
        at = self._now()
        try:
            data = fd_snapshot(self.pid)
        except CollectError as exc:
            self.rec.notes.append(f"/proc sample lost: {exc}")
            return None
        cap = Capture(data, f"/proc/{self.pid}", "procfs", datetime.now(UTC), "text/plain")
        return decoder.procfs_values(cap), Recorded("procfs#", at, cap, False)

    def _memstats(self) -> tuple[dict[str, float], Recorded] | None:
        from godiag.collect.pprof import collect_memstats
        from godiag.formats import memstats

        at = self._now()
        try:
            cap = collect_memstats(self.client, self.url, self.timeout)
            doc = memstats.parse(cap.data, cap.source)
        except (CollectError, ParseError) as exc:
            self.rec.notes.append(f"MemStats sample lost: {exc}")
            return None
        return decoder.expvar_sample(at, {"memstats": doc}).values, Recorded(
            "memstats#", at, cap, False
        )

    def _count(self) -> tuple[float, Recorded] | None:
        from godiag.collect.pprof import collect_goroutine_count

        at = self._now()
        try:
            cap = collect_goroutine_count(self.client, self.url, self.timeout)
            n = decoder.goroutine_total(cap)
        except (CollectError, ParseError) as exc:
            self.rec.notes.append(f"goroutine count sample lost: {exc}")
            return None
        return n, Recorded("gcount#", at, cap, False)

    def _metrics(self, keep: bool) -> tuple[MetricSample, Recorded] | None:
        """One metrics sample from /metrics, else /debug/vars (remembering which works).
        `keep`: one of the diagnosis's stored artifacts. The caller gives it its role."""
        from godiag.collect.pprof import collect_metrics, collect_vars
        from godiag.formats import expvar

        if self.metrics_url is not None:
            return self._metrics_at(self.metrics_url, keep)
        src = self.rec.metrics_source
        at = self._now()
        no_metrics: Exception | None = None  # why /metrics failed, on the first sample
        if src in (None, "metrics"):
            try:
                cap = collect_metrics(self.client, self.url, self.timeout)
                ms, _ = decoder.metric_sample(at, cap)
                if "go_goroutines" not in ms.values and src is None:
                    raise ParseError(cap.source, "no Go collector metrics (go_goroutines)")
                self.rec.metrics_source = "metrics"
                return ms, Recorded("metrics#", at, cap, keep)
            except (CollectError, ParseError) as exc:
                if src == "metrics":
                    self.rec.notes.append(f"metrics sample lost: {exc}")
                    if isinstance(exc, OverBudget):
                        self.rec.budget_hits.append(
                            {"capture": "/metrics", "budget": exc.budget, "why": str(exc)}
                        )
                    return None
                no_metrics = exc
        if src == "none":
            return None
        try:
            cap = collect_vars(self.client, self.url, self.timeout)
            doc = expvar.parse(cap.data, cap.source)
        except (CollectError, ParseError) as exc:
            if src is None:
                if _absent(no_metrics) and _absent(exc):
                    # neither endpoint exists: a service exposing pprof only is set up as
                    # it means to be; its samples come from the profiles (and /proc)
                    self.rec.notes.append(NO_METRICS_ENDPOINT)
                else:
                    if no_metrics is not None:
                        self._failed("/metrics", no_metrics)
                    self._failed("/debug/vars", exc)
                self.rec.metrics_source = "none"
            return None
        if isinstance(no_metrics, OverBudget):
            self._failed("/metrics", no_metrics)  # a budget stopped it: that is a gap
        elif no_metrics is not None:
            # /debug/vars serves the samples: a service exposing expvar and no /metrics is
            # set up as it means to be, not missing a capture
            self.rec.notes.append(f"metrics from /debug/vars (/metrics: {no_metrics})")
        self.rec.metrics_source = "expvar"
        return decoder.expvar_sample(at, doc), Recorded("expvar#", at, cap, False)

    def _metrics_at(self, url: str, keep: bool) -> tuple[MetricSample, Recorded] | None:
        """One metrics sample from the target's metrics URL, Prometheus text or expvar JSON
        (collect_metrics_at tells which). No fallback to /metrics or /debug/vars under the
        base URL: the metrics are where the target says; when they fail there, the samples
        come from the profiles (and /proc) as for a service without metrics, and the gap
        names the URL and why."""
        from godiag.collect.pprof import collect_metrics_at
        from godiag.formats import expvar

        src = self.rec.metrics_source
        if src == "none":
            return None
        at = self._now()
        try:
            cap = collect_metrics_at(self.metrics_client, url, self.timeout)
            if cap.profile_type == "expvar":
                ms = decoder.expvar_sample(at, expvar.parse(cap.data, cap.source))
            else:
                ms, _ = decoder.metric_sample(at, cap)
        except (CollectError, ParseError) as exc:
            shown = shown_url(url)
            what = "metrics URL" if shown in str(exc) else f"metrics URL {shown}"
            if src is None:
                self._failed(what, exc)
                self.rec.metrics_source = "none"
            else:
                self.rec.notes.append(f"metrics sample lost: {exc}")
                if isinstance(exc, OverBudget):
                    self.rec.budget_hits.append(
                        {"capture": what, "budget": exc.budget, "why": str(exc)}
                    )
            return None
        self.rec.metrics_source = cap.profile_type
        if cap.profile_type == "expvar":  # as /debug/vars's samples: not stored
            return ms, Recorded("expvar#", at, cap, False)
        return ms, Recorded("metrics#", at, cap, keep)

    def _add_sample(
        self, got: tuple[MetricSample, list[Recorded]] | None, after_gc: bool = False
    ) -> None:
        """Append a sample to the window's series: its role is its place in it."""
        if got is None:
            return
        ms, recs = got
        ms.post_gc = after_gc
        for r in recs:
            self.rec.captures.append(
                Recorded(f"{r.role}{len(self.samples)}", r.at, r.capture, r.stored, after_gc)
            )
        self.samples.append(ms)

    def _vars(self, role: str) -> dict[str, Any] | None:
        from godiag.collect.pprof import collect_metrics_at, collect_vars
        from godiag.formats import expvar

        at = self._now()
        try:
            if self.metrics_url is not None and self.rec.metrics_source == "expvar":
                # the expvar document is at the metrics URL, not under the base URL
                cap = collect_metrics_at(self.metrics_client, self.metrics_url, self.timeout)
            else:
                cap = collect_vars(self.client, self.url, self.timeout)
            doc = expvar.parse(cap.data, cap.source)
        except (CollectError, ParseError):
            return None
        self._keep(role, at, cap, doc, stored=False)
        return doc

    def _history(self) -> tuple[dict[str, list[tuple[float, float]]], list[str]]:
        from godiag.collect.promapi import history

        assert self.prometheus is not None
        # a client of its own: the target's credentials are not Prometheus's; its budget is
        client = HttpClient(
            headers=self.prometheus_headers, budget=self.client.budget, pool=self.client.pool
        )
        try:
            found, absent = history(
                client, self.prometheus, self.url, self.lookback, timeout=self.timeout
            )
        except (CollectError, ParseError) as exc:
            self._failed("Prometheus history", exc)
            return {}, []
        # wall-clock points, relative to the observation's start like the samples
        at0 = time.time() - self._now()
        return {name: [(t - at0, v) for t, v in pts] for name, pts in found.items()}, absent

    def _absent(self, found: dict[str, list[tuple[float, float]]], absent: list[str]) -> None:
        """Say which of the target's series Prometheus did not have (once the window knows
        whether the target serves /metrics at all)."""
        span = f"in the last {self.lookback / 60:g} min"
        if not found and absent and self.rec.metrics_source != "metrics":
            # nothing for Prometheus to scrape: how the service is exposed, not a gap
            self.rec.notes.append(
                f"Prometheus history: none ({self.prometheus} has no series of this target "
                f"{span}, and the target serves no /metrics)"
            )
            return
        for what in absent:
            msg = f"Prometheus history: {self.prometheus} has no {what} {span}"
            # the goroutine count is what every Go collector exports; the rest (process_*
            # series, the heap under other names) are often not there: a note, not a gap
            if what.startswith("go_goroutines"):
                self.rec.note_missing(msg)
            elif found:
                self.rec.notes.append(msg)

    # ---- the observation
    def run(self) -> Observation:
        """Observe, then decode: the Observation analysis reads."""
        rec = self.record()
        return decoder.build(
            rec, limit=self.client.budget.max_bytes, pool=self.client.pool, decoded=self.decoded
        )

    def record(self) -> Recording:
        rec = self.rec
        self.started = time.monotonic()
        try:
            self._run()
        finally:
            self.pool.shutdown(wait=True)
            rec.duration = self._now()
        return rec

    def _run(self) -> None:
        rec, pool = self.rec, self.pool
        self._say(f"observing {self.url} for {self.window:g}s")
        history = pool.submit(self._history) if self.prometheus else None
        # Start: the heap snapshot forces a GC, so it goes first and the first metrics
        # sample right after it reads the live heap; the other fetches wait for that read
        # (a debug=2 dump of thousands of goroutines is megabytes of fresh garbage).
        first_heap = self._profile("heap", "heap@start", gc=True)
        first = self._sample(keep=True, memstats=True)
        starts: dict[str, Future[Any]] = {
            "dump": pool.submit(self._dump, "goroutine@start"),
            "leak": pool.submit(self._profile, "goroutineleak", "goroutineleak"),
            "mutex": pool.submit(self._profile, "mutex", "mutex@start"),
            "block": pool.submit(self._profile, "block", "block@start"),
            "vars": pool.submit(self._vars, "vars@start"),
        }
        if rec.metrics_source == "none" and first_heap is None and starts["dump"].result() is None:
            rec.note_missing(f"{self.url}: nothing answered: no metrics, dumps or profiles")
            return
        self._add_sample(first, after_gc=first_heap is not None)
        for fut in starts.values():
            fut.result()
        m0, b0 = starts["mutex"].result(), starts["block"].result()
        cpu_job: Future[Profile | None] | None = None
        if self.cpu:  # asked for: start right away, it overlaps the window
            cpu_job = self._start_cpu(min(self.cpu, max(1.0, self.window - self._now())))
        elif self.cpu is None and self._cpu_unmeasured():
            # the profile is the only CPU measure: start it now, over what is left of the
            # window (a second at least), not at the first inner sample, which a slow start
            # on a loaded machine (a GC'd heap, a dump of thousands) can push past the window
            cpu_job = self._start_cpu(max(1.0, self.window - self._now()))
        deadline = self.window
        steps = self.n_samples - 1
        # the live heap between the ends, without forcing a GC (as of the service's last
        # one): a leak's site only rises, a working set's falls back as requests finish
        mids: list[Future[Profile | None]] = []
        late = False  # the CPU got busy too late in the window for a profile
        for i in range(1, steps + 1):
            target_t = deadline * i / steps
            time.sleep(max(0.0, target_t - self._now()))
            if i < steps:
                self._add_sample(self._sample())
                if first_heap is not None:
                    mids.append(pool.submit(self._profile, "heap", f"heap#{i}"))
                # at any inner sample, not only the first: under bursty load the CPU
                # can be idle at the first and busy from the second on
                if cpu_job is None and self.cpu is None and not late and self._cpu_high():
                    left = deadline - self._now()
                    if left >= 0.8:
                        cpu_job = self._start_cpu(left - 0.3)
                    else:
                        late = True
                        rec.notes.append(
                            f"CPU profile not taken: the CPU became busy with "
                            f"{max(0.0, left):.1f}s of the window left; --cpu N takes one "
                            f"in any case"
                        )
        end_dump = pool.submit(self._dump, "goroutine@end")
        end_vars = pool.submit(self._vars, "vars@end")
        ends: dict[str, Future[Profile | None] | None] = {
            "mutex": pool.submit(self._profile, "mutex", "mutex@end") if m0 is not None else None,
            "block": pool.submit(self._profile, "block", "block@end") if b0 is not None else None,
        }
        last = self._sample(memstats=True)
        # as at the start: nothing else in flight while the end snapshot's GC runs and
        # the live heap is read after it
        for job in (end_dump, end_vars, *ends.values(), *mids):
            if job is not None:
                job.exception()
        heap_b = self._profile("heap", "heap@end", gc=True) if first_heap is not None else None
        # the live heap right after the end snapshot's GC
        after = self._sample(keep=True, memstats=True)
        self._add_sample(last)
        self._add_sample(after, after_gc=heap_b is not None)
        if history is not None:
            rec.trends, absent = history.result()
            self._absent(rec.trends, absent)
            rec.lookback = self.lookback
            # goroutines_delta_5m: the last 5 minutes of the count, as before the lookback
            rec.history = [p for p in rec.trends.get("go_goroutines", []) if p[0] >= -300.0]
        if cpu_job is not None:
            cpu_job.result()
        elif self.cpu == 0:
            rec.notes.append("CPU profile not taken (--cpu 0)")

    def _cpu_unmeasured(self) -> bool:
        """No process_cpu_seconds_total to read CPU use from (pprof only, expvar, a
        hand-written /metrics): the CPU profile over the rest of the window is the only CPU
        measure, and a spinning service would otherwise look idle."""
        return not any("process_cpu_seconds_total" in s.values for s in self.samples)

    def _cpu_high(self) -> bool:
        """Busy on the CPU, or collecting garbage often, since the window began or over the
        last interval between samples (a burst after an idle start): cpu-saturation or
        gc-pressure is in play, and only a CPU profile locates either (the allocating code
        shows in mallocgc's callers)."""
        for since in (0, -2):
            cpu = self._rate("process_cpu_seconds_total", since)
            gc = self._rate("go_gc_duration_seconds_count", since)
            if gc is None:
                gc = self._rate("go_gc_cycles_total", since)
            if (cpu or 0.0) >= CPU_AUTO_THRESHOLD or (gc or 0.0) >= GC_AUTO_THRESHOLD:
                return True
        return False

    def _rate(self, name: str, since: int = 0) -> float | None:
        """Per-second change of a counter from sample `since` to the last."""
        s = self.samples
        if len(s) < 2 or name not in s[-1].values or name not in s[since].values:
            return None
        dt = s[-1].at - s[since].at
        return (s[-1].values[name] - s[since].values[name]) / dt if dt > 0 else None

    def _start_cpu(self, seconds: float) -> Future[Profile | None]:
        secs = max(1.0, round(seconds))
        self.rec.cpu_seconds = secs
        self._say(f"CPU profile for {secs:g}s")
        return self.pool.submit(self._profile, "cpu", "cpu", seconds=secs)
