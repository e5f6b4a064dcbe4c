"""Shipped Go programs built by several godiag processes at once, on a fresh cache: each
gets a whole binary (rewriting the sources under another process's `go build` failed it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_parallel_first_builds_all_succeed(tmp_path: Path) -> None:
    gocache = subprocess.run(["go", "env", "GOCACHE"], capture_output=True, text=True).stdout
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), "GOCACHE": gocache.strip()}
    code = "from godiag.toolchain.gobuild import build_shipped; print(build_shipped('demo'))"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in outs]
    paths = {out.strip() for out, _ in outs}
    assert len(paths) == 1
    binary = Path(paths.pop())
    assert binary.is_file() and os.access(binary, os.X_OK)
    # nothing half-done is left beside the results
    assert not list((tmp_path / "godiag" / "bin").glob("*.tmp"))
    assert [p.name for p in (tmp_path / "godiag" / "src").iterdir()] == [binary.name]
