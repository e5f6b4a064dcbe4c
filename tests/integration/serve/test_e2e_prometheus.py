"""Prometheus scrapes a leaking Go service, the rule fires, Alertmanager posts to a real
`godiag serve`, the diagnosis runs and the report names the leak. Also: the shipped deploy/
files pass promtool and amtool."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from godiag.formats.alertmanager import parse_time
from tests.integration.serve.harness import ADMIN
from tests.integration.serve.promstack import AM_BIN, PROM_BIN, start_alertmanager, start_prometheus

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not (AM_BIN and PROM_BIN), reason="prometheus/alertmanager not installed"),
]
DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
RULES = """groups:
  - name: test
    rules:
      - alert: GoGoroutinesHigh
        expr: go_goroutines > 100
        labels: {severity: warning}
        annotations: {summary: "{{ $value }} goroutines"}
"""


def test_deploy_files_are_valid(tmp_path: Path) -> None:
    out = subprocess.run(
        ["promtool", "check", "rules", str(DEPLOY / "prometheus-rules.yml")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0 and "5 rules found" in out.stdout, out.stderr
    token = tmp_path / "godiag-token"
    token.write_text("x")
    am = (DEPLOY / "alertmanager-receiver.yml").read_text()
    conf = tmp_path / "am.yml"
    conf.write_text(am.replace("/etc/alertmanager/godiag-token", str(token)))
    amtool = shutil.which("amtool")
    assert amtool
    out = subprocess.run([amtool, "check-config", str(conf)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_alert_to_report(serve_factory, leaky, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sp = serve_factory({"leaky": leaky.url}, "window_seconds = 2")
    am = start_alertmanager(f"{sp.url}/api/v1/alerts", ADMIN)
    prom = start_prometheus(leaky.url.removeprefix("http://"), am.info["url"], RULES)
    try:
        deadline = time.monotonic() + 90
        done: list[dict[str, object]] = []
        while time.monotonic() < deadline and not done:
            done = [i for i in sp.incidents() if i["state"] == "done"]
            time.sleep(0.25)
        assert done, f"no report: {sp.incidents()}\n{am.tail()}"
        inc = sp.incident(str(done[0]["id"]))
        assert inc["alertname"] == "GoGoroutinesHigh" and inc["target"] == "leaky"
        top = inc["causes"][0]
        assert top["kind"] == "goroutine-leak"
        assert top["location"]["function"] == "main.fetch.func1"
        assert top["location"]["file"].endswith("cmd/leakymetrics/main.go")
        # latency: Alertmanager's POST received -> report stored; and rule firing -> report
        received, finished = float(inc["received_at"]), float(inc["finished_at"])
        alerts = httpx.get(f"{prom.info['url']}/api/v1/alerts", timeout=10).json()
        active = alerts["data"]["alerts"][0]["activeAt"]
        fired = parse_time(active)
        assert fired is not None
        figures = {
            "alertmanager_send_to_report_s": round(finished - received, 2),
            "rule_firing_to_report_s": round(finished - fired.timestamp(), 2),
            "window_seconds": 2,
        }
        print("serve e2e latency:", json.dumps(figures))
        (tmp_path / "latency.json").write_text(json.dumps(figures))
        assert figures["alertmanager_send_to_report_s"] < 60
    finally:
        prom.stop()
        am.stop()
