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
from godiag.pipeline.app import create_app

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
