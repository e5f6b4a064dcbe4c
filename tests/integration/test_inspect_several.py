"""`godiag inspect` of several inputs where some are bad: every good file keeps its report,
every bad one is one line on stderr naming it and an entry of the document's `errors`,
and the exit status is 2 (docs/inspect.md, docs/contracts.md)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from godiag.schemas import validate
from tests.gohelpers import hermetic_go_env

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("several")
    src = root / "src"
    src.mkdir()
    (src / "go.mod").write_text("module example.com/hello\n\ngo 1.22\n")
    (src / "main.go").write_text('package main\n\nfunc main() { println("hello") }\n')
    good = root / "good.bin"
    subprocess.run(
        ["go", "build", "-o", str(good), "."], cwd=src, env=hermetic_go_env(), check=True
    )
    truncated = root / "truncated.bin"
    truncated.write_bytes(good.read_bytes()[:4096])
    other = root / "other.bin"
    shutil.copy(good, other)
    notexe = root / "notes.txt"
    notexe.write_text("not a program\n")
    return {
        "good": good,
        "other": other,
        "truncated": truncated,
        "notexe": notexe,
        "missing": root / "missing.bin",
    }


def inspect(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "godiag", "inspect", *map(str, args)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def _error_lines(stderr: str, bad: list[Path]) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == len(bad), stderr
    for line, p in zip(lines, bad, strict=True):
        assert line.startswith(f"godiag: error: {p}: "), line
    assert "Traceback" not in stderr


def test_good_files_are_reported_and_each_bad_one_named_on_stderr(files: dict[str, Path]) -> None:
    bad = [files["truncated"], files["missing"], files["notexe"]]
    res = inspect(files["good"], *bad, files["other"], "--no-color")
    assert res.returncode == 2
    for name in ("good", "other"):
        assert f"{files[name]}: go1." in res.stdout
    for p in bad:
        assert str(p) not in res.stdout
    _error_lines(res.stderr, bad)
    assert "truncated or corrupt" in res.stderr and "no such file" in res.stderr


def test_json_stays_one_valid_document_with_an_error_entry_per_bad_file(
    files: dict[str, Path],
) -> None:
    bad = [files["truncated"], files["notexe"]]
    res = inspect(bad[0], files["good"], bad[1], "--format", "json")
    assert res.returncode == 2
    doc: dict[str, Any] = json.loads(res.stdout)
    validate(doc)
    assert [b["file"] for b in doc["binaries"]] == [str(files["good"])]
    assert [e["file"] for e in doc["errors"]] == [str(p) for p in bad]
    assert "truncated or corrupt" in doc["errors"][0]["reason"]
    _error_lines(res.stderr, bad)


def test_every_input_bad_is_one_line_each_and_no_report(files: dict[str, Path]) -> None:
    bad = [files["truncated"], files["missing"]]
    for fmt in ("text", "json"):
        res = inspect(*bad, "--format", fmt)
        assert res.returncode == 2 and res.stdout == ""
        _error_lines(res.stderr, bad)


def test_a_bad_file_outweighs_findings_and_good_files_alone_exit_as_before(
    files: dict[str, Path],
) -> None:
    res = inspect(files["good"], files["other"], "--format", "json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    validate(doc)
    assert doc["errors"] == [] and len(doc["binaries"]) == 2
    # an executable that is not Go is a warning finding (exit 1 alone)...
    assert inspect(files["good"], "/bin/ls").returncode == 1
    # ...and an unreadable input beside it makes the run exit 2
    res = inspect(files["good"], "/bin/ls", files["truncated"], "--no-color")
    assert res.returncode == 2 and "missing-buildinfo" in res.stdout
    _error_lines(res.stderr, [files["truncated"]])
