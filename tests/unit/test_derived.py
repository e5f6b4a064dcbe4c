"""The diagnosis's goroutine groups and growth: made once, the same as `godiag goroutines`."""

from __future__ import annotations

import pytest

from godiag.analysis import goroutines
from godiag.analysis.goroutines import analyze, diff, group_doc
from godiag.analysis.rootcause import derived as derived_mod
from godiag.analysis.rootcause.derived import derive
from godiag.analysis.rootcause.features import extract
from godiag.analysis.rootcause.locate import locate_all
from godiag.formats.goroutines import parse
from godiag.model.goroutine import Dump
from godiag.model.observation import Observation
from tests.datapaths import DATA


def _dump(name: str) -> Dump:
    path = DATA / "goroutines" / name
    return parse(path.read_bytes(), str(path))


def test_growth_is_the_diff_documents() -> None:
    a, b = _dump("prometheus-a.txt"), _dump("prometheus-b.txt")
    d = derive(Observation("test", dumps=[a, b], duration=60.0))
    doc = diff(a, b, "test")
    assert [group_doc(g, diffed=True) for g in d.groups] == doc["groups"]
    assert d.total_growth == doc["diff"]["growth"]
    assert d.start_categories == analyze(a, "a")["categories"]
    assert d.end_categories == analyze(b, "b")["categories"]
    assert [group_doc(g) for g in d.end] == analyze(b, "b")["groups"]
    assert all(g.growth == g.count - g.before for g in d.groups)


def test_one_dump_is_its_groups_without_growth() -> None:
    b = _dump("seaweedfs-b.txt")
    d = derive(Observation("test", dumps=[b]))
    assert d.groups == d.end and d.total_growth is None and d.start_categories == {}
    assert [group_doc(g) for g in d.groups] == analyze(b, "b")["groups"]
    assert all(g.growth == 0 and g.before == g.count for g in d.groups)


def test_each_dump_is_grouped_once_per_diagnosis(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def counted(dump: Dump) -> dict[goroutines.Sig, goroutines.Group]:
        calls.append(1)
        return group(dump)

    group = goroutines.group
    monkeypatch.setattr(goroutines, "group", counted)
    monkeypatch.setattr(derived_mod, "group", counted)
    obs = Observation("test", dumps=[_dump("alertmanager-a.txt"), _dump("alertmanager-b.txt")])
    obs.duration = 60.0
    d = derive(obs)
    extract(obs, d)
    locate_all(obs, d)
    assert len(calls) == 2
