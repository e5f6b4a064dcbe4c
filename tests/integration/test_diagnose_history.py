"""diagnose with history: the store's reference capture, and a real Prometheus's series.

go/cmd/slowleak leaks at a rate set by flags (faster than in production, so the tests
take a minute, still below what a few seconds' window can tell apart from noise), or
runs batches of goroutines that finish. Waiting is on conditions (the service's own heap,
Prometheus's point count), never on a clock.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from godiag.config import Config, Target
from godiag.formats import prometheus
from godiag.model.capture import CaptureMeta
from godiag.pipeline.diagnose import DiagnoseOptions, diagnose
from tests.integration.serve.promstack import PROM_BIN, start_prometheus

pytestmark = pytest.mark.integration
needs_prometheus = pytest.mark.skipif(
    PROM_BIN is None, reason="prometheus is not installed (.ci/run does it)"
)
HEAP = "go_memory_classes_heap_objects_bytes"


def _heap_objects(url: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=5).content
    sample = prometheus.parse(text, url)
    return next(s.value for f in sample.values() for s in f.samples if s.name == HEAP)


def _wait_heap_growth(url: str, grow: float, bound_s: float = 180) -> None:
    start = _heap_objects(url)
    deadline = time.monotonic() + bound_s
    while _heap_objects(url) < start + grow:
        assert time.monotonic() < deadline, f"{url}: heap did not grow by {grow:.0f} B"
        time.sleep(1)


def _scraped(prom: str, instance: str, points: int, bound_s: float = 180) -> None:
    query = f'count_over_time(go_goroutines{{instance="{instance}"}}[5m])'
    deadline = time.monotonic() + bound_s
    while time.monotonic() < deadline:
        res = httpx.get(f"{prom}/api/v1/query", params={"query": query}, timeout=5).json()
        got = res["data"]["result"]
        if got and float(got[0]["value"][1]) >= points:
            return
        time.sleep(1)
    raise AssertionError(f"Prometheus did not scrape {instance} {points} times")


def test_the_stored_baseline_finds_a_slow_memory_leak(
    goprog: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """~100 KB/s: a window of a few seconds sees less than one heap sampling period
    (512 KiB) at the site; since a baseline a minute old it is MBs at one site."""
    monkeypatch.setenv("GODIAG_HOME", str(tmp_path))
    svc = goprog("cmd/slowleak", "-heap", "100ms", "-size", "10000")
    conf = Config(path=None)
    meta = CaptureMeta(service_name="sessions", build_commit="0123abc")
    first = diagnose(Target(name="sessions", url=svc.url), DiagnoseOptions(
        window=2.0, flames=False, config=conf, overrides=meta, baseline=True))  # fmt: skip
    assert first["store"]["stored"] > 0, first["store"]
    assert first["history"]["baseline"]["sources"] == []  # nothing stored before it
    _wait_heap_growth(svc.url, 8 * 2**20)
    doc = diagnose(Target(name="sessions", url=svc.url), DiagnoseOptions(
        window=2.0, flames=False, config=conf, overrides=meta, store=False))  # fmt: skip
    assert doc["history"]["baseline"]["age_s"]["heap"] > 0
    assert "baseline capture" in (doc["history"]["summary"] or "")
    assert doc["features"]["baseline_heap_growth_bytes_per_min"] > 2**20
    assert doc["features"]["baseline_top_site_share"] >= 0.5
    top = doc["causes"][0]
    if top["kind"] == "memory-leak":
        assert top["location"]["function"] == "main.rememberSession", top
        assert any("since" in e or "baseline capture" in e for e in top["evidence"]), top
    else:  # a "healthy" the baseline contradicts is not confident, and says where
        assert not doc["confident"] and "main.rememberSession" in doc["verdict"], doc["verdict"]


def test_a_local_build_without_vcs_stamp_is_remembered(
    goprog: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No godiag.toml, no --build-commit, a binary built with -buildvcs=false: the running
    executable's content hash is its build identity, so the first diagnosis is stored and
    the second, minutes of leak later, compares with it (as a user who diagnoses twice
    expects) and finds the allocation site."""
    monkeypatch.setenv("GODIAG_HOME", str(tmp_path))
    svc = goprog("cmd/slowleak", "-heap", "50ms", "-size", "20000")
    target = Target(name=svc.url.removeprefix("http://"), url=svc.url)
    opts = DiagnoseOptions(window=2.0, flames=False, config=Config(path=None))
    first = diagnose(target, opts)
    assert first["store"]["stored"] > 0 and not first["store"]["missing"], first["store"]
    from godiag.store import open_store
    from godiag.store.base import Filter

    with open_store(Config(path=None)) as st:
        arts = st.query(Filter(service=target.name))
    commits = {a.meta.build_commit for a in arts}
    assert len(commits) == 1 and next(iter(commits)).startswith("exe-sha256:"), commits
    digest = arts[0].meta.tags["exe.sha256"]
    assert len(digest) == 64 and next(iter(commits)) == f"exe-sha256:{digest[:16]}"
    _wait_heap_growth(svc.url, 8 * 2**20)
    doc = diagnose(target, opts)
    used = doc["history"]["baseline"]["sources"]
    assert {f"store:{a.id}" for a in arts if a.meta.profile_type == "heap"} & set(used), used
    assert doc["features"]["baseline_heap_growth_bytes_per_min"] > 2**20
    top = doc["causes"][0]
    assert top["kind"] == "memory-leak" or not doc["confident"], doc["verdict"]
    assert "main.rememberSession" in (str(top["location"]) + doc["verdict"]), doc["verdict"]


