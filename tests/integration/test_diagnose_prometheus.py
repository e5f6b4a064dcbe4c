"""diagnose with a real Prometheus (Debian package) in the configuration: the
goroutine history comes from its query_range API."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from godiag.config import Config, Target
from godiag.pipeline.diagnose import DiagnoseOptions, diagnose
from tests.integration.serve.promstack import PROM_BIN, start_prometheus

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(PROM_BIN is None, reason="prometheus is not installed (.ci/run does it)"),
]


def _scraped(prom: str, instance: str, points: int) -> None:
    query = f'count_over_time(go_goroutines{{instance="{instance}"}}[5m])'
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        res = httpx.get(f"{prom}/api/v1/query", params={"query": query}, timeout=5).json()
        got = res["data"]["result"]
        if got and float(got[0]["value"][1]) >= points:
            return
        time.sleep(0.5)
    raise AssertionError(f"Prometheus did not scrape {instance} {points} times")


def test_history_from_prometheus(goprog: Any) -> None:
    leaky = goprog("cmd/leakymetrics")
    instance = leaky.url.removeprefix("http://")
    prom = start_prometheus(instance)
    try:
        url = prom.info["url"]
        _scraped(url, instance, 12)
        conf = Config(path=None, prometheus_url=url)
        opts = DiagnoseOptions(window=2.0, store=False, flames=False, config=conf)
        doc = diagnose(Target(name="leaky", url=leaky.url), opts)
    finally:
        prom.stop()
    delta = doc["features"]["goroutines_delta_5m"]
    assert delta is not None and delta > 0, doc["missing"]  # leakymetrics leaks steadily
    assert not [m for m in doc["missing"] if "Prometheus" in m]
    leak = next(c for c in doc["causes"] if c["kind"] == "goroutine-leak")
    assert any(e.startswith("Prometheus 30m: go_goroutines +") for e in leak["evidence"])


def _with_idle_prometheus(url: str) -> dict[str, Any]:
    """`diagnose` of the target with a configured Prometheus that scrapes nothing."""
    prom = start_prometheus("127.0.0.1:9")  # scrapes nothing that answers
    try:
        conf = Config(path=None, prometheus_url=prom.info["url"])
        opts = DiagnoseOptions(window=2.0, store=False, flames=False, config=conf)
        return diagnose(Target(name="leaky", url=url), opts)
    finally:
        prom.stop()


def test_prometheus_without_the_series_is_reported_missing(goprog: Any) -> None:
    doc = _with_idle_prometheus(goprog("cmd/leakymetrics").url)
    assert doc["features"]["goroutines_delta_5m"] is None
    assert any("Prometheus history" in m and "has no go_goroutines" in m for m in doc["missing"])
    # no series at all: one line, not one per series
    assert not [n for n in doc["notes"] if "Prometheus history" in n and "has no" in n]
    assert doc["causes"]  # the rest of the diagnosis is unaffected


def test_a_target_without_metrics_has_no_history_to_miss(goprog: Any) -> None:
    """A pprof-only service is not scraped by any Prometheus: its history is absent by how
    it is exposed, a note, not a gap that makes the diagnosis partial."""
    doc = _with_idle_prometheus(goprog("cmd/leaky").url)
    assert not [m for m in doc["missing"] if "Prometheus" in m]
    assert any(n.startswith("Prometheus history: none (") and "serves no /metrics" in n
               for n in doc["notes"])  # fmt: skip
