"""diagnose on real third-party daemons at rest (Debian's prometheus and alertmanager),
and Prometheus under a rising query load.

Services nobody here wrote: at rest they must not be read as faulty, and their build is
identified from the Prometheus ecosystem's `*_build_info{revision}` so that artifacts are
stored without a --build-commit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from godiag import schemas
from godiag.config import Target
from godiag.pipeline.diagnose import DiagnoseOptions, diagnose, is_fault
from tests.integration.serve.promload import RampingLoad
from tests.integration.serve.promstack import (
    AM_BIN,
    ETCD_BIN,
    PROM_BIN,
    start_alertmanager,
    start_etcd,
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


def _diagnose_cli(url: str, home: Path) -> tuple[int, dict[str, Any]]:
    proc = subprocess.run(
        [sys.executable, "-m", "godiag", "diagnose", url, "--window", "5s", "--no-store",
         "--format", "json"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "GODIAG_HOME": str(home)},
    )  # fmt: skip
    doc: dict[str, Any] = json.loads(proc.stdout)
    schemas.validate(doc)
    return proc.returncode, doc


@pytest.mark.skipif(ETCD_BIN is None, reason="etcd is not built (make test-deps)")
def test_etcd_at_rest(tmp_path: Path) -> None:
    """etcd (built from the Go module proxy) settled after start-up: not a confident fault.
    Its build carries no revision label, so nothing is asked of the store here."""
    etcd = start_etcd()
    try:
        time.sleep(5.0)  # start-up settles: the member elects itself, its WAL is written
        doc = diagnose(Target(name="etcd", url=etcd.info["url"]),
                       DiagnoseOptions(window=3.0, flames=False, store=False))  # fmt: skip
    finally:
        etcd.stop()
    schemas.validate(doc)
    assert doc["causes"], doc["missing"]
    assert not is_fault(doc) or not doc["confident"], (doc["verdict"], doc["causes"][0])
    print("etcd", doc["verdict"])


# A working set that rises with the load is not a leak: Prometheus's query engine grows at
# promql.getPointSlice while range queries pile up, and gives it back when they stop. Its
# point slices go back to a pool, which keeps every byte the site allocates as a leak does
# (heap_growth_retention 1.0); what tells them apart is that more queries are at work in the
# code that allocated it at the end of the window than at its start (docs/diagnose.md).
@pytest.mark.skipif(PROM_BIN is None, reason="prometheus is not installed (.ci/run does it)")
def test_prometheus_under_a_ramping_query_load(tmp_path: Path) -> None:
    prom = start_prometheus("127.0.0.1:9", scrape_self=True)
    url = prom.info["url"]
    try:
        # a scrape of itself: several hundred series for the queries to walk
        for _ in range(120):
            q = {"query": 'count({__name__=~".+"})'}
            res = httpx.get(f"{url}/api/v1/query", params=q, timeout=10).json()["data"]["result"]
            if res and float(res[0]["value"][1]) >= 300:
                break
            time.sleep(0.5)
        # 1 to 8 concurrent range queries over the first 8 s: the window opens about a
        # second in, with one or two at work, and closes with most of them
        load = RampingLoad(url, workers=8, seconds=16, max_requests=2000).start()
        try:
            time.sleep(0.5)
            code, doc = _diagnose_cli(url, tmp_path)
        finally:
            load.stop()
    finally:
        prom.stop()
    assert load.ok > 0, "no query was answered: no load"
    f = doc["features"]
    print("prometheus under load:", code, doc["verdict"], f["heap_growth_retention"],
          f["heap_growth_in_flight"], f["heap_growth_in_flight_rise"])  # fmt: skip
    top = doc["causes"][0]
    # never the reported wrong answer (a leak), and nothing sure: eight range queries back
    # to back keep this machine's CPUs busy in Prometheus's range evaluation (1.8 of 2 CPUs
    # here), and that hot path runs under the handlers serving the queries, which is the
    # load the service was asked for as much as a path that does too much
    assert doc["verdict"].startswith(("healthy", "not sure")), (doc["verdict"], top)
    assert code == 0, (code, doc["verdict"])
    if top["kind"] == "cpu-saturation":
        assert "while serving requests" in doc["verdict"], doc["verdict"]
        assert "/promql." in top["location"]["function"], top["location"]
