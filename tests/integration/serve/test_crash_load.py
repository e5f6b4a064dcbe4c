"""kill -9 in the middle of a diagnosis, and a burst of thousands of alerts: nothing
accepted is lost, nothing is diagnosed twice, memory stays bounded."""

from __future__ import annotations

import concurrent.futures
import time

import httpx
import pytest

from tests.integration.serve.harness import ADMIN_H, alert, payload, rss_kb

pytestmark = pytest.mark.integration
LEAK = {"alertname": "GoGoroutinesHigh", "job": "leaky"}


def test_kill9_mid_job_then_restart_finishes(serve_factory, leaky) -> None:  # type: ignore[no-untyped-def]
    sp = serve_factory({"leaky": leaky.url}, "lease_seconds = 2\nwindow_seconds = 4")
    body = payload([alert("c0ffee00c0ffee00", LEAK)])
    r = httpx.post(f"{sp.url}/api/v1/alerts", content=body, headers=ADMIN_H, timeout=10)
    assert r.json()["accepted"] == 1
    sp.wait_state({"running"}, timeout=20)
    time.sleep(0.5)  # inside the 4 s observation window
    sp.kill9()
    sp.start()
    (inc,) = sp.wait_state({"done"}, timeout=40)
    assert inc["attempts"] == 2  # the lease lapsed, the job was claimed again
    full = sp.incident(inc["id"])
    assert full["causes"][0]["location"]["function"] == "main.fetch.func1"


def test_burst_nothing_lost_nothing_twice_memory_bounded(serve_factory, leaky) -> None:  # type: ignore[no-untyped-def]
    sp = serve_factory({"leaky": leaky.url}, "concurrency = 2")
    base = rss_kb(sp.proc.pid)  # type: ignore[union-attr]
    batches = []
    for b in range(300):  # 3000 alerts, 10 per notification; 3 of them for the real target
        alerts = [
            alert(f"{b * 10 + i:016x}", {"alertname": "Burst", "job": f"ghost-{b}", "i": str(i)})
            for i in range(10)
        ]
        if b % 100 == 0:
            alerts[0] = alert(f"{b * 10:016x}", LEAK)
        batches.append(payload(alerts))
    sends = batches + batches[::7]  # at-least-once redelivery of some notifications
    with httpx.Client(headers=ADMIN_H, timeout=30) as client:

        def send(body: bytes) -> int:
            return client.post(f"{sp.url}/api/v1/alerts", content=body).status_code

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(send, sends))
    assert set(codes) == {202}
    items = sp.wait_state({"done", "skipped"}, timeout=90)
    assert len(items) == 3000
    assert len({i["fingerprint"] for i in items}) == 3000
    done = [i for i in items if i["state"] == "done"]
    assert len(done) == 3 and all(i["attempts"] == 1 for i in done)
    grown_mb = (rss_kb(sp.proc.pid) - base) / 1024  # type: ignore[union-attr]
    assert grown_mb < 150, f"RSS grew by {grown_mb:.0f} MB"
    metrics = httpx.get(f"{sp.url}/metrics", auth=("viewer", "viewer-pw-77"), timeout=10).text
    assert 'godiag_serve_alerts_total{outcome="accepted"} 3000.0' in metrics
