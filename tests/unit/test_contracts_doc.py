"""docs/contracts.md lists exactly the ids the code has: a new id without its line, or a
line left behind by a removed id, fails here instead of misleading a script's author."""

from __future__ import annotations

import re

import pytest

from godiag import schemas
from godiag.analysis.goroutine_rules import CATEGORIES
from godiag.analysis.rootcause.ranker import KINDS
from godiag.analysis.rules import RULES
from godiag.model.analyzers import CATALOG
from godiag.store.metadata import MANDATORY
from godiag.toolchain.checks import CHECKS
from tests.datapaths import REPO

DOC = (REPO / "docs" / "contracts.md").read_text()
SRC = REPO / "src" / "godiag"


def section(marker: str) -> list[str]:
    """The backquoted ids of the block after `<!-- marker -->` (a table's first column, or a
    paragraph), up to the next blank line after it."""
    m = re.search(rf"<!-- {marker} -->\n(.*?)(?:\n\n|\Z)", DOC, re.S)
    assert m, f"no <!-- {marker} --> block in docs/contracts.md"
    block = m.group(1)
    if block.startswith("|"):
        rows = [r for r in block.splitlines()[2:] if r.startswith("|")]
        return [re.findall(r"`([^`]+)`", r.split("|")[1])[0] for r in rows]
    return re.findall(r"`([^`]+)`", block)


def finding_ids(*files: str) -> set[str]:
    """Finding ids written in the source: `Finding("id", …)` or `Finding(id="id", …)`."""
    text = "".join((SRC / f).read_text() for f in files)
    return set(re.findall(r'Finding\(\s*(?:id=)?"([a-z][a-z0-9-]+)"', text)) | set(
        re.findall(r'\bid="([a-z][a-z0-9-]+)"', text)
    )


def test_run_finding_ids_found_in_source() -> None:
    # Guards the regex itself: an empty set would make the comparison below vacuous.
    assert "go-panic" in finding_ids(*RUN_FILES)
    assert "stripped-binary" in finding_ids("analysis/binary.py")


RUN_FILES = tuple(
    str(p.relative_to(SRC)) for p in sorted((SRC / "toolchain" / "supervise").glob("*.py"))
)


@pytest.mark.parametrize(
    ("marker", "registry"),
    [
        ("categories", list(CATEGORIES)),
        ("fault-kinds", list(KINDS)),
        ("check-rules", list(RULES)),
        ("doctor", list(CHECKS)),
        ("analyze", list(CATALOG)),
        ("metadata", list(MANDATORY)),
    ],
)
def test_catalog_matches_the_registry(marker: str, registry: list[str]) -> None:
    assert section(marker) == registry


@pytest.mark.parametrize(
    ("marker", "files"), [("inspect", ("analysis/binary.py",)), ("run", RUN_FILES)]
)
def test_findings_match_the_source(marker: str, files: tuple[str, ...]) -> None:
    assert set(section(marker)) == finding_ids(*files)


def test_every_schema_is_listed() -> None:
    listed = set(re.findall(r"`godiag\.([a-z]+)/v1`", DOC))
    assert listed == set(schemas.names())
