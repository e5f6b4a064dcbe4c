"""`godiag profile --format pprof` writes the profile as read: options it would not apply
are refused, not dropped in silence."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HEAP = Path(__file__).parent.parent / "data/diagnose/healthy-kvstore/00-heap-start.pb.gz"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "godiag", "profile", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "extra", [["--focus", "main"], ["--ignore", "runtime"], ["--diff-base", str(HEAP)]]
)
def test_filters_and_bases_are_refused_for_pprof_output(tmp_path: Path, extra: list[str]) -> None:
    out = tmp_path / "out.pb.gz"
    res = run(str(HEAP), *extra, "-o", str(out))
    assert res.returncode == 2 and not out.exists()
    (line,) = res.stderr.strip().splitlines()
    assert extra[0] in line and "go tool pprof -proto" in line


def test_plain_pprof_output_is_written(tmp_path: Path) -> None:
    out = tmp_path / "out.pb.gz"
    res = run(str(HEAP), "--sample-index", "inuse_space", "-o", str(out))
    assert res.returncode == 0, res.stderr
    assert out.read_bytes()[:2] == b"\x1f\x8b"
