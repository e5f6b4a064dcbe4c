"""Artifact metadata: validation names every missing field, tag syntax, redaction,
the OpenTelemetry and S3 spellings, and a fuzzed `from_dict` that only ever returns a
record or raises MetadataError/StoreError (seeded with a real capture's metadata)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from godiag.errors import StoreError
from godiag.model.capture import Capture, CaptureMeta
from godiag.provenance import tool
from godiag.store import local_root
from godiag.store.metadata import (
    MANDATORY,
    MetadataError,
    from_capture,
    from_dict,
    parse_tag,
    parse_when,
    redact_url,
)

GOOD: dict[str, Any] = {
    "service_name": "checkout",
    "go_version": "go1.26.0",
    "build_commit": "9f2c1e0",
    "profile_type": "heap",
    "captured_at": "2026-03-01T12:00:00Z",
    "sha256": "ab" * 32,
    "size": 10,
    "tags": {"env": "prod", "k8s.namespace": "shop"},
    "host": "node-1",
}


def test_every_missing_field_is_named() -> None:
    with pytest.raises(MetadataError) as exc:
        from_dict({"profile_type": "heap", "service_name": ""})
    want = [k for k in MANDATORY if k != "profile_type"]
    assert exc.value.missing == want
    for k in want:
        assert k in str(exc.value)
    assert "--go-version" in str(exc.value) and "--build-commit" in str(exc.value)


@pytest.mark.parametrize("bad", ["Env", "1env", "a b", "", "é", "x" * 64, "env="])
def test_bad_tag_keys_rejected(bad: str) -> None:
    with pytest.raises(MetadataError, match="bad tag"):
        from_dict({**GOOD, "tags": {bad: "v"}})


def test_tag_values_and_cli_spelling() -> None:
    assert parse_tag("team=a=b") == ("team", "a=b")
    with pytest.raises(MetadataError, match="KEY=VALUE"):
        parse_tag("team")
    with pytest.raises(MetadataError, match="bad value"):
        from_dict({**GOOD, "tags": {"env": "line\nbreak"}})
    with pytest.raises(MetadataError, match="too many tags"):
        from_dict({**GOOD, "tags": {f"t{i}": "v" for i in range(40)}})


def test_names_in_three_spellings() -> None:
    m = from_dict(GOOD)
    assert m.captured_at == datetime(2026, 3, 1, 12, tzinfo=UTC)
    otel = m.to_otel()
    assert otel["service.name"] == "checkout"
    assert otel["process.runtime.version"] == "go1.26.0"
    assert otel["vcs.ref.head.revision"] == "9f2c1e0"
    assert otel["host.name"] == "node-1" and otel["godiag.tag.k8s.namespace"] == "shop"
    s3 = m.to_object_metadata()
    assert s3["service-name"] == "checkout" and s3["build-commit"] == "9f2c1e0"
    assert all("_" not in k for k in s3) and json.loads(s3["tags"])["env"] == "prod"
    assert all(v.isascii() for v in s3.values())


def test_redaction() -> None:
    assert redact_url("https://u:pw@h/p?token=abc&seconds=5") == (
        "https://u:REDACTED@h/p?token=REDACTED&seconds=5"
    )
    assert redact_url("http://secretuser@h/") == "http://REDACTED@h/"
    assert redact_url("http://h:6060/debug/pprof/heap") == "http://h:6060/debug/pprof/heap"
    stored = from_dict({**GOOD, "source_url": "http://a:b@h/?X-Amz-Signature=zz"})
    assert stored.source_url is not None and "zz" not in stored.source_url


def test_from_capture_overrides_win() -> None:
    cap = Capture(
        data=b"x",
        source="/tmp/heap.pb",
        profile_type="heap",
        captured_at=datetime(2026, 1, 1, tzinfo=UTC),
        meta=CaptureMeta(service_name="svc", go_version="go1.25.0", tags={"env": "dev"}),
    )
    meta, missing = from_capture(cap)
    assert meta is None and missing == ["build_commit"]
    over = CaptureMeta(go_version="go1.26.0", build_commit="abc", tags={"env": "prod"})
    meta, missing = from_capture(cap, over)
    assert meta is not None and missing == []
    assert meta.go_version == "go1.26.0"
    assert meta.tags == {"env": "prod", "godiag.version": tool()["version"]}
    assert meta.source_url is None  # a file path is not a URL


def test_parse_when_relative_and_absolute() -> None:
    now = datetime(2026, 3, 10, tzinfo=UTC)
    assert parse_when("7d", now) == now - timedelta(days=7)
    assert parse_when("90m", now) == now - timedelta(minutes=90)
    assert parse_when("1h30m", now) == now - timedelta(minutes=90)  # godiag.durations
    assert parse_when("2026-03-01", now) == datetime(2026, 3, 1, tzinfo=UTC)
    with pytest.raises(StoreError, match="RFC 3339"):
        parse_when("last tuesday", now)


def test_store_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from godiag.config import StoreConfig

    monkeypatch.delenv("GODIAG_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert local_root(StoreConfig()) == tmp_path / "xdg" / "godiag" / "store"
    assert local_root(StoreConfig(path=str(tmp_path / "cfg"))) == tmp_path / "cfg"
    monkeypatch.setenv("GODIAG_HOME", str(tmp_path / "home"))
    assert local_root(StoreConfig(path=str(tmp_path / "cfg"))) == tmp_path / "home" / "store"


values = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.integers(min_value=-5, max_value=2**70),
    st.booleans(),
    st.dictionaries(st.text(max_size=8), st.one_of(st.text(max_size=8), st.integers())),
    st.lists(st.text(max_size=4), max_size=3),
)


@given(st.dictionaries(st.sampled_from([*GOOD, "incident_id", "source_url"]), values))
def test_fuzz_from_dict(changes: dict[str, Any]) -> None:
    d = {**GOOD, **changes}
    try:
        m = from_dict(d)
    except StoreError:
        return
    assert m.to_dict()["sha256"] == str(d["sha256"]).lower()
    json.dumps(m.to_dict())
    m.to_object_metadata()


def test_a_stored_capture_names_the_godiag_that_stored_it_unless_the_user_did() -> None:
    def cap(tags: dict[str, str]) -> Capture:
        return Capture(
            data=b"x",
            source="http://svc:6060/debug/pprof/heap",
            profile_type="heap",
            captured_at=datetime(2026, 1, 1, tzinfo=UTC),
            meta=CaptureMeta("svc", "go1.26.0", "abc", tags),
        )

    meta, _ = from_capture(cap({}))
    assert meta is not None and meta.tags == {"godiag.version": tool()["version"]}
    meta, _ = from_capture(cap({"godiag.version": "mine"}))
    assert meta is not None and meta.tags == {"godiag.version": "mine"}
    full = {f"t{i}": "v" for i in range(32)}
    meta, _ = from_capture(cap(full))
    assert meta is not None and meta.tags == full
