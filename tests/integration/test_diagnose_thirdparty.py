"""diagnose on real third-party daemons at rest (Debian's prometheus and alertmanager).

Services nobody here wrote: at rest they must not be read as faulty, and their build is
identified from the Prometheus ecosystem's `*_build_info{revision}` so that artifacts are
stored without a --build-commit.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from godiag import schemas
from godiag.config import Target
from godiag.pipeline.diagnose import DiagnoseOptions, diagnose, is_fault
from tests.integration.serve.promstack import (
    AM_BIN,
    PROM_BIN,
    start_alertmanager,
    start_prometheus,
)

pytestmark = pytest.mark.integration


def _at_rest(name: str, url: str, tmp_path: Path) -> dict[str, object]:
    os.environ["GODIAG_HOME"] = str(tmp_path)
    try:
        doc = diagnose(Target(name=name, url=url), DiagnoseOptions(window=3.0, flames=False))
    finally:
        del os.environ["GODIAG_HOME"]
    schemas.validate(doc)
    return doc


def _check(doc: dict[str, object], binary: str) -> None:
    causes = doc["causes"]
    assert isinstance(causes, list) and causes, doc["missing"]
    assert not is_fault(doc) or not doc["confident"], (doc["verdict"], causes[0])
    store = doc["store"]
    assert isinstance(store, dict) and "build_commit" not in (store.get("missing") or []), store
    assert doc["artifacts"], store
    print(binary, doc["verdict"])


@pytest.mark.skipif(PROM_BIN is None, reason="prometheus is not installed (.ci/run does it)")
def test_prometheus_at_rest(tmp_path: Path) -> None:
    prom = start_prometheus("127.0.0.1:9")
    try:
        doc = _at_rest("prometheus", prom.info["url"], tmp_path)
    finally:
        prom.stop()
    _check(doc, "prometheus")


@pytest.mark.skipif(AM_BIN is None, reason="alertmanager is not installed (.ci/run does it)")
def test_alertmanager_at_rest(tmp_path: Path) -> None:
    am = start_alertmanager("http://127.0.0.1:9/hook", "t")
    try:
        doc = _at_rest("alertmanager", am.info["url"], tmp_path)
    finally:
        am.stop()
    _check(doc, "alertmanager")
