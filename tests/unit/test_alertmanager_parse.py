"""The Alertmanager webhook parser: real payload shapes, every rejection reason, and fuzzing
seeded from the payloads in tests/data/alertmanager (mutations: truncation, byte flips,
field type swaps, deep nesting, huge counts). Only a Notification or a ParseError may come out."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from godiag.errors import ParseError
from godiag.formats.alertmanager import MAX_ALERTS, parse

DATA = Path(__file__).resolve().parents[1] / "data" / "alertmanager"
SEEDS = sorted(DATA.glob("*.json"))


def test_firing_payload() -> None:
    n = parse((DATA / "firing-v4.json").read_bytes())
    assert n.status == "firing" and n.receiver == "godiag" and not n.is_repeat
    (a,) = n.alerts
    assert a.name == "GoGoroutinesHigh" and a.labels["job"] == "leaky"
    assert a.ends_at is None and a.fingerprint == "6e1a4b1f0c6f5d2a"
    assert a.starts_at == datetime(2026, 11, 26, 21, 30, 4, 123456, tzinfo=UTC)


def test_newer_fields_tolerated() -> None:
    n = parse((DATA / "resolved-repeat-v4.json").read_bytes())
    assert n.is_repeat and n.route_labels == {"team": "sre"} and n.truncated_alerts == 3
    assert n.alerts[0].ends_at == datetime(2026, 11, 26, 19, 15, 0, 500000, tzinfo=UTC)
    assert [a.status for a in n.alerts] == ["resolved", "firing"]


def _seed() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((DATA / "firing-v4.json").read_text())
    return doc


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda d: d.pop("alerts"), "alerts: expected an array"),
        (lambda d: d.update(version=4), "version"),
        (lambda d: d.update(status="pending"), "status"),
        (lambda d: d["alerts"][0].update(fingerprint="../etc"), "fingerprint"),
        (lambda d: d["alerts"][0].update(startsAt="2026-13-40T99:00:00Z"), "startsAt"),
        (lambda d: d["alerts"][0].update(startsAt="0001-01-01T00:00:00Z"), "zero time"),
        (lambda d: d["alerts"][0]["labels"].update(job=5), "labels.job: expected a string"),
        (lambda d: d["alerts"][0].update(labels=[]), "expected an object of strings"),
        (lambda d: d.update(truncatedAlerts=-1), "truncatedAlerts"),
        (lambda d: d.update(notification_reason=7), "notification_reason"),
        (lambda d: d.update(alerts=[d["alerts"][0]] * (MAX_ALERTS + 1)), "more than"),
        (lambda d: d["alerts"].append("x"), "alerts[1]: expected an object"),
    ],
)
def test_rejections_name_the_field(change: Any, why: str) -> None:
    doc = _seed()
    change(doc)
    with pytest.raises(ParseError) as err:
        parse(json.dumps(doc).encode())
    assert why in str(err.value)


def test_not_json_and_wrong_encodings() -> None:
    for raw in (b"", b"[]", b"null", b"\xff\xfe{}", "{}".encode("utf-16"), b"[" * 100_000):
        with pytest.raises(ParseError):
            parse(raw)


def _flip(data: bytes, positions: list[int]) -> bytes:
    b = bytearray(data)
    for p in positions:
        if b:
            b[p % len(b)] ^= 0xFF
    return bytes(b)


@given(
    seed=st.sampled_from(SEEDS),
    cut=st.integers(min_value=0, max_value=4000),
    flips=st.lists(st.integers(min_value=0, max_value=10_000), max_size=4),
)
def test_fuzz_bytes(seed: Path, cut: int, flips: list[int]) -> None:
    data = _flip(seed.read_bytes()[: cut or None], flips)
    with contextlib.suppress(ParseError):
        parse(data)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4)
    ),
    max_leaves=20,
)


@given(
    seed=st.sampled_from(SEEDS),
    path=st.sampled_from(["", "alerts.0", "alerts.0.labels", "commonLabels", "alerts"]),
    key=st.sampled_from(
        ["status", "fingerprint", "startsAt", "endsAt", "labels", "alertname", "version", "x"]
    ),
    value=_json,
)
def test_fuzz_structure(seed: Path, path: str, key: str, value: Any) -> None:
    doc: Any = json.loads(seed.read_text())
    node = doc
    for part in filter(None, path.split(".")):
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, dict):
        node[key] = value
    elif isinstance(node, list):
        node.append(value)
    try:
        n = parse(json.dumps(doc).encode())
    except ParseError:
        return
    for a in n.alerts:  # whatever passes is well typed
        assert a.status in ("firing", "resolved")
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in a.labels.items())


_hostile_text = st.text(st.characters(min_codepoint=0xD7F0, max_codepoint=0xE010), max_size=6)
_times = st.builds(
    lambda y, mo, h, z: f"{y:04d}-{mo:02d}-01T{h:02d}:00:00{z}",
    st.sampled_from([1, 2, 1970, 2026, 9998, 9999]),
    st.integers(1, 12),
    st.integers(0, 23),
    st.sampled_from(["Z", "+01:00", "-01:00", "+23:59", "-23:59"]),
)


@given(
    seed=st.sampled_from(SEEDS),
    label=_hostile_text,
    value=_hostile_text,
    starts=_times,
    digits=st.integers(1, 6000),
)
def test_fuzz_whatever_parses_can_be_stored(
    seed: Path, label: str, value: str, starts: str, digits: int
) -> None:
    doc: Any = json.loads(seed.read_text())
    doc["alerts"][0]["labels"][label or "x"] = value
    doc["alerts"][0]["startsAt"] = starts
    text = json.dumps(doc)  # escapes lone surrogates as \udxxx, as a hostile sender would
    text = text.replace('"version"', f'"n": {"7" * digits}, "version"', 1)
    try:
        n = parse(text.encode())
    except ParseError:
        return
    for a in n.alerts:  # storable: UTF-8 strings, a time in range
        for k, v in (*a.labels.items(), *a.annotations.items()):
            k.encode("utf-8"), v.encode("utf-8")
        assert a.starts_at.isoformat()
