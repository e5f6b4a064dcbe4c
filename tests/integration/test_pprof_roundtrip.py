"""Decode, re-encode: `go tool pprof -raw` prints exactly what it prints for the original."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from godiag.formats.pprof import decode
from godiag.formats.pprof_write import encode

pytestmark = pytest.mark.integration


def _raw(path: Path) -> str:
    return subprocess.run(
        ["go", "tool", "pprof", "-raw", str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout


@pytest.mark.parametrize(
    "name",
    [
        "google-pprof/internal-report-testdata/sample.cpu",
        "parca/profile-with-labels.pb.gz",
        "flameshow/heap.out",
        "flameshow/goroutine.out",
        "alloy-fastdelta/block.after.pprof",
        "google-pprof/internal-driver-testdata/go.nomappings.crash",
    ],
)
def test_round_trip_is_unchanged_for_pprof(corpus: Path, tmp_path: Path, name: str) -> None:
    src = corpus / "pprof" / name
    out = tmp_path / "again.pb.gz"
    out.write_bytes(encode(decode(src.read_bytes(), str(src))))
    assert _raw(out) == _raw(src)
