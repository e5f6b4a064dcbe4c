"""The fault-kind registry (analysis/rootcause/kinds/) against every place that lists kinds.

A kind added to the registry and forgotten in the schema, the docs or the shipped model
(or left behind there when removed) fails here, not in a diagnosis at run time.
"""

from __future__ import annotations

import re

from godiag import schemas
from godiag.analysis.rootcause import hostload, ranker
from godiag.analysis.rootcause.corroborate import CHECKABLE, EXPLAINS
from godiag.analysis.rootcause.features import FEATURES
from godiag.analysis.rootcause.kinds import IDS, KINDS, title
from godiag.analysis.rootcause.locate import locate_all
from godiag.pipeline.observe import Observation
from tests.datapaths import REPO

DOCS = REPO / "docs"


def block(doc: str, marker: str) -> str:
    """The block after `<!-- marker -->` in docs/DOC, up to the next blank line."""
    m = re.search(rf"<!-- {marker} -->\n(.*?)(?:\n\n|\Z)", (DOCS / doc).read_text(), re.S)
    assert m, f"no <!-- {marker} --> block in docs/{doc}"
    return m.group(1)


def table(doc: str, marker: str) -> list[list[str]]:
    """The cells of the table after `<!-- marker -->`, header and rule left out."""
    rows = [r for r in block(doc, marker).splitlines()[2:] if r.startswith("|")]
    return [[c.strip() for c in r.strip().strip("|").split("|")] for r in rows]


def test_ids_are_unique_and_healthy_is_last() -> None:
    assert len(set(IDS)) == len(IDS) == len(KINDS)
    assert IDS[-1] == "healthy"
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", k) for k in IDS)


def test_schema_enum_is_the_registry() -> None:
    schema = schemas.load("diagnosis")
    assert schema["$defs"]["kind"]["enum"] == list(IDS)


def test_shipped_model_has_a_class_per_kind() -> None:
    model = ranker.load_model()
    assert sorted(model["classes"]) == sorted(IDS)
    assert ranker.KINDS == IDS


def test_contracts_lists_the_kinds_in_order() -> None:
    assert re.findall(r"`([^`]+)`", block("contracts.md", "fault-kinds")) == list(IDS)


def test_diagnose_doc_table_is_the_registry() -> None:
    rows = table("diagnose.md", "fault-kinds")
    assert [r[0] for r in rows] == list(IDS)
    for kind_id, rule_out, timing, analyzers in rows:
        k = KINDS[kind_id]
        assert (rule_out == "—") == (k.ruled_out is None), kind_id
        assert timing == ("yes" if k.timing else "no"), kind_id
        assert set(re.findall(r"`([^`]+)`", analyzers)) == k.explained_by, kind_id


def test_diagnose_doc_locations_are_the_locators() -> None:
    rows = table("diagnose.md", "locations")
    assert [r[0] for r in rows] == [k.id for k in KINDS.values() if k.locate is not None]


def test_scenarios_document_and_check_every_fault_kind() -> None:
    faults = {k for k in IDS if k != "healthy"}
    assert {r[0] for r in table("scenarios.md", "fault-sites")} == faults
    # the live suite checks each kind's programs in raw data, one test per kind
    live = (REPO / "tests" / "integration" / "test_scenarios.py").read_text()
    assert set(re.findall(r'_names\("([a-z-]+)"\)', live)) == set(IDS)


def test_kinds_name_only_real_analyzers() -> None:
    # docs/contracts.md's analyzer list equals the analyzer catalog (test_contracts_doc)
    catalog = set(re.findall(r"`([^`]+)`", block("contracts.md", "analyze")))
    named = {a for k in KINDS.values() for a in k.explained_by}
    assert named <= catalog, named - catalog
    assert set(EXPLAINS) == named
    assert {k.id for k in KINDS.values() if k.explained_by} == CHECKABLE


def test_timing_kinds_come_from_the_registry() -> None:
    assert {k.id for k in KINDS.values() if k.timing} == hostload.TIMING_KINDS
    assert all(hostload.undecidable(k) == KINDS[k].timing for k in IDS)


def test_every_kind_has_a_title_with_and_without_a_location() -> None:
    none = dict.fromkeys(FEATURES)
    growing = {**none, "top_growth_per_min": 120.0, "top_growth_blocked": 1, "top_growth_count": 10}
    at = {"function": "main.handle", "file": "/src/main.go", "line": 12}
    for k in IDS:
        for feats in (none, growing):
            bare, located = title(k, feats, None), title(k, feats, at)
            assert bare and "main.handle" not in bare
            assert k == "healthy" or located.endswith("main.handle") or "main.handle (" in located
    assert title("goroutine-leak", growing, at) == (
        "goroutines pile up blocked in main.handle (+120/min)"
    )
    # one more goroutine in 5 s is no rate: "+12/min" beside a flat history read as growth
    one = {**growing, "top_growth_per_min": 12.0, "top_growth_count": 1}
    assert title("goroutine-leak", one, at) == "goroutines pile up blocked in main.handle"


def test_locate_all_answers_for_every_locator_on_an_empty_observation() -> None:
    where = locate_all(Observation("http://127.0.0.1:1"))
    assert list(where) == [k.id for k in KINDS.values() if k.locate is not None]
    assert all(loc is None for loc, _ in where.values())