def test_serve_periodic_references_find_a_slow_memory_leak(
    goprog: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """serve's periodic reference capture (no --as-baseline, no Prometheus) is what a
    later diagnosis of the same configured target compares with."""
    from godiag.pipeline.settings import ServeSettings
    from godiag.pipeline.web.service import Service
    from godiag.store import open_store
    from godiag.store.base import Filter

    monkeypatch.setenv("GODIAG_HOME", str(tmp_path))
    svc = goprog("cmd/slowleak", "-heap", "100ms", "-size", "10000")
    target = Target(name="sessions", url=svc.url, build_commit="0123abc")
    conf = Config(path=None, targets=(target,),
                  serve=ServeSettings(reference_every_seconds=3600))  # fmt: skip
    service = Service(conf, lambda *a: {})  # type: ignore[arg-type,return-value]
    assert service.references is not None
    service.startup()  # the first round is taken right away
    try:
        deadline = time.monotonic() + 60
        while service.references.rounds < 1:
            assert time.monotonic() < deadline, "no reference round in 60 s"
            time.sleep(0.2)
    finally:
        service.shutdown()
    with open_store(conf) as st:
        stored = st.query(Filter(service="sessions"))
    assert sorted(a.meta.profile_type for a in stored) == ["goroutine", "heap"], stored
    assert all(a.meta.tags.get("capture") == "periodic" for a in stored)
    _wait_heap_growth(svc.url, 8 * 2**20)
    doc = diagnose(target, DiagnoseOptions(window=2.0, flames=False, config=conf, store=False))
    used = doc["history"]["baseline"]["sources"]
    assert {f"store:{a.id}" for a in stored} <= set(used), used
    assert doc["features"]["baseline_heap_growth_bytes_per_min"] > 2**20
    top = doc["causes"][0]
    assert top["kind"] == "memory-leak" or not doc["confident"], doc["verdict"]
    assert "main.rememberSession" in (str(top["location"]) + doc["verdict"]), doc["verdict"]


def _with_history(svc_url: str, name: str) -> dict[str, Any]:
    """The diagnosis of a service a real Prometheus has scraped for a minute, with a 2m
    lookback and no stored reference."""
    instance = svc_url.removeprefix("http://")
    prom = start_prometheus(instance)
    try:
        url = prom.info["url"]
        _scraped(url, instance, 60)
        conf = Config(path=None, prometheus_url=url)
        opts = DiagnoseOptions(window=3.0, store=False, flames=False, config=conf, lookback=120)
        return diagnose(Target(name=name, url=svc_url), opts)
    finally:
        prom.stop()


@needs_prometheus
def test_prometheus_history_names_a_slow_goroutine_leak(goprog: Any) -> None:
    svc = goprog("cmd/slowleak", "-goroutines", "200ms")
    doc = _with_history(svc.url, "slowleak")
    hist = doc["history"]["series"]["go_goroutines"]
    assert hist["shape"] == "linear" and hist["delta"] > 50, hist
    assert doc["features"]["history_goroutines_shape"] == "linear"
    assert (doc["history"]["summary"] or "").startswith("Prometheus 2m: ")
    top = doc["causes"][0]
    assert top["kind"] == "goroutine-leak", doc["verdict"]
    assert top["location"]["function"] == "main.parkSubscriber", top
    line = next(e for e in top["evidence"] if e.startswith("Prometheus 2m: go_goroutines +"))
    assert "linear" in line


@needs_prometheus
def test_batches_that_drain_are_not_a_confident_goroutine_leak(goprog: Any) -> None:
    svc = goprog("cmd/slowleak", "-batch", "500", "-batchevery", "5s", "-batchfor", "3s")
    doc = _with_history(svc.url, "batches")
    hist = doc["history"]["series"]["go_goroutines"]
    assert hist["shape"] == "periodic", hist
    top = doc["causes"][0]
    assert not (top["kind"] == "goroutine-leak" and doc["confident"]), doc["verdict"]
    if top["kind"] == "goroutine-leak":
        assert "Prometheus saw go_goroutines periodic" in doc["verdict"]
