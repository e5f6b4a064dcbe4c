"""Webhook receiver of `godiag serve`: sustained alert rate and acknowledgement latency.

A loopback load generator posts Alertmanager webhook payloads (one alert each, distinct
fingerprints) to a real `godiag serve` subprocess (local store: SQLite, synchronous=FULL),
paced at RATE alerts/s for SECONDS, and then as fast as CONCURRENCY clients can.
Anchor, same run, same generator: GET /healthz of the same server (HTTP + auth-free
floor, no parsing, no database). Bar (QUALITY.md): 200 alerts/s sustained, p99 < 50 ms.
"""

from __future__ import annotations

import concurrent.futures
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

# bench/inspect.py would shadow the standard library's inspect (httpx imports it):
# drop the script's own directory from the path, add the repository root for tests/.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import httpx  # noqa: E402
from tests.integration.serve.harness import (  # noqa: E402
    ADMIN_H,
    ServeProc,
    alert,
    payload,
    write_config,
)

RATE = float(os.environ.get("BENCH_RATE", "200"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
BURST = int(os.environ.get("BENCH_BURST", "3000"))


def paced(url: str, method: str, bodies: list[bytes]) -> tuple[list[float], float, int]:
    """Send bodies[i] at t0 + i/RATE from a pool of clients; latencies (s), wall, errors."""
    lat: list[float] = []
    errors = 0
    lock = threading.Lock()
    local = threading.local()
    t0 = time.perf_counter() + 0.2

    def one(i: int) -> None:
        nonlocal errors
        client = getattr(local, "c", None) or httpx.Client(headers=ADMIN_H, timeout=10)
        local.c = client
        delay = t0 + i / RATE - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        s = time.perf_counter()
        r = client.request(method, url, content=bodies[i] if method == "POST" else None)
        d = time.perf_counter() - s
        with lock:
            lat.append(d)
            errors += r.status_code >= 300

    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        list(pool.map(one, range(len(bodies))))
    return lat, time.perf_counter() - t0, errors


def burst(url: str, bodies: list[bytes]) -> float:
    t = time.perf_counter()
    with (
        httpx.Client(headers=ADMIN_H, timeout=30) as c,
        concurrent.futures.ThreadPoolExecutor(CONCURRENCY) as pool,
    ):
        codes = list(pool.map(lambda b: c.post(url, content=b).status_code, bodies))
    assert set(codes) == {202}, set(codes)
    return len(bodies) / (time.perf_counter() - t)


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(p * len(s)))] * 1000


def main() -> None:
    n = int(RATE * SECONDS)
    with tempfile.TemporaryDirectory(prefix="godiag-bench-serve-") as tmp:
        t = Path(tmp)
        conf = write_config(t / "serve.toml", {}, f'[store]\npath = "{t / "store"}"')
        sp = ServeProc(conf, t / "serve.log").start()
        try:
            bodies = [
                payload([alert(f"{i:016x}", {"alertname": "Bench", "job": f"svc-{i % 50}"})])
                for i in range(n + BURST)
            ]
            a_lat, a_wall, _ = paced(f"{sp.url}/healthz", "GET", bodies[:n])
            g_lat, g_wall, g_err = paced(f"{sp.url}/api/v1/alerts", "POST", bodies[:n])
            rate = burst(f"{sp.url}/api/v1/alerts", bodies[n:])
        finally:
            sp.stop()
    print(f"paced load: {n} requests at {RATE:g}/s, {CONCURRENCY} clients max for the burst")
    print(f"anchor  GET /healthz        p50 {pct(a_lat, .5):6.1f} ms  p99 {pct(a_lat, .99):6.1f} ms"
          f"  achieved {n / a_wall:6.1f}/s")  # fmt: skip
    print(f"godiag  POST /api/v1/alerts p50 {pct(g_lat, .5):6.1f} ms  p99 {pct(g_lat, .99):6.1f} ms"
          f"  achieved {n / g_wall:6.1f}/s  errors {g_err}")  # fmt: skip
    print(f"ratio p99 godiag/anchor: {pct(g_lat, 0.99) / pct(a_lat, 0.99):.2f}")
    print(f"burst: {BURST} alerts with {CONCURRENCY} concurrent clients: {rate:.0f} alerts/s")
    ok = n / g_wall >= 0.95 * RATE and pct(g_lat, 0.99) < 50 and g_err == 0
    print("bar (200/s sustained, p99 < 50 ms):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
