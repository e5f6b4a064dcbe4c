"""`godiag analyze` on the scenario services: it finds the planted faults an analyzer
covers, at their file and line (or in their function), and nothing in healthy programs.

Which faults are in scope is data (tests/data/analyze/scenario_expectations.json), each
out-of-scope fault with the reason no analyzer covers it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from godiag import schemas
from godiag.model.analyzers import CATALOG
from tests.gohelpers import REPO, hermetic_go_env
from tests.scenario_probe import PROGRAMS, SCENARIOS

pytestmark = pytest.mark.integration

EXPECT: dict[str, Any] = json.loads(
    (REPO / "tests" / "data" / "analyze" / "scenario_expectations.json").read_text()
)
FAULTY = [p for p in PROGRAMS if p["fault"] is not None]
IN_SCOPE = [p for p in FAULTY if EXPECT["programs"][p["name"]]["analyzer"]]
HEALTHY = [p for p in PROGRAMS if p["fault"] is None]
FUNC_DECL = re.compile(r"^func (?:\(\w+ \*?(\w+)\) )?(\w+)\(")


@pytest.fixture(scope="module")
def findings() -> list[dict[str, Any]]:
    env = hermetic_go_env(XDG_CACHE_HOME=str(REPO / ".cache" / "xdg"))
    r = subprocess.run(
        [sys.executable, "-m", "godiag", "analyze", str(SCENARIOS), "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    if r.returncode == 2 and ("module lookup disabled" in r.stderr or "missing go.sum" in r.stderr):
        why = r.stderr.strip()
        pytest.skip(f"scenario module dependencies missing (make scenario-modules): {why}")
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    schemas.validate(doc)
    out: list[dict[str, Any]] = doc["findings"]
    return out


def enclosing_function(file: str, line: int) -> str:
    """The Go symbol (main.f or main.(*T).m) of the declaration containing file:line."""
    lines = (SCENARIOS / file).read_text().splitlines()[:line]
    for text in reversed(lines):
        if m := FUNC_DECL.match(text):
            recv, name = m.groups()
            return f"main.(*{recv}).{name}" if recv else f"main.{name}"
    return ""


def fault_function(program: dict[str, Any]) -> str:
    """The declared function of the fault (closures main.f.func1 belong to main.f)."""
    return re.sub(r"(\.func\d+)+$", "", program["fault"]["function"])


def in_program(f: dict[str, Any], program: dict[str, Any]) -> bool:
    return str(f["location"]["file"]).startswith(program["dir"] + "/")


def test_expectations_cover_every_fault_program() -> None:
    assert set(EXPECT["programs"]) == {p["name"] for p in FAULTY}
    for name, e in EXPECT["programs"].items():
        assert e["analyzer"] is None or e["analyzer"] in CATALOG, name
        assert e["why"], name


@pytest.mark.parametrize("program", IN_SCOPE, ids=lambda p: p["name"])
def test_in_scope_fault_found(findings: list[dict[str, Any]], program: dict[str, Any]) -> None:
    want = EXPECT["programs"][program["name"]]["analyzer"]
    fault = program["fault"]
    hits = [
        f
        for f in findings
        if f["id"] == want
        and f["location"]["file"] == fault["file"]
        and (
            abs(f["location"]["line"] - fault["line"]) <= 3
            or enclosing_function(fault["file"], f["location"]["line"]) == fault_function(program)
        )
    ]
    got = [(f["id"], f["location"]) for f in findings if in_program(f, program)]
    assert hits, (
        f"{want} not reported at {fault['file']}:{fault['line']} ({fault['function']}); got {got}"
    )


@pytest.mark.parametrize("program", HEALTHY, ids=lambda p: p["name"])
def test_no_finding_on_healthy_program(
    findings: list[dict[str, Any]], program: dict[str, Any]
) -> None:
    assert [f for f in findings if in_program(f, program)] == []


def test_no_finding_outside_the_faults(findings: list[dict[str, Any]]) -> None:
    """Every finding is a planted fault, or a listed incidental true positive."""
    incidental = {(i["id"], i["file"], i["line"]) for i in EXPECT["incidental"]}
    by_dir = {p["dir"]: p for p in PROGRAMS}
    stray = []
    for f in findings:
        file, line = f["location"]["file"], f["location"]["line"]
        if (f["id"], file, line) in incidental:
            continue
        program = by_dir.get(str(Path(file).parent))
        fault = program and program["fault"]
        expected = fault and EXPECT["programs"][program["name"]]["analyzer"] == f["id"]
        near = (
            fault
            and file == fault["file"]
            and (
                abs(line - fault["line"]) <= 3
                or enclosing_function(file, line) == fault_function(program)
            )
        )
        if not (expected and near):
            stray.append((f["id"], file, line, f["detail"]))
    assert stray == []
    # The incidental list stays honest: each entry is still reported.
    got = {(f["id"], f["location"]["file"], f["location"]["line"]) for f in findings}
    assert incidental <= got
