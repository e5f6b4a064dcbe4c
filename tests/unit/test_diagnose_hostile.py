"""`diagnose` against hostile targets (tests/hostile.py): every capture stays within its
byte and time budgets, the whole diagnosis within its deadline, and the document says
which capture hit which budget while it goes on with the others."""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from godiag import config as cfg
from godiag.config import Target
from godiag.pipeline.diagnose import DiagnoseOptions, diagnose
from godiag.pipeline.diagnosers import default_diagnoser
from godiag.pipeline.web.app import create_app
from godiag.schemas import load as load_schema
from tests.hostile import HostileServer

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    srv = HostileServer().start()
    yield srv
    srv.stop()


def run(url: str, **opts: Any) -> dict[str, Any]:
    options = DiagnoseOptions(window=1.0, cpu=0, store=False, flames=False, **opts)
    doc = diagnose(Target(name="hostile", url=url), options)
    jsonschema.validate(doc, load_schema("diagnosis"))
    return doc


@pytest.mark.timeout(60)
def test_bomb_heap_is_reported_and_the_rest_is_used(hostile: HostileServer) -> None:
    doc = run(hostile.url("mixed"), max_capture_mb=8)
    hits = doc["budgets"]["hits"]
    assert [(h["capture"], h["budget"]) for h in hits] == [("heap profile", "bytes")] * len(hits)
    assert hits and "8 MB" in hits[0]["why"]
    assert any(m.startswith("heap profile:") and "8 MB" in m for m in doc["missing"])
    assert doc["features"]["goroutines"] == 2  # /metrics and the dumps were still read
    assert doc["status"] == "partial"


@pytest.mark.timeout(60)
def test_endless_and_huge_answers_are_cut(hostile: HostileServer) -> None:
    for mode in ("chunked", "huge"):
        doc = run(hostile.url(mode), max_capture_mb=4)
        kinds = {h["budget"] for h in doc["budgets"]["hits"]}
        assert kinds and kinds <= {"bytes", "memory"}, (mode, doc["budgets"])
        assert doc["causes"] == [] and doc["verdict"].startswith("no diagnosis")


@pytest.mark.timeout(60)
def test_trickling_target_cannot_outlast_the_deadline(hostile: HostileServer) -> None:
    doc = run(hostile.url("trickle"), timeout=30.0, deadline=3.0)
    assert doc["budgets"]["deadline_s"] == 3.0
    assert {h["budget"] for h in doc["budgets"]["hits"]} == {"deadline"}


@pytest.mark.timeout(90)
def test_serve_job_on_a_trickling_target_ends_at_its_deadline(
    hostile: HostileServer, tmp_path: Path
) -> None:
    # Before the deadline existed the job stayed "running" under its renewed lease for as
    # long as the target kept trickling.
    conf = cfg.parse(
        {
            "targets": [{"name": "svc", "url": hostile.url("trickle")}],
            "store": {"path": str(tmp_path / "store")},
            "serve": {
                "window_seconds": 1,
                "routes": [{"options": {"deadline_seconds": 3, "timeout_seconds": 30}}],
                "credentials": [{"role": "admin", "bearer": "adm"},
                                {"role": "read", "username": "r", "password": "rpw"}],
            },
        }
    )  # fmt: skip
    alert = {"status": "firing", "labels": {"alertname": "A", "job": "svc"},
             "startsAt": "2026-11-26T21:00:00Z", "fingerprint": "0b"}  # fmt: skip
    note = json.dumps({"version": "4", "status": "firing", "alerts": [alert]})
    h = {"Authorization": "Bearer adm", "Content-Type": "application/json"}
    with TestClient(create_app(conf, default_diagnoser(conf))) as c:
        assert c.post("/api/v1/alerts", content=note, headers=h).status_code == 202
        for _ in range(400):  # bounded polling; the deadline is what ends the job
            (inc,) = c.get("/api/v1/incidents", auth=("r", "rpw")).json()["incidents"]
            if inc["state"] not in ("queued", "running"):
                break
            time.sleep(0.1)
        full = c.get(f"/api/v1/incidents/{inc['id']}", auth=("r", "rpw")).json()
    assert full["state"] == "done" and full["attempts"] == 1
    budgets = full["report"]["document"]["budgets"]
    assert budgets["deadline_s"] == 3 and "deadline" in {h["budget"] for h in budgets["hits"]}
