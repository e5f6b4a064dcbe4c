"""`diagnose` against hostile targets (tests/hostile.py): every capture stays within its
byte and time budgets, the whole diagnosis within its deadline, and the document says
which capture hit which budget while it goes on with the others."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from godiag.config import Target
from godiag.pipeline.diagnose import DiagnoseOptions, diagnose
from godiag.schemas import load as load_schema
from tests.hostile import HostileServer


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
