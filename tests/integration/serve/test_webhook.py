"""The webhook's guarantees against a real `godiag serve` process and a real leaking Go
service: auth, limits, malformed input, hostile labels, idempotency across restarts."""

from __future__ import annotations

import concurrent.futures
import http.server
import threading
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.serve.harness import ADMIN_H, READER, alert, payload

pytestmark = pytest.mark.integration
LEAK = {"alertname": "GoGoroutinesHigh", "job": "leaky", "instance": "leaky:8080"}


def post(url: str, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    h = {"Content-Type": "application/json", **(ADMIN_H if headers is None else headers)}
    return httpx.post(f"{url}/api/v1/alerts", content=body, headers=h, timeout=20)


def test_auth_limits_and_malformed(serve_factory, leaky) -> None:  # type: ignore[no-untyped-def]
    sp = serve_factory({"leaky": leaky.url}, "max_body_kb = 16")
    body = payload([alert("00000000000000aa", LEAK)])
    assert post(sp.url, body, {}).status_code == 401
    assert post(sp.url, body, {"Authorization": "Bearer wrong"}).status_code == 401
    assert post(sp.url, body, {"Authorization": "Basic !!!"}).status_code == 401
    # read credentials may look, not post
    r = httpx.post(f"{sp.url}/api/v1/alerts", content=body, auth=READER, timeout=10)
    assert r.status_code == 403
    for path in ("/", "/api/v1/incidents", "/metrics", "/openapi.json", "/incidents/ab"):
        assert httpx.get(sp.url + path, timeout=10).status_code == 401, path
    assert httpx.get(sp.url + "/healthz", timeout=10).status_code == 200
    big = payload([alert("00000000000000ab", {**LEAK, "x": "y" * 20_000})])
    assert post(sp.url, big).status_code == 413
    # streamed without Content-Length: still cut off at the limit
    r = httpx.post(
        f"{sp.url}/api/v1/alerts", content=iter([big[:10_000], big[10_000:]]), headers=ADMIN_H
    )
    assert r.status_code == 413
    for bad, why in [
        (b"{not json", "malformed JSON"),
        (b'{"version": "3", "status": "firing", "alerts": []}', "version"),
        (payload([{**alert("zz", LEAK)}]), "fingerprint"),
        (payload([alert("00000000000000ac", LEAK, starts="yesterday")]), "startsAt"),
        (b"\xff\xfe", "UTF-8"),
    ]:
        r = post(sp.url, bad)
        assert r.status_code == 400, bad
        assert why in r.json()["error"]
    assert sp.incidents() == []
    metrics = httpx.get(f"{sp.url}/metrics", auth=READER, timeout=10).text
    assert 'godiag_serve_alerts_total{outcome="malformed"} 5.0' in metrics
    assert 'godiag_serve_alerts_total{outcome="too-large"} 2.0' in metrics


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server that records every request: nothing may ever reach it."""
    seen: list[str] = []

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *a: object) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{srv.server_address[1]}", seen
    srv.shutdown()


def test_hostile_labels_recorded_harmlessly(serve_factory, leaky, recorder) -> None:  # type: ignore[no-untyped-def]
    addr, seen = recorder
    sp = serve_factory({"leaky": leaky.url})
    hostile = [
        {"alertname": "X", "instance": addr, "job": f"http://{addr}/debug/pprof"},
        {"alertname": "X", "service": f"http://{addr}/", "job": "../../../etc/passwd"},
        {"alertname": "<script>alert(1)</script>", "job": "<img src=x onerror=alert(1)>"},
        {"alertname": "X", "job": "z" * 60_000},
        {"alertname": "X", "job": "leaky\u0000", "password": "hunter2"},
    ]
    body = payload(
        [
            alert(f"{i:016x}", lab, annotations={"d": "<script>x</script>"})
            for i, lab in enumerate(hostile)
        ]
    )
    r = post(sp.url, body)
    assert r.status_code == 202, r.text
    items = sp.wait_state({"skipped"})
    assert len(items) == len(hostile)
    assert all(i["target"] is None and "unknown target" in i["note"] for i in items)
    assert seen == []  # no alert made godiag fetch anything
    page = httpx.get(f"{sp.url}/", auth=READER, timeout=10).text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    one = next(i for i in items if i["alertname"].startswith("<script>"))
    page = httpx.get(f"{sp.url}/incidents/{one['id']}", auth=READER, timeout=10).text
    assert "<img src=x" not in page and "&lt;img src=x" in page
    for path in ("/incidents/..%2f..%2fetc%2fpasswd", "/api/v1/incidents/../../etc/passwd",
                 f"/incidents/{one['id']}/artifacts/..%2f..%2findex.sqlite3"):  # fmt: skip
        assert httpx.get(sp.url + path, auth=READER, timeout=10).status_code == 404, path


def test_idempotent_concurrently_and_across_restart(serve_factory, leaky) -> None:  # type: ignore[no-untyped-def]
    sp = serve_factory({"leaky": leaky.url})
    body = payload([alert("1111222233334444", LEAK)])
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(lambda _: post(sp.url, body).status_code, range(50)))
    assert codes == [202] * 50
    items = sp.wait_state({"done"})
    assert len(items) == 1
    # a restart remembers: redelivery, HA twins and repeat notifications start nothing
    sp.stop()
    sp.start()
    for _ in range(50):
        assert post(sp.url, body).json()["accepted"] == 0
    repeat = payload(
        [alert("5555666677778888", LEAK)], notification_reason="repeat interval elapsed"
    )
    assert post(sp.url, repeat).status_code == 202
    items = sp.incidents()
    assert len(items) == 2
    assert [i["state"] for i in items if i["fingerprint"] == "5555666677778888"] == ["skipped"]
    done = sp.incident(next(i["id"] for i in items if i["state"] == "done"))
    assert done["attempts"] == 1
    # the report names the leak: the abandoned sender in leakymetrics' fetch
    top = done["causes"][0]
    assert top["kind"] == "goroutine-leak"
    assert top["location"]["function"] == "main.fetch.func1"
    assert all(a["stored"] for a in done["artifacts"])
    # the diagnosis keeps both goroutine dumps (start and end of the window) among its evidence
    assert sum(a["profile_type"] == "goroutine" for a in done["artifacts"]) == 2
    # artifacts download, and only this incident's ones
    aid = next(a["id"] for a in done["artifacts"] if a["profile_type"] == "goroutine")
    r = httpx.get(f"{sp.url}/incidents/{done['id']}/artifacts/{aid}", auth=READER, timeout=10)
    assert r.status_code == 200 and b"goroutine " in r.content
    # resolved closes the incident and never diagnoses
    resolved = payload([alert("1111222233334444", LEAK, status="resolved")], status="resolved")
    assert post(sp.url, resolved).json() == {"accepted": 0, "duplicates": 1, "resolved": 1}
    late = payload([alert("9999aaaabbbbcccc", LEAK, status="resolved")], status="resolved")
    post(sp.url, late)
    by_fp = {i["fingerprint"]: i for i in sp.incidents()}
    assert by_fp["1111222233334444"]["status"] == "resolved"
    assert by_fp["9999aaaabbbbcccc"]["state"] == "skipped"


def test_bad_posts_fail_alone_among_concurrent_good_ones(serve_factory) -> None:  # type: ignore[no-untyped-def]
    # The review's case: a lone surrogate among 300 concurrent good posts made 214 of them
    # 500 (it raised inside the shared commit); a 5,001-digit integer and a year-9999 time
    # were 500s too. Targets are unknown on purpose: rows are recorded, nothing is fetched.
    sp = serve_factory({"svc": "http://127.0.0.1:9"})
    good = [payload([alert(f"{i:016x}", {"alertname": "X", "job": f"j{i}"})]) for i in range(300)]
    bad = [
        payload([alert("00000000000bad01", {"alertname": "\ud800", "job": "j"})]),
        payload(
            [alert("00000000000bad02", {"alertname": "X"}, starts="9999-12-31T23:59:59-01:00")]
        ),
        payload([alert("00000000000bad03", {"alertname": "X"})]).replace(
            b'"truncatedAlerts": 0', b'"truncatedAlerts": ' + b"9" * 5001
        ),
    ]
    sends = good[:100] + bad + good[100:200] + bad + good[200:]
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda b: post(sp.url, b), sends))
    codes = [r.status_code for r in answers]
    assert codes.count(202) == 300 and codes.count(400) == 6, sorted(set(codes))
    assert all(r.json()["error"] for r in answers if r.status_code == 400)
    assert len(sp.incidents()) == 300
