"""`godiag goroutines` on files and stdin: outputs, and one clean line for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from godiag.schemas import validate
from tests import datapaths

CORPUS = datapaths.CORPUS / "goroutines"
DUMP = CORPUS / "go-profiler-notes" / "2.net.http.pprof.goroutine.debug2.txt"


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "godiag", "goroutines", *args],
        input=stdin,
        capture_output=True,
        timeout=60,
    )


def test_stdin_json_validates() -> None:
    res = run("-", "--format", "json", stdin=DUMP.read_bytes())
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    validate(doc)
    assert doc["source"] == "<stdin>" and doc["total"] == 10


def test_several_sources_are_combined() -> None:
    res = run(str(DUMP), str(DUMP), "--format", "json")
    doc = json.loads(res.stdout)
    assert doc["total"] == 20 and doc["groups"][0]["count"] == 4


def test_text_view_lists_groups() -> None:
    res = run(str(DUMP), "--no-color")
    out = res.stdout.decode()
    assert res.returncode == 0
    assert "10 goroutines in 9 groups" in out and "main.shortSleepLoop" in out


def test_diff_title_counts_the_groups_of_this_dump(tmp_path: Path) -> None:
    """A group only the baseline has is listed with 0, but is no group of this dump."""
    blocked = "goroutine {n} [chan receive]:\nmain.{fn}()\n\t/src/main.go:{line} +0x1\n"
    created = "created by main.main in goroutine 1\n\t/src/main.go:3 +0x2\n\n"
    base, now = tmp_path / "base.txt", tmp_path / "now.txt"
    base.write_text(
        blocked.format(n=2, fn="a", line=10)
        + created
        + blocked.format(n=3, fn="b", line=20)
        + created
    )
    now.write_text(blocked.format(n=2, fn="a", line=10) + created)
    out = " ".join(run(str(now), "--diff", str(base), "--no-color").stdout.decode().split())
    assert "1 goroutine in 1 group (debug2), -1 since the baseline (2), 1 baseline" in out
    assert "(2), 1 baseline group(s) gone from" in out
    assert "channel 1" in out and "channel 0" not in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (bytes(range(256)) * 10, "binary data"),
        (b"hello\nworld\n", "no goroutine dump found"),
        (b"goroutine 1 [running]:\nmain.main)(\n\n", ":2: goroutine 1"),
        (b"\x1f\x8b\x08\x00rest", "gzip data"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, content: bytes, message: str) -> None:
    f = tmp_path / "bad.txt"
    f.write_bytes(content)
    res = run(str(f))
    err = res.stderr.decode()
    assert res.returncode == 2
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_missing_file() -> None:
    res = run("/nonexistent/dump.txt")
    assert res.returncode == 2 and b"no such file" in res.stderr


def test_lenient_skips_broken_goroutines() -> None:
    res = run(str(CORPUS / "gostackparse" / "errorhandling.txt"), "--lenient", "--format", "json")
    doc = json.loads(res.stdout)
    assert doc["total"] == 2 and doc["errors"][0]["line"] == 6
