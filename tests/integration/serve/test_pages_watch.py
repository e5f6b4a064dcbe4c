"""The incident pages render in headless Chromium (report included), and `godiag watch`
diagnoses a leaking service on a local threshold rule, without Prometheus."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.serve.harness import ADMIN_H, READER, alert, payload, write_config

pytestmark = pytest.mark.integration
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def dump_dom(url: str, tmp: Path) -> str:
    assert CHROMIUM
    out = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         f"--user-data-dir={tmp / 'chromium'}", "--virtual-time-budget=3000", "--dump-dom", url],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed")
def test_pages_render_in_chromium(serve_factory, leaky, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sp = serve_factory({"leaky": leaky.url})
    labels = {"alertname": "GoGoroutinesHigh", "job": "leaky", "note": "<b id=injected>x</b>"}
    httpx.post(f"{sp.url}/api/v1/alerts", content=payload([alert("abcabcabcabcabca", labels)]),
               headers=ADMIN_H, timeout=10)  # fmt: skip
    (inc,) = sp.wait_state({"done"})
    # Chromium cannot send headers from the command line: save the authenticated pages
    # and load them from disk.
    pages = tmp_path / "pages"
    (pages / "incidents" / inc["id"]).mkdir(parents=True)
    get = lambda p: httpx.get(sp.url + p, auth=READER, timeout=20).text  # noqa: E731
    (pages / "index.html").write_text(get("/"))
    (pages / "incidents" / f"{inc['id']}.html").write_text(get(f"/incidents/{inc['id']}"))
    report = pages / "incidents" / inc["id"] / "report.html"
    report.write_text(get(f"/incidents/{inc['id']}/report"))
    dom = dump_dom((pages / "index.html").as_uri(), tmp_path)
    assert 'id="incidents"' in dom and "GoGoroutinesHigh" in dom
    dom = dump_dom((pages / "incidents" / f"{inc['id']}.html").as_uri(), tmp_path)
    assert 'id="causes"' in dom and "main.fetch.func1" in dom
    assert 'id="injected"' not in dom  # the label stayed text
    dom = dump_dom(report.as_uri(), tmp_path)
    assert "main.fetch.func1" in dom and "<pre" not in dom[:300]  # rendered as a page


def _goroutines(url: str) -> float:
    import urllib.request

    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    for line in text.splitlines():
        if line.startswith("go_goroutines "):
            return float(line.split()[1])
    return 0.0


def test_watch_diagnoses_on_local_rule(leaky, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rules = (
        "[serve.watch]\ninterval_seconds = 1\n[[serve.watch.rules]]\n"
        'alertname = "GoGoroutinesHigh"\nmetric = "go_goroutines"\nabove = 20\n'
        "cooldown_seconds = 600\n"
    )
    store = tmp_path / "store"
    conf = write_config(
        tmp_path / "w.toml", {"leaky": leaky.url}, f'[store]\npath = "{store}"', "", rules
    )
    env = {**os.environ, "GODIAG_TEST_ADMIN": "x"}
    env.pop("GODIAG_HOME", None)
    # The service was just started: let it leak past the rule's threshold first (bounded),
    # so the one scrape of --once sees the condition the rule is about.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and _goroutines(leaky.url) <= 30:
        time.sleep(0.2)
    t0 = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "godiag", "watch", "--config", str(conf), "--once"],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "queued 1 diagnosis job" in out.stderr
    from godiag.pipeline.queue import JobDb, Queue

    db = JobDb(sqlite_path=store / "serve.sqlite3")
    (inc,) = Queue(db).list()
    full = Queue(db).get(inc.id)
    db.close()
    assert full is not None and full.state == "done" and full.report is not None
    assert full.report["causes"][0]["location"]["function"] == "main.fetch.func1"
    assert time.monotonic() - t0 < 120
