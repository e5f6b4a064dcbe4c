"""A live diagnosis saved with --save-captures replays offline to the same diagnosis.

The service is stopped before the replay, so nothing can come from the network: the
verdict, every cause's probability and location, and the whole document but for its
store block are what the live run said.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from godiag import schemas
from tests.gohelpers import GoProcess
from tests.scenario_probe import PROGRAMS, binary

pytestmark = pytest.mark.integration


def godiag(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "godiag", *args], capture_output=True, text=True, timeout=120,
        env={**os.environ, "GODIAG_HOME": str(home)},
    )  # fmt: skip


@pytest.mark.parametrize("name", ["searchfan", "reqtracker"])
def test_saved_live_diagnosis_replays_to_the_same_causes(name: str, tmp_path: Path) -> None:
    prog = next(p for p in PROGRAMS if p["name"] == name)
    saved = tmp_path / "bundle"
    proc = GoProcess(binary(prog), ["-intensity", "medium", "-lifetime", "60s"])
    try:
        time.sleep(3.0)
        live = godiag("diagnose", proc.url, "--window", "2s", "--format", "json",
                      "--no-store", "--save-captures", str(saved), home=tmp_path)  # fmt: skip
    finally:
        proc.close()
    assert live.returncode in (0, 1), live.stderr
    again = godiag("diagnose", str(saved), "--format", "json", home=tmp_path)
    assert again.returncode == live.returncode, again.stderr
    a, b = json.loads(live.stdout), json.loads(again.stdout)
    schemas.validate(b)
    assert a["causes"], a["missing"]
    assert b["verdict"] == a["verdict"]
    assert [(c["kind"], c["probability"], c["location"]) for c in b["causes"]] == [
        (c["kind"], c["probability"], c["location"]) for c in a["causes"]
    ]
    assert b["started_at"] == a["started_at"] and b["duration_s"] == a["duration_s"]
    differs = sorted(k for k in a if a[k] != b[k])
    assert differs == ["store"], differs
    assert b["store"]["message"] == "not stored (a replay stores only with --store)"
    assert (saved / "manifest.json").is_file() and len(list(saved.iterdir())) >= 8
