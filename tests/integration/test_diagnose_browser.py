"""The diagnosis HTML report in a real headless Chromium: plots and both flame graphs."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.chromium import Page, chromium_path
from tests.gohelpers import GoProcess
from tests.scenario_probe import PROGRAMS, binary

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(chromium_path() is None, reason="chromium not installed (see .ci/run)"),
]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    prog = next(p for p in PROGRAMS if p["name"] == "eventhistory")  # heap grows, CPU busy
    proc = GoProcess(binary(prog), ["-intensity", "high", "-lifetime", "60s"])
    html = tmp_path_factory.mktemp("report") / "report.html"
    try:
        time.sleep(1.0)
        r = subprocess.run(
            [sys.executable, "-m", "godiag", "diagnose", proc.url, "--window", "3s",
             "--cpu", "2s", "--no-store", "--format", "html", "-o", str(html), "-q"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        proc.close()
    assert r.returncode in (0, 1), r.stderr
    return html


def check_rendered(url: str) -> None:
    page = Page(url)
    try:
        assert page.wait_for("document.querySelectorAll('#plots polyline').length") >= 3
        for key in ("cpu", "heap_growth"):
            raw = page.wait_for(
                f"(function(){{var f=document.getElementById('flame-{key}');"
                f"return f && f.contentDocument && f.contentDocument.body && "
                f"f.contentDocument.body.getAttribute('data-flame-state');}})()"
            )
            state = json.loads(raw)
            assert state["ready"] is True and int(state["drawn"]) > 1, (key, state)
        assert page.eval("document.querySelectorAll('#causes tbody tr').length") >= 1
    finally:
        page.close()


def test_report_renders_plots_and_flame_graphs(report: Path) -> None:
    text = report.read_text()
    assert "<script src" not in text and "<polyline" in text
    check_rendered(report.as_uri())


def test_report_renders_under_serves_sandbox_policy(report: Path) -> None:
    """As `godiag serve` sends it: Content-Security-Policy sandbox (an opaque origin),
    inline CSS/JS only. The plots and the flame graphs (srcdoc iframes) still draw."""
    import http.server
    import threading

    from godiag.pipeline.web.headers import REPORT_CSP

    body = report.read_bytes()

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Security-Policy", REPORT_CSP)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a: object) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    page = Page(f"http://127.0.0.1:{srv.server_address[1]}/incidents/x/report")
    try:
        assert page.eval("String(window.origin)") == "null"  # the sandbox: an opaque origin
        assert page.wait_for("document.querySelectorAll('#plots polyline').length") >= 3
        # Each flame graph's srcdoc frame inherits the sandbox and gets an opaque origin of
        # its own: the page cannot read it, so each frame is asked in its own context.
        probe = "document.body && document.body.getAttribute('data-flame-state')"
        states: list[dict[str, object]] = []
        for _ in range(100):  # bounded: the frames draw within a few seconds
            states = [json.loads(v) for v in page.eval_in_frames(probe) if v]
            if len(states) >= 2 and all(st["ready"] for st in states):
                break
            time.sleep(0.2)
        assert len(states) == 2, states
        assert all(st["ready"] is True and int(str(st["drawn"])) > 1 for st in states), states
    finally:
        page.close()
        srv.shutdown()
