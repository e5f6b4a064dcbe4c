"""The wheel carries everything the CLI needs: installed outside the checkout, it works."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel and install it into a fresh venv in a temp dir; return its bin/."""
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp / "dist"), str(REPO)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    wheels = list((tmp / "dist").glob("godiag-*.whl"))
    assert len(wheels) == 1
    env_dir = tmp / "venv"
    venv.create(env_dir, with_pip=True, system_site_packages=False)
    # Dependencies come from the same index the project installs from.
    subprocess.run(
        [str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheels[0])],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return env_dir / "bin"


def _run(bin_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["XDG_CACHE_HOME"] = str(cwd / "cache")
    return subprocess.run(
        [str(bin_dir / "godiag"), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=600,
    )


def test_installed_cli_runs_outside_checkout(installed: Path, tmp_path: Path) -> None:
    r = _run(installed, "--help", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = _run(installed, "schema", "goroutines", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["$id"] == "godiag.goroutines/v1"
    # the import must come from the venv, not from the checkout
    py = installed / "python"
    where = subprocess.run(
        [str(py), "-c", "import godiag; print(godiag.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    assert str(REPO) not in where.stdout


def test_installed_demo_builds_shipped_go_and_writes_html(installed: Path, tmp_path: Path) -> None:
    """Templates, assets and the Go sources of the demo are inside the wheel."""
    report = tmp_path / "r.html"
    r = _run(
        installed,
        "demo",
        "--window",
        "2",
        "--format",
        "json",
        "--report",
        str(report),
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["schema"] == "godiag.diagnosis/v1"
    assert doc["causes"][0]["kind"] == "goroutine-leak"  # the shipped model file is in the wheel
    assert report.read_text().startswith("<!doctype html>")
