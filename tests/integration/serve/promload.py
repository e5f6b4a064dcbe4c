"""A bounded, ramping PromQL range-query load on a real Prometheus.

Each worker issues /api/v1/query_range requests one after another; a worker is added at
equal intervals until `workers` run at once, so the query engine's working set (a point
slice per series and step) rises while a diagnosis watches. The query aggregates, so the
answers stay small while the evaluation touches every series at every step. Bounded in time
(`seconds`) and in requests (`max_requests`); `stop()` ends it early.
"""

from __future__ import annotations

import threading
import time

import httpx

# every series, at every step; `count by (job)` keeps the answer a few lines long
QUERY = 'count by (job) ({__name__=~".+"})'


class RampingLoad:
    def __init__(
        self,
        url: str,
        workers: int = 8,
        seconds: float = 30.0,
        max_requests: int = 5000,
        span_s: float = 600.0,
        step_s: float = 0.5,
    ) -> None:
        self.url, self.workers, self.seconds = url, workers, seconds
        self.max_requests, self.span_s, self.step_s = max_requests, span_s, step_s
        self.sent = self.ok = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._ramp = threading.Thread(target=self._run, daemon=True)

    def start(self) -> RampingLoad:
        self._ramp.start()
        return self

    def _take(self) -> bool:
        with self._lock:
            if self._stop.is_set() or self.sent >= self.max_requests:
                return False
            self.sent += 1
            return True

    def _worker(self, until: float) -> None:
        with httpx.Client(timeout=30) as client:
            while time.monotonic() < until and self._take():
                now = time.time()
                # the range reaches past now: the lookback carries each series' last
                # sample forward, so every step holds a point even on a young server
                params = {"query": QUERY, "start": now - self.span_s / 2,
                          "end": now + self.span_s / 2, "step": self.step_s}  # fmt: skip
                try:
                    r = client.get(f"{self.url}/api/v1/query_range", params=params)
                    if r.status_code == 200:
                        with self._lock:
                            self.ok += 1
                except httpx.HTTPError:
                    pass

    def _run(self) -> None:
        until = time.monotonic() + self.seconds
        every = self.seconds / 2 / self.workers  # full concurrency by half time
        for _ in range(self.workers):
            t = threading.Thread(target=self._worker, args=(until,), daemon=True)
            t.start()
            self._threads.append(t)
            if self._stop.wait(every):
                break

    def stop(self) -> None:
        self._stop.set()
        self._ramp.join()
        for t in self._threads:
            t.join()
