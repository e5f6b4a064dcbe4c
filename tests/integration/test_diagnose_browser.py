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


def test_report_renders_plots_and_flame_graphs(tmp_path: Path) -> None:
    prog = next(p for p in PROGRAMS if p["name"] == "eventhistory")  # heap grows, CPU busy
    proc = GoProcess(binary(prog), ["-intensity", "high", "-lifetime", "60s"])
    html = tmp_path / "report.html"
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
    text = html.read_text()
    assert "<script src" not in text and "<polyline" in text
    page = Page(html.as_uri())
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
