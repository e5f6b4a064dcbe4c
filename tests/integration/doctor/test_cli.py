"""`godiag doctor` end to end: exit codes, JSON, SARIF (validated), text, docs in sync."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from godiag import schemas
from godiag.toolchain.checks import CHECKS
from godiag.toolchain.doctor import catalog_markdown
from tests.gohelpers import REPO
from tests.integration.doctor.modules import doctor_env, module

pytestmark = pytest.mark.integration
LIB = {"lib.go": "package app\n\nfunc Add(a, b int) int { return a + b }\n"}
SARIF_TOOL = REPO / ".cache" / "npm" / "node_modules" / ".bin" / "sarif-multitool"


def doctor(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "godiag", "doctor", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def broken(tmp_path: Path) -> Path:
    d = module(tmp_path / "app", {**LIB, "_integration/x_test.go": "package x\n"})
    with (d / "go.mod").open("a") as fh:
        fh.write("\nrequire example.com/dep v0.0.0\nreplace example.com/dep => ../gone\n")
    return d


def test_clean_exits_0_json_valid(tmp_path: Path) -> None:
    d = module(tmp_path / "app", LIB)
    r = doctor(str(d), "--format", "json", env=doctor_env())
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    schemas.validate(doc)
    assert doc["summary"]["warning"] == doc["summary"]["error"] == 0


def test_broken_exits_1_and_fail_on(tmp_path: Path) -> None:
    d = broken(tmp_path)
    r = doctor(str(d), "--format", "json", env=doctor_env(GOPROXY="https://u:pw1234@p.example"))
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert {"replace-directives", "skipped-test-dirs"} <= {f["id"] for f in doc["findings"]}
    assert "pw1234" not in r.stdout
    r = doctor(str(d), "--skip", "replace-directives", "--fail-on", "error", env=doctor_env())
    assert r.returncode == 0 and "skipped-test-dirs" in r.stdout
    r = doctor(str(d), "--check", "misnamed-tests", env=doctor_env())
    assert r.returncode == 0 and "no problems found" in r.stdout


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    r = doctor("--check", "nope", str(tmp_path), env=doctor_env())
    assert r.returncode == 2 and "unknown check" in r.stderr and "Traceback" not in r.stderr
    r = doctor(str(tmp_path / "missing"), env=doctor_env())
    assert r.returncode == 2 and "Traceback" not in r.stderr
    r = doctor(str(tmp_path), env=doctor_env(PATH="/nonexistent"))
    assert r.returncode == 2 and "go command was not found" in r.stderr


def test_list_and_docs_in_sync() -> None:
    r = doctor("--list", env=doctor_env())
    assert r.returncode == 0 and "embed-hidden-files" in r.stdout
    assert (REPO / "docs" / "checks.md").read_text() == catalog_markdown(), (
        "docs/checks.md is stale: godiag doctor --list --format markdown -o docs/checks.md"
    )


def test_list_json_is_the_catalog(tmp_path: Path) -> None:
    r = doctor("--list", "--format", "json", env=doctor_env())
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    schemas.validate(doc)
    assert doc["schema"] == "godiag.catalog/v1"
    assert [c["id"] for c in doc["checks"]] == list(CHECKS)
    cgo = next(c for c in doc["checks"] if c["id"] == "cgo-disabled")
    assert cgo["severity"] == "error" and cgo["summary"] and cgo["deep"] is False
    # -o FILE.json picks the format from the extension, like every other command.
    r = doctor("--list", "-o", str(tmp_path / "c.json"), env=doctor_env())
    assert r.returncode == 0 and r.stdout == ""
    assert json.loads((tmp_path / "c.json").read_text()) == doc
    # A run's formats are refused with --list instead of printing text under their name.
    r = doctor("--list", "--format", "sarif", env=doctor_env())
    assert r.returncode == 2 and "Traceback" not in r.stderr and r.stdout == ""


def test_sarif_validates(tmp_path: Path) -> None:
    d = broken(tmp_path)
    out = tmp_path / "doctor.sarif"
    r = doctor(str(d), "-o", str(out), env=doctor_env())
    assert r.returncode == 1 and out.is_file()
    sarif = json.loads(out.read_text())
    assert sarif["version"] == "2.1.0"
    ids = {x["ruleId"] for x in sarif["runs"][0]["results"]}
    assert "replace-directives" in ids
    if not SARIF_TOOL.exists() or shutil.which("node") is None:
        pytest.skip("@microsoft/sarif-multitool not installed (make install installs it)")
    v = subprocess.run(
        [str(SARIF_TOOL), "validate", str(out), "-o", str(tmp_path / "v.sarif")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads((tmp_path / "v.sarif").read_text())
    errors = [
        x for run in report["runs"] for x in run.get("results", []) if x.get("level") == "error"
    ]
    assert v.returncode == 0 and not errors, (v.stdout, errors)


def test_text_and_html(tmp_path: Path) -> None:
    d = broken(tmp_path)
    r = doctor(str(d), "--no-color", env=doctor_env())
    assert "ERROR (1)" in r.stdout and "fix:" in r.stdout and "go.mod:6" in r.stdout
    r = doctor(str(d), "-o", str(tmp_path / "r.html"), env=doctor_env())
    assert "replace-directives" in (tmp_path / "r.html").read_text()
