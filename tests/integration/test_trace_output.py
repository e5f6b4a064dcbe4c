"""`godiag trace` follows the output contract: the report on stdout or in -o FILE, in every
format it has, and the raw CPU profile kept as its own file for `go tool pprof`."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from godiag.formats.pprof import decode
from godiag.schemas import validate

pytestmark = pytest.mark.integration


def trace(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "godiag", "trace", *args],
        capture_output=True, text=True, timeout=300, cwd=cwd,
    )  # fmt: skip


@pytest.fixture(scope="module")
def service() -> Iterator[Any]:
    from tests.gohelpers import GoProcess, build

    proc = GoProcess(build("cmd/profiled"), [])
    yield proc
    proc.close()


def _raw_of(cwd: Path, stderr: str) -> Path:
    """The one raw profile written into cwd, checked to be a CPU profile."""
    files = sorted(p.name for p in cwd.iterdir())
    assert len(files) == 1 and files[0].startswith("godiag-cpu-"), files
    assert files[0].endswith(".pb.gz") and f"wrote pprof to {files[0]}" in stderr
    raw = cwd / files[0]
    assert decode(raw.read_bytes(), str(raw)).profile_type == "cpu"
    return raw


def test_json_goes_to_stdout_and_the_raw_profile_to_its_own_file(
    service: Any, tmp_path: Path
) -> None:
    res = trace(tmp_path, service.url, "--duration", "1s", "--format", "json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    validate(doc)
    assert doc["profile_type"] == "cpu" and doc["flame"]
    raw = _raw_of(tmp_path, res.stderr)
    assert doc["raw_profile"] == raw.name


@pytest.mark.parametrize(
    ("extra", "expect"),
    [((), "main.godiagHotLoop"), (("--format", "html"), "flame-canvas")],
)
def test_text_by_default_and_html_on_stdout(
    service: Any, tmp_path: Path, extra: tuple[str, ...], expect: str
) -> None:
    res = trace(tmp_path, service.url, "--duration", "1s", *extra)
    assert res.returncode == 0, res.stderr
    assert expect in res.stdout
    _raw_of(tmp_path, res.stderr)


def test_output_file_with_raw_beside_it_or_where_raw_says(service: Any, tmp_path: Path) -> None:
    # --seconds: pprof's and `godiag profile`'s name for the window
    res = trace(tmp_path, service.url, "--seconds", "1s", "-o", "cpu.json", "-q")
    assert res.returncode == 0, res.stderr
    assert res.stdout == "" and res.stderr == ""
    doc = json.loads((tmp_path / "cpu.json").read_text())
    validate(doc)
    assert doc["raw_profile"] == "cpu.pb.gz"
    assert decode((tmp_path / "cpu.pb.gz").read_bytes(), "cpu.pb.gz").profile_type == "cpu"

    res = trace(tmp_path, service.url, "--duration", "1s", "-o", "page.html",
                "--raw", "keep/raw.pb.gz")  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert res.stdout == "" and "flame-canvas" in (tmp_path / "page.html").read_text()
    assert decode((tmp_path / "keep/raw.pb.gz").read_bytes(), "raw").profile_type == "cpu"
    assert not (tmp_path / "page.pb.gz").exists()


def test_raw_and_output_in_one_file_is_a_usage_error(tmp_path: Path) -> None:
    # refused before anything is fetched: the target does not even answer
    res = trace(tmp_path, "http://127.0.0.1:9", "-o", "x.json", "--raw", "x.json")
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "--raw" in res.stderr, res.stderr
    assert list(tmp_path.iterdir()) == []
