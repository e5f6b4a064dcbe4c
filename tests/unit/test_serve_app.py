"""The serve application in process (Starlette's TestClient, no workers): hostile alert
payloads, cross-origin posts, redaction off the event loop, response headers."""

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():  # starlette prefers httpx2; httpx is what is installed
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from godiag import config as cfg
from godiag.pipeline.web.app import create_app

ADMIN = {"Authorization": "Bearer admin-tok-31c"}
READ = ("viewer", "viewer-pw")


def make_config(tmp_path: Path) -> cfg.Config:
    return cfg.parse(
        {
            "targets": [{"name": "svc", "url": "http://127.0.0.1:9/"}],
            "store": {"path": str(tmp_path / "store")},
            "serve": {
                "credentials": [
                    {"role": "admin", "bearer": ADMIN["Authorization"].split()[1]},
                    {"role": "read", "username": READ[0], "password": READ[1]},
                ]
            },
        }
    )


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    def never(*a: Any) -> dict[str, Any]:
        raise AssertionError("no diagnosis runs in these tests")

    app = create_app(make_config(tmp_path), never, workers=False)
    with TestClient(app) as c:
        yield c


def alert(fp: str, labels: dict[str, str], starts: str = "2026-11-26T21:00:00Z") -> dict[str, Any]:
    return {
        "status": "firing",
        "labels": {"alertname": "GoGoroutinesHigh", "job": "svc", **labels},
        "annotations": {},
        "startsAt": starts,
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "",
        "fingerprint": fp,
    }


def body(alerts: list[dict[str, Any]]) -> str:
    return json.dumps({"version": "4", "status": "firing", "alerts": alerts})


def post(c: TestClient, text: str, **headers: str) -> Any:
    h = {**ADMIN, "Content-Type": "application/json", **headers}
    return c.post("/api/v1/alerts", content=text.encode("utf-8", "surrogatepass"), headers=h)


def test_redaction_runs_off_the_event_loop(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from godiag.pipeline import notify

    calls: list[bool] = []
    real = notify.redact_labels

    def spy(labels: dict[str, str]) -> dict[str, str]:
        try:
            asyncio.get_running_loop()
            calls.append(True)  # on the event loop: every other request waits
        except RuntimeError:
            calls.append(False)
        return real(labels)

    monkeypatch.setattr(notify, "redact_labels", spy)
    assert post(client, body([alert("a1", {"x": "a-" * 1024 + "="})])).status_code == 202
    (inc,) = client.get("/api/v1/incidents", auth=READ).json()["incidents"]
    for path in ("/api/v1/incidents", f"/api/v1/incidents/{inc['id']}", "/",
                 f"/incidents/{inc['id']}"):  # fmt: skip
        assert client.get(path, auth=READ).status_code == 200, path
    assert calls and not any(calls)


def test_cross_site_posts_are_refused(client: TestClient) -> None:
    good = body([alert("c1", {})])
    # what a page of another site can send with cached credentials, without a preflight
    for ctype in ("text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
                  "multipart/form-data; boundary=x"):  # fmt: skip
        r = post(client, good, **{"Content-Type": ctype, "Origin": "http://evil.example"})
        assert r.status_code == 415, ctype
    r = client.post("/api/v1/alerts", content=good.encode(), headers=ADMIN)  # no type at all
    assert r.status_code == 415
    r = post(client, good, Origin="http://evil.example")
    assert r.status_code == 403 and "cross-origin" in r.json()["error"]
    assert client.get("/api/v1/incidents", auth=READ).json()["incidents"] == []
    assert post(client, good).status_code == 202  # Alertmanager: JSON, no Origin
    assert post(client, good, Origin="http://testserver").status_code == 202  # same origin


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (body([alert("d0", {"alertname": "\ud800"})]), "lone surrogate"),  # the case
        (body([alert("d1", {"x": "\ud800"})]), "lone surrogate"),
        (body([alert("d2", {"\udfff": "v"})]), "lone surrogate"),
        (body([{**alert("d3", {}), "annotations": {"s": "a\ud800b"}}]), "lone surrogate"),
        (
            '{"version": "4", "status": "firing", "truncatedAlerts": '
            + "9" * 5001
            + ', "alerts": []}',
            "malformed JSON",
        ),
        (body([alert("d4", {}, starts="9999-12-31T23:59:59-01:00")]), "out of range"),
        (body([alert("d5", {}, starts="0001-01-01T00:30:00+01:00")]), "out of range"),
    ],
)
def test_hostile_payloads_fail_alone_with_a_reason(client: TestClient, text: str, why: str) -> None:
    r = post(client, text)
    assert r.status_code == 400 and why in r.json()["error"], r.text
    assert post(client, body([alert("e1", {})])).status_code == 202


def test_a_row_that_cannot_be_stored_fails_alone_in_its_batch(tmp_path: Path) -> None:
    # The committer's own isolation, for data the parser let through (here built by hand):
    # the batch is retried one notification at a time and only the bad one is rejected.
    from datetime import UTC, datetime

    from godiag.formats.alertmanager import Alert, Notification
    from godiag.pipeline.jobs import Accepted, Rejected, commit_batch
    from godiag.pipeline.queue import JobDb, Queue

    conf = make_config(tmp_path)
    assert conf.serve is not None

    def note(fp: str, labels: dict[str, str]) -> Notification:
        a = Alert("firing", {"alertname": "A", "job": "svc", **labels}, {},
                  datetime(2026, 11, 26, tzinfo=UTC), None, "", fp)  # fmt: skip
        return Notification("4", "", "firing", "", (a,))

    db = JobDb(sqlite_path=tmp_path / "q.sqlite3")
    # alertname is a column of its own: a lone surrogate there cannot be encoded to UTF-8
    notes = [note(f"{i:02x}", {"alertname": "\ud800"} if i == 3 else {}) for i in range(8)]
    out = commit_batch(Queue(db), notes, conf, conf.serve)
    assert isinstance(out[3], Rejected) and "cannot be stored" in str(out[3])
    good = [o for i, o in enumerate(out) if i != 3]
    assert all(isinstance(o, Accepted) and len(o.new) == 1 for o in good)
    assert Queue(db).counts() == {"queued": 7}
    db.close()


def test_security_headers_and_a_sandboxed_report(client: TestClient) -> None:
    assert post(client, body([alert("f1", {})])).status_code == 202
    (inc,) = client.get("/api/v1/incidents", auth=READ).json()["incidents"]
    for path in ("/", f"/incidents/{inc['id']}", "/api/v1/incidents", "/healthz"):
        r = client.get(path, auth=READ)
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["x-frame-options"] == "DENY", path
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"], path
    # no report yet (404), but the route's policy already holds: a sandbox, framed by godiag only
    r = client.get(f"/incidents/{inc['id']}/report", auth=READ)
    csp = r.headers["content-security-policy"]
    assert csp.startswith("sandbox allow-scripts;") and "allow-same-origin" not in csp
    assert r.headers["x-frame-options"] == "SAMEORIGIN"
