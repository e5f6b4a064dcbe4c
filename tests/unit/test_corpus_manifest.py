"""go/corpus: every template's corpus.json agrees with the `// FAULT(KIND:VARIANT)` marks in
its sources, names real Go functions, and has healthy variants beside its faults."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from godiag.analysis.rootcause.kinds import IDS as KINDS
from tests.gohelpers import REPO

CORPUS = REPO / "go" / "corpus"
MARK = re.compile(r"//\s*FAULT\(([a-z-]+):([a-z0-9-]+)\)")
# main.f, main.f.func1, main.(*T).m, main.T.m, main.(*T[...]).m.func2.1
SYMBOL = re.compile(r"^main\.(?:\(\*?(\w+)(?:\[[^\]]*\])?\)\.)?(\w+)(?:\.(?:func\d+|\d+))*$")
MANIFESTS = sorted(CORPUS.glob("cmd/*/corpus.json"))


def _load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text())
    return doc


def _marks(template_dir: Path) -> dict[tuple[str, str], tuple[str, int]]:
    """(kind, variant) -> (file relative to go/corpus, line) for every mark of a template."""
    out: dict[tuple[str, str], tuple[str, int]] = {}
    for path in sorted(template_dir.rglob("*.go")):
        rel = path.relative_to(CORPUS).as_posix()
        for i, text in enumerate(path.read_text().splitlines(), start=1):
            m = MARK.search(text)
            if m:
                key = (m.group(1), m.group(2))
                assert key not in out, f"{rel}:{i}: {key} marked twice"
                out[key] = (rel, i)
    return out


def test_the_shared_package_plants_nothing() -> None:
    assert not _marks(CORPUS / "internal")


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda p: p.parent.name)
def test_template_manifest(manifest: Path) -> None:
    doc = _load(manifest)
    assert doc["template"] == manifest.parent.name
    assert doc["description"].strip()
    variants = [p["variant"] for p in doc["programs"]]
    assert len(variants) == len(set(variants)), variants
    healthy = [p for p in doc["programs"] if p["kind"] == "healthy"]
    assert len(healthy) >= 2, "a template needs healthy variants (look-alikes of its faults)"
    marks = _marks(manifest.parent)
    listed = set()
    for p in doc["programs"]:
        assert p["kind"] in KINDS, p
        assert p["description"].strip(), p
        assert (p["fault"] is None) == (p["kind"] == "healthy"), p
        if p["fault"] is None:
            continue
        f = p["fault"]
        key = (p["kind"], p["variant"])
        assert key in marks, f"{manifest.parent.name}: no // FAULT({key[0]}:{key[1]}) mark"
        assert marks[key] == (f["file"], f["line"]), (key, marks[key], f)
        assert SYMBOL.match(f["function"]), f["function"]
        listed.add(key)
    assert set(marks) == listed, f"marks not in the manifest: {set(marks) - listed}"


def test_corpus_covers_every_fault_kind_in_several_templates() -> None:
    if len(MANIFESTS) < 4:
        pytest.skip(f"{len(MANIFESTS)} templates so far")
    where: dict[str, set[str]] = {}
    for m in MANIFESTS:
        for p in _load(m)["programs"]:
            where.setdefault(p["kind"], set()).add(m.parent.name)
    for kind in KINDS:
        assert len(where.get(kind, ())) >= 2, (kind, where.get(kind))
