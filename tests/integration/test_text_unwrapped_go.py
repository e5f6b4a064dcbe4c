"""A real module in a long directory: the text report names its paths whole, in a file
(`-o`) and in a pipe even with COLUMNS set (what reads them is grep or an editor)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.doctor.modules import doctor_env, module

pytestmark = pytest.mark.integration


def godiag(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "godiag", *args], capture_output=True,
                          text=True, timeout=300, env=env)  # fmt: skip


def test_doctor_text_keeps_a_long_module_path_on_one_line(tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*(["services-with-a-rather-long-directory-name"] * 4), "app")
    d = module(deep, {
        "lib.go": "package app\n\nfunc Add(a, b int) int { return a + b }\n",
        "more_test.go": 'package app\n\nimport "testing"\n\nfunc Testadd(t *testing.T) {}\n',
    })  # fmt: skip
    env = {**doctor_env(), "COLUMNS": "60", "NO_COLOR": "1"}
    doc = json.loads(godiag("doctor", str(d), "--format", "json", env=env).stdout)
    header = f"godiag doctor {doc['dir']}  ({doc['go']['version']}, {doc['go']['path']})"
    assert len(header) > 200 and os.fspath(d) in header
    out = tmp_path / "doctor.txt"
    godiag("doctor", str(d), "-o", str(out), env=env)
    piped = godiag("doctor", str(d), env=env).stdout
    for text in (out.read_text(), piped):
        assert header in text.splitlines()
        assert "    at more_test.go:5" in text.splitlines()
