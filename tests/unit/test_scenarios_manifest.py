"""go/scenarios/scenarios.json agrees with the `// FAULT(kind)` marks in the sources, covers
every fault kind with enough different programs, and names real Go functions."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from godiag.analysis.rootcause.kinds import IDS as KINDS
from tests.scenario_probe import MANIFEST, PROGRAMS, SCENARIOS

MARK = re.compile(r"//\s*FAULT\(([a-z-]+)\)")
# Go symbol names: main.f, main.f.func1, main.(*T).m, main.(*T).m.func2, main.T.m
SYMBOL = re.compile(r"^main\.(?:\(\*?(\w+)\)\.)?(\w+)(?:\.func\d+)*$")
FUNC_DECL = re.compile(r"^func (?:\(\w+ \*?(\w+)\) )?(\w+)\(")


def _marks() -> dict[str, list[tuple[str, int, str]]]:
    """Every FAULT mark under go/scenarios: {program dir: [(file, line, kind)]}."""
    out: dict[str, list[tuple[str, int, str]]] = {}
    for path in sorted(SCENARIOS.rglob("*.go")):
        rel = path.relative_to(SCENARIOS).as_posix()
        for i, text in enumerate(path.read_text().splitlines(), start=1):
            m = MARK.search(text)
            if m:
                out.setdefault(str(Path(rel).parent), []).append((rel, i, m.group(1)))
    return out


def test_manifest_shape() -> None:
    assert MANIFEST["schema"] == "godiag.scenarios/v1"
    assert MANIFEST["module"] == "godiag.scenarios"
    names = [p["name"] for p in PROGRAMS]
    assert len(names) == len(set(names))
    for p in PROGRAMS:
        assert p["kind"] in KINDS, p
        assert (SCENARIOS / p["dir"] / "main.go").is_file(), p
        assert p["description"].strip()
        assert (p["fault"] is None) == (p["kind"] == "healthy"), p


def test_every_kind_has_enough_programs() -> None:
    counts = Counter(p["kind"] for p in PROGRAMS)
    for kind in KINDS:
        assert counts[kind] >= (6 if kind == "healthy" else 4), (kind, counts[kind])
    assert len(PROGRAMS) >= 34


def test_every_program_dir_is_listed() -> None:
    dirs = {p.parent.relative_to(SCENARIOS).as_posix() for p in SCENARIOS.glob("cmd/*/main.go")}
    assert dirs == {p["dir"] for p in PROGRAMS}


def test_manifest_and_fault_comments_agree() -> None:
    marks = _marks()
    assert "internal/svc" not in marks
    for p in PROGRAMS:
        found = marks.get(p["dir"], [])
        if p["fault"] is None:
            assert not found, f"healthy {p['name']} has a FAULT mark: {found}"
            continue
        assert len(found) == 1, f"{p['name']}: want one FAULT mark, found {found}"
        file, line, kind = found[0]
        assert kind == p["kind"], (p["name"], kind)
        assert file == p["fault"]["file"]
        # The mark sits on the fault line or on a comment line just above it.
        assert p["fault"]["line"] in (line, line + 1), (p["name"], line)


def _enclosing_func(lines: list[str], line: int) -> tuple[str | None, str]:
    for text in reversed(lines[:line]):
        m = FUNC_DECL.match(text)
        if m:
            return m.group(1), m.group(2)
    raise AssertionError("fault line is outside any function")


@pytest.mark.parametrize("prog", [p for p in PROGRAMS if p["fault"]], ids=lambda p: p["name"])
def test_fault_function_encloses_fault_line(prog: dict[str, Any]) -> None:
    fault = prog["fault"]
    m = SYMBOL.match(fault["function"])
    assert m, f"not a Go symbol name of package main: {fault['function']}"
    lines = (SCENARIOS / fault["file"]).read_text().splitlines()
    assert 1 <= fault["line"] <= len(lines)
    assert "FAULT(" in lines[fault["line"] - 1] or "FAULT(" in lines[fault["line"] - 2]
    receiver, name = _enclosing_func(lines, fault["line"])
    assert (m.group(1), m.group(2)) == (receiver, name), fault
    if ".func" in fault["function"]:
        # A .funcN suffix: the line must sit inside a function literal of that function.
        body = lines[: fault["line"]]
        decl = max(i for i, t in enumerate(body) if FUNC_DECL.match(t))
        assert any(re.search(r"\bfunc\(", t) for t in body[decl + 1 :]), fault


def test_go_sum_is_committed() -> None:
    # Tests build with GOPROXY=off: every module must be pinned and checksummed.
    gosum = (SCENARIOS / "go.sum").read_text()
    assert "github.com/prometheus/client_golang" in gosum
    assert "module godiag.scenarios" in (SCENARIOS / "go.mod").read_text()


def test_docs_table_lists_every_program() -> None:
    doc = (SCENARIOS.parents[1] / "docs" / "scenarios.md").read_text()
    for p in PROGRAMS:
        row = next((r for r in doc.splitlines() if r.startswith(f"| `{p['name']}` |")), None)
        assert row, f"docs/scenarios.md has no row for {p['name']}"
        assert f"| {p['kind']} |" in row
        if p["fault"]:
            f = p["fault"]
            assert f"`{f['file']}:{f['line']}` `{f['function']}`" in row, row
