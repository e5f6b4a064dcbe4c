"""The diagnosis's text view says why its table is not in probability order."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console

from godiag.report import diagnosis as view


def _doc(probs: list[tuple[str, float]]) -> dict[str, Any]:
    causes = [{"rank": i + 1, "kind": k, "probability": p, "title": k, "location": None,
               "evidence": []} for i, (k, p) in enumerate(probs)]  # fmt: skip
    return {
        "target": {"url": "http://svc:6060", "service_name": "svc"},
        "duration_s": 5.5, "window_s": 5.0, "verdict": "not sure", "causes": causes,
        "missing": [], "notes": [], "features": {}, "artifacts": [], "budgets": {"hits": []},
        "store": {"stored": 0, "missing": [], "message": "not stored"},
    }  # fmt: skip


def _text(doc: dict[str, Any]) -> str:
    out = io.StringIO()
    view.render_text(doc, Console(file=out, width=200, no_color=True))
    return out.getvalue()


def test_a_kind_without_its_evidence_after_a_less_probable_one_is_explained() -> None:
    text = _text(_doc([("healthy", 0.34), ("lock-contention", 0.0), ("memory-leak", 0.18)]))
    assert "order: first the most probable kind whose own evidence was seen" in text
    assert "order:" not in _text(_doc([("healthy", 0.6), ("memory-leak", 0.3)]))


def test_a_kind_left_out_above_a_listed_one_is_explained_too() -> None:
    """lock-contention 46%, healthy 7%, gc-pressure 2% listed in order, deadlock 18% set
    aside and not listed: the table is in order, the ranking is not, and it says so."""
    doc = _doc([("lock-contention", 0.46), ("healthy", 0.07), ("gc-pressure", 0.02)])
    doc["others"] = [{"kind": "deadlock", "probability": 0.18, "set_aside": "no goroutine "
                      "is stuck"}, {"kind": "memory-leak", "probability": 0.001}]  # fmt: skip
    assert "order: first the most probable kind whose own evidence was seen" in _text(doc)
    doc["others"] = [{"kind": "memory-leak", "probability": 0.001}]
    assert "order:" not in _text(doc)


def test_a_row_without_its_own_evidence_says_so() -> None:
    doc = _doc([("healthy", 0.41), ("gc-pressure", 0.06), ("memory-leak", 0.24)])
    doc["causes"][2]["title"] = "unconfirmed: live heap grows"
    doc["causes"][2]["evidence"] = ["live heap allocated at main.f (f.go:3) grew by 0.50 MiB",
                                    "unconfirmed: no allocation site grew by the heap "
                                    "profile's resolution"]  # fmt: skip
    text = _text(doc)
    rows = {line.split()[1]: line for line in text.splitlines() if line[:3].strip()[:1].isdigit()}
    assert "unconfirmed: see why below" in rows["memory-leak"]
    assert "unconfirmed" not in rows["gc-pressure"] + rows["healthy"]
    # the reason is printed, not a claim that it has no evidence beside the evidence it has
    assert "memory-leak unconfirmed: no allocation site grew by the heap profile's" in text


def test_the_kinds_not_listed_are_one_row_so_the_column_sums_to_all() -> None:
    """Three causes listed of eight kinds: the rest of the probability is one row; a list
    that already holds it all gets none."""
    text = _text(_doc([("healthy", 0.31), ("connection-leak", 0.21), ("deadlock", 0.14)]))
    other = [line for line in text.splitlines() if "(other kinds)" in line]
    assert len(other) == 1 and "34%" in other[0], text
    assert "(other kinds)" not in _text(_doc([("healthy", 0.6), ("memory-leak", 0.4)]))


def test_the_other_causes_evidence_is_pointed_to_not_hidden() -> None:
    doc = _doc([("healthy", 0.31), ("connection-leak", 0.21)])
    assert "--verbose" not in _text(doc)  # no other cause has evidence to show
    doc["causes"][1]["evidence"] = ["goroutines on client connections: 583"]
    assert "the other causes' evidence: --verbose, or --format json" in _text(doc)
    out = io.StringIO()
    view.render_text(doc, Console(file=out, width=200, no_color=True), verbose=True)
    assert "goroutines on client connections: 583" in out.getvalue()


def test_series_values_read_as_amounts() -> None:
    """The plots' captions: bytes in binary units, counts whole, rates with four digits,
    never an exponent."""
    from godiag.report.diagnosis import amount

    assert amount(2.12992e06, "heap_live_bytes") == "2.0 MiB"
    assert amount(13434880, "heap_live_bytes", signed=True) == "+12.8 MiB"
    assert amount(1812.0, "go_goroutines", signed=True) == "+1,812"
    assert amount(0.02858, "cpu_seconds_per_s") == "0.02858"


def test_the_other_kinds_are_named_on_their_row() -> None:
    """A verdict may name a kind outside the top three: its row lists them by name."""
    doc = _doc([("healthy", 0.54), ("gc-pressure", 0.03), ("memory-leak", 0.21)])
    doc["others"] = [{"kind": "goroutine-leak", "probability": 0.07},
                     {"kind": "lock-contention", "probability": 0.001}]  # fmt: skip
    other = next(line for line in _text(doc).splitlines() if "(other kinds)" in line)
    assert "goroutine-leak 7%" in other and "lock-contention" not in other


def test_a_probability_a_rule_set_is_marked_as_the_rules() -> None:
    from godiag.analysis.rootcause.longterm.rules import LEADS_TO

    doc = _doc([("connection-leak", 0.6), ("healthy", 0.2)])
    assert "*" not in _text(doc)
    doc["causes"][0]["evidence"] = [f"{LEADS_TO}open fds that climbed (probability 0.03 -> 0.60)"]
    text = _text(doc)
    assert "60% *" in text and "* set by a rule" in text and "not a calibrated figure" in text


def test_the_top_row_prints_the_verdicts_figure_under_a_floor() -> None:
    """healthy at 0.3955 is "39.5%" in the verdict ("below the 40% floor"): the table's row
    said "40%" beside it; a row that meets no floor it misses reads as usual."""
    rows = _text(_doc([("healthy", 0.3955), ("memory-leak", 0.26)])).splitlines()
    top = next(line for line in rows if line.split()[:2] == ["1", "healthy"])
    assert "39.5%" in top and "40%" not in top, top
    second = next(line for line in rows if line.split()[:2] == ["2", "memory-leak"])
    assert "26%" in second, second
    rows = _text(_doc([("memory-leak", 0.6049), ("healthy", 0.3)])).splitlines()
    assert any(line.split()[:3] == ["1", "memory-leak", "60%"] for line in rows), rows
