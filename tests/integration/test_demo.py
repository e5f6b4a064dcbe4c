"""`godiag demo` end to end: real go build, real service, real leak."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from godiag import schemas

pytestmark = pytest.mark.integration


def run_demo(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "godiag", "demo", "--report", str(tmp_path / "report.html"), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env or dict(os.environ),
    )


def test_demo_puts_the_leak_first_with_its_file_line(tmp_path: Path) -> None:
    r = run_demo(tmp_path, "--format", "json", "--requests", "120")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    schemas.validate(doc)
    top = doc["groups"][0]
    assert top["category"] == "channel"
    assert top["state"] == "chan send"
    assert top["user_frame"]["function"] == "main.fetchQuote.func1"
    assert top["user_frame"]["file"].endswith("main.go")
    assert top["created_by"]["function"] == "main.fetchQuote"
    assert top["count"] >= 120
    assert doc["suspects"] and doc["suspects"][0]["group"] == 0
    html = (tmp_path / "report.html").read_text()
    assert "main.fetchQuote.func1" in html and "http://" not in html.split("<body")[0]
    assert "wrote html to" in r.stderr


def test_demo_text_output_names_the_leak(tmp_path: Path) -> None:
    r = run_demo(tmp_path, "--requests", "60", "--no-color")
    assert r.returncode == 0, r.stderr
    first_group = r.stdout.find("main.fetchQuote.func1")
    assert first_group != -1
    assert "main.go:" in r.stdout


def test_demo_without_go_says_so_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path)}  # no go here
    r = subprocess.run(
        [sys.executable, "-m", "godiag", "demo", "--report", str(tmp_path / "x.html")],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert r.returncode == 2
    assert "go command is not on PATH" in r.stderr and "install Go" in r.stderr
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1
