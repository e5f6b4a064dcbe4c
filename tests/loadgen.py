"""Bounded client load on real third-party services (Prometheus, Alertmanager, etcd, the
SeaweedFS master), for healthy data under load and the tests that diagnose it.

A `Load` runs one request function from a few threads, its concurrency rising from `start`
to `peak` over `ramp` seconds (or flat when they are equal), until stopped or `max_requests`
is reached. Every request has a timeout; failures are counted, never raised: a service
shedding load is part of what is observed.
"""

from __future__ import annotations

import base64
import contextlib
import json
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable

TIMEOUT = 5.0


def _get(url: str) -> None:
    with urllib.request.urlopen(url, timeout=TIMEOUT) as r:
        r.read(8 << 20)


def _post(url: str, doc: object) -> None:
    req = urllib.request.Request(url, data=json.dumps(doc).encode(),
                                 headers={"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
        r.read(1 << 20)


def prometheus_queries(url: str) -> Callable[[], None]:
    """Range queries over the server's own series, the way dashboards ask: a few minutes
    at a one-second step, over every Go runtime series it scraped."""
    exprs = ['rate({__name__=~"go_.+"}[30s])', '{__name__=~".+_total"}',
             'sum by (__name__) ({__name__=~"prometheus_.+"})']  # fmt: skip

    def one() -> None:
        now = time.time()
        q = urllib.parse.urlencode({"query": random.choice(exprs), "start": now - 300,
                                    "end": now, "step": "1"})  # fmt: skip
        _get(f"{url}/api/v1/query_range?{q}")

    return one


def alertmanager_alerts(url: str) -> Callable[[], None]:
    """Alerts posted as Prometheus does, over a rotating set of label sets, and read back."""

    def one() -> None:
        n = random.randrange(200)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        _post(f"{url}/api/v2/alerts", [{"labels": {"alertname": f"Load{n % 7}",
               "instance": f"10.0.0.{n}:9100", "severity": "page"}, "startsAt": now,
               "annotations": {"summary": "load"}}])  # fmt: skip
        if n % 5 == 0:
            _get(f"{url}/api/v2/alerts")

    return one


def etcd_kv(url: str) -> Callable[[], None]:
    """Puts and ranges through etcd's gRPC gateway, over a bounded key space."""

    def b64(s: str) -> str:
        return base64.b64encode(s.encode()).decode()

    def one() -> None:
        k = f"/load/{random.randrange(500):04d}"
        if random.random() < 0.5:
            _post(
                f"{url}/v3/kv/put", {"key": b64(k), "value": b64("x" * random.randrange(64, 2048))}
            )
        else:
            _post(f"{url}/v3/kv/range", {"key": b64("/load/"), "range_end": b64("/load0"),
                                         "limit": 50})  # fmt: skip

    return one


def seaweed_master(url: str) -> Callable[[], None]:
    """The master's status and lookup endpoints, as volume servers and clients poll them."""
    paths = ["/dir/status", "/cluster/status", "/vol/status", "/dir/lookup?volumeId=1"]

    def one() -> None:
        # a lookup of a volume that does not exist is still served (as an error answer)
        with contextlib.suppress(urllib.error.HTTPError):
            _get(url + random.choice(paths))

    return one


class Load:
    def __init__(self, request: Callable[[], None], start: int = 1, peak: int = 4,
                 ramp: float = 20.0, max_requests: int = 200_000) -> None:  # fmt: skip
        self.request, self.start, self.peak, self.ramp = request, start, peak, ramp
        self.budget = max_requests
        self.done = self.failed = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._t0 = 0.0

    def _wanted(self) -> int:
        if self.ramp <= 0 or self.peak == self.start:
            return self.peak
        f = min(1.0, (time.monotonic() - self._t0) / self.ramp)
        return round(self.start + (self.peak - self.start) * f)

    def _worker(self, i: int) -> None:
        while not self._stop.is_set():
            if i >= self._wanted():
                time.sleep(0.1)
                continue
            with self._lock:
                if self.done + self.failed >= self.budget:
                    return
            try:
                self.request()
                ok = True
            except OSError:
                ok = False
            with self._lock:
                self.done += ok
                self.failed += not ok

    def __enter__(self) -> Load:
        self._t0 = time.monotonic()
        self._threads = [threading.Thread(target=self._worker, args=(i,), daemon=True)
                         for i in range(self.peak)]  # fmt: skip
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(TIMEOUT + 1)
