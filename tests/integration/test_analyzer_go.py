"""The analyzers' own analysistest suites (`// want` annotations), run by the real go."""

from __future__ import annotations

import subprocess

import pytest

from godiag.toolchain.analyzer import source_dir
from tests.gohelpers import hermetic_go_env

pytestmark = pytest.mark.integration


def test_analysistest_suites_pass() -> None:
    src = source_dir()
    proc = subprocess.run(
        ["go", "test", "-count=1", "./..."],
        cwd=src,
        env=hermetic_go_env(GOFLAGS="-mod=vendor"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok  \tgodiag.dev/leakcheck/passes" in proc.stdout


def test_every_analyzer_has_a_test_and_testdata() -> None:
    src = source_dir() / "passes"
    tests = (src / "passes_test.go").read_text()
    for go_name in (
        "GoexitMisuse",
        "AbandonedSender",
        "UnclosedRange",
        "LostCancelWatcher",
        "WaitGroupMissingDone",
        "LockHeldBlocking",
        "UnclosedResponseBody",
        "TransportPerRequest",
        "TimerLeak",
    ):
        assert f"passes.{go_name}," in tests
    wants = list((src / "testdata" / "src").rglob("*.go"))
    assert sum("// want" in p.read_text() for p in wants) >= 9
