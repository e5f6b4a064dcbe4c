"""`godiag analyze` end to end: real go, real modules with planted and no faults."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from godiag import schemas
from godiag.model.analyzers import CATALOG
from tests.gohelpers import REPO, hermetic_go_env

pytestmark = pytest.mark.integration

DATA = REPO / "tests" / "data" / "analyze"
MARK = re.compile(r"// PLANTED: ([a-z-]+)")


def godiag(*args: str, **env_over: str) -> subprocess.CompletedProcess[str]:
    # Shared cache: the analyzer is built once per source hash and go version.
    env = hermetic_go_env(**{"XDG_CACHE_HOME": str(REPO / ".cache" / "xdg"), **env_over})
    return subprocess.run(
        [sys.executable, "-m", "godiag", "analyze", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )


def planted_marks() -> set[tuple[str, str, int]]:
    marks = set()
    for path in (DATA / "planted").rglob("*.go"):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if m := MARK.search(line):
                marks.add((m.group(1), path.relative_to(DATA / "planted").as_posix(), n))
    return marks


def test_planted_faults_found_at_their_lines() -> None:
    r = godiag(str(DATA / "planted"), "--format", "json")
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    schemas.validate(doc)
    got = {(f["id"], f["location"]["file"], f["location"]["line"]) for f in doc["findings"]}
    marks = planted_marks()
    assert {m[0] for m in marks} == set(CATALOG), "one planted fault per analyzer"
    assert got == marks
    for f in doc["findings"]:
        ev = f["evidence"][0]
        assert (ev["file"], ev["line"]) == (f["location"]["file"], f["location"]["line"])
        assert ev["output"].startswith(f"{ev['file']}:{ev['line']}: ")
        assert f["fix"]


def test_clean_module_has_no_findings() -> None:
    r = godiag(str(DATA / "clean"), "--format", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    schemas.validate(doc)
    assert doc["findings"] == [] and doc["counts"] == {}


def test_text_and_sarif_views(tmp_path: Path) -> None:
    r = godiag(str(DATA / "planted"), "--no-color")
    assert r.returncode == 1
    assert "svc/quote.go:19: warning abandoned-sender" in r.stdout
    out = tmp_path / "leaks.sarif"
    r = godiag(str(DATA / "planted"), "-o", str(out))
    assert r.returncode == 1 and "wrote sarif" in r.stderr
    sarif = json.loads(out.read_text())
    results = sarif["runs"][0]["results"]
    assert len(results) == len(planted_marks())
    rule_ids = {rule["id"] for rule in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert {res["ruleId"] for res in results} <= rule_ids
    assert all(res["locations"][0]["physicalLocation"]["region"]["startLine"] for res in results)
    tool = REPO / ".cache" / "npm" / "node_modules" / ".bin" / "sarif-multitool"
    if not tool.exists() or shutil.which("node") is None:
        pytest.skip("@microsoft/sarif-multitool not installed (make test-deps installs it)")
    v = subprocess.run(
        [str(tool), "validate", str(out), "-o", str(tmp_path / "v.sarif")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads((tmp_path / "v.sarif").read_text())
    errors = [
        x for run in report["runs"] for x in run.get("results", []) if x.get("level") == "error"
    ]
    assert v.returncode == 0 and not errors, (v.stdout, errors)


def test_fail_on_threshold(tmp_path: Path) -> None:
    # Only goexit-misuse is an error; the svc package alone has warnings only.
    assert godiag(str(DATA / "planted" / "svc"), "--fail-on", "error", "-q").returncode == 0
    assert godiag(str(DATA / "planted"), "--fail-on", "error", "-q").returncode == 1


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("broken", "do not load: ./broken.go:3:23: undefined: notDefined"),
        ("missing-dir", "not a directory"),
    ],
)
def test_bad_input_is_one_line_exit_2(target: str, message: str) -> None:
    r = godiag(str(DATA / target))
    assert r.returncode == 2
    assert message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_not_a_module(tmp_path: Path) -> None:
    (tmp_path / "x.go").write_text("package x\n")
    r = godiag(str(tmp_path))
    assert r.returncode == 2 and "not a Go module" in r.stderr


def test_no_go_on_path(tmp_path: Path) -> None:
    r = godiag(str(DATA / "clean"), PATH=str(tmp_path))
    assert r.returncode == 2
    assert "go command is not on PATH" in r.stderr


def test_too_old_go_is_refused(tmp_path: Path) -> None:
    # A `go` that reports 1.21 (a real script on PATH) must be refused before building.
    fake = tmp_path / "go"
    fake.write_text(
        '#!/bin/sh\n[ "$1 $2" = "env GOVERSION" ] && echo go1.21.13 && exit 0\n'
        'exec "$REAL_GO" "$@"\n'
    )
    fake.chmod(0o755)
    real_go = next(
        str(Path(d) / "go")
        for d in os.environ["PATH"].split(os.pathsep)
        if (Path(d) / "go").is_file()
    )
    r = godiag(
        str(DATA / "clean"),
        PATH=f"{tmp_path}{os.pathsep}{os.environ['PATH']}",
        REAL_GO=real_go,
    )
    assert r.returncode == 2
    assert "needs Go 1.22 or newer" in r.stderr


def _cached_toolchain(version: str) -> Path | None:
    gomodcache = subprocess.run(
        ["go", "env", "GOMODCACHE"], capture_output=True, text=True, check=True
    ).stdout.strip()
    hits = sorted(Path(gomodcache).glob(f"golang.org/toolchain@v0.0.1-{version}.*/bin/go"))
    return hits[0] if hits else None


def test_oldest_supported_go_builds_and_finds_the_same(tmp_path: Path) -> None:
    # Go 1.22 is the minimum (x/tools v0.30.0's go line); `make test-deps` caches it.
    go = _cached_toolchain("go1.22.12")
    if go is None:
        pytest.skip("go1.22.12 is not in the module cache (make test-deps fetches it)")
    r = godiag(
        str(DATA / "planted"),
        "--format",
        "json",
        PATH=f"{go.parent}{os.pathsep}{os.environ['PATH']}",
        XDG_CACHE_HOME=str(tmp_path / "cache"),
    )
    assert r.returncode == 1, r.stderr
    got = {
        (f["id"], f["location"]["file"], f["location"]["line"])
        for f in json.loads(r.stdout)["findings"]
    }
    assert got == planted_marks()


def test_no_tests_skips_test_files(tmp_path: Path) -> None:
    # A test file that does not compile: loading fails with tests, works without.
    mod = tmp_path / "m"
    mod.mkdir()
    (mod / "go.mod").write_text("module m\n\ngo 1.22\n")
    (mod / "m.go").write_text("package m\n\nfunc F() int { return 1 }\n")
    (mod / "m_test.go").write_text("package m\n\nvar _ = missingHelper()\n")
    r = godiag(str(mod))
    assert r.returncode == 2 and "undefined: missingHelper" in r.stderr
    r = godiag(str(mod), "--no-tests", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["findings"] == []
