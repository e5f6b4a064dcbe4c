"""Webhook receiver of `godiag serve`: sustained alert rate and acknowledgement latency.

A loopback load generator posts Alertmanager webhook payloads (one alert each, distinct
fingerprints) to a real `godiag serve` subprocess (local store: SQLite, synchronous=FULL),
paced at RATE alerts/s for SECONDS, and then as fast as CONCURRENCY clients can.
Anchor, same run, same generator: GET /healthz of the same server (HTTP + auth-free
floor, no parsing, no database). Bar (QUALITY.md): 200 alerts/s sustained, p99 < 50 ms.
Last, in this process and without HTTP, the committer round trip (plan, insert, fsync,
thread handoffs) at the same rate: the store's share of the acknowledgement latency.
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


def committer_round_trip(tmp: Path, n: int) -> list[float]:
    """In process, no HTTP: submit -> committed (plan, SQLite insert, fsync, thread
    handoffs) for `n` notifications at RATE/s, to tell the store's share of the ack
    latency from the HTTP stack's and the scheduler's."""
    import asyncio
    import json

    from godiag import config as cfg
    from godiag.formats.alertmanager import parse
    from godiag.pipeline.jobs import Committer
    from godiag.pipeline.queue import JobDb

    conf = cfg.parse({"store": {"path": str(tmp / "rt")}, "serve": {}})
    assert conf.serve is not None
    committer = Committer(lambda: JobDb(sqlite_path=tmp / "rt.sqlite3"), conf, conf.serve)
    notes = [
        parse(json.dumps({"version": "4", "status": "firing", "alerts": [
            {"status": "firing", "labels": {"alertname": "B", "job": f"s{i % 50}"},
             "startsAt": "2026-11-26T21:00:00Z", "fingerprint": f"{i:016x}"}]}))
        for i in range(n)
    ]  # fmt: skip

    async def run() -> list[float]:
        lat: list[float] = []
        t0 = time.perf_counter()
        for i, note in enumerate(notes):
            s = time.perf_counter()
            await committer.submit(note)
            lat.append(time.perf_counter() - s)
            await asyncio.sleep(max(0.0, t0 + (i + 1) / RATE - time.perf_counter()))
        return lat

    try:
        return asyncio.run(run())
    finally:
        committer.stop()


def cpu_seconds(pid: int) -> float:
    """user + system CPU of the server process so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
            assert sp.proc is not None
            c0 = cpu_seconds(sp.proc.pid)
            a_lat, a_wall, _ = paced(f"{sp.url}/healthz", "GET", bodies[:n])
            c1 = cpu_seconds(sp.proc.pid)
            g_lat, g_wall, g_err = paced(f"{sp.url}/api/v1/alerts", "POST", bodies[:n])
            c2 = cpu_seconds(sp.proc.pid)
            rate = burst(f"{sp.url}/api/v1/alerts", bodies[n:])
        finally:
            sp.stop()
        c_lat = committer_round_trip(t, min(n, 1000))
    print(f"paced load: {n} requests at {RATE:g}/s, {CONCURRENCY} clients max for the burst")
    print(f"anchor  GET /healthz        p50 {pct(a_lat, .5):6.1f} ms  p99 {pct(a_lat, .99):6.1f} ms"
          f"  achieved {n / a_wall:6.1f}/s")  # fmt: skip
    print(f"godiag  POST /api/v1/alerts p50 {pct(g_lat, .5):6.1f} ms  p99 {pct(g_lat, .99):6.1f} ms"
          f"  achieved {n / g_wall:6.1f}/s  errors {g_err}")  # fmt: skip
    print(f"ratio p99 godiag/anchor: {pct(g_lat, 0.99) / pct(a_lat, 0.99):.2f}")
    print(f"server CPU per request: /healthz {(c1 - c0) / n * 1000:.2f} ms,"
          f" POST /api/v1/alerts {(c2 - c1) / n * 1000:.2f} ms")  # fmt: skip
    print(f"store share: committer round trip in process (no HTTP) p50 {pct(c_lat, .5):.1f} ms"
          f"  p99 {pct(c_lat, .99):.1f} ms")  # fmt: skip
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"burst: {BURST} alerts with {CONCURRENCY} concurrent clients: {rate:.0f} alerts/s")
    ok = n / g_wall >= 0.95 * RATE and pct(g_lat, 0.99) < 50 and g_err == 0
    print("bar (200/s sustained, p99 < 50 ms):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
