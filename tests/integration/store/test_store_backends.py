"""The same store behaviour on both backends: local (directory + SQLite) and fleet
(SeaweedFS S3 + PostgreSQL), through the library and through the `godiag` CLI."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from godiag import schemas
from godiag.errors import StoreError
from godiag.model.capture import Capture, CaptureMeta
from godiag.provenance import tool
from godiag.store import open_store, save_capture
from godiag.store.base import Filter
from godiag.store.metadata import MetadataError
from tests.integration.store.conftest import StoreEnv, make_store_env

# what every capture godiag stores is tagged with (docs/contracts.md)
STAMP = {"godiag.version": tool()["version"]}

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def meta(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "service_name": "checkout",
        "go_version": "go1.26.0",
        "build_commit": "0123abcd",
        "profile_type": "heap",
        "captured_at": T0,
        "tags": {"env": "prod", "team": "payments"},
    }
    return {**base, **over}


def godiag(env: StoreEnv, *args: str, json_out: bool = True) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(
        [sys.executable, "-m", "godiag", *args, *(["--format", "json"] if json_out else [])],
        env=env.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in r.stderr, r.stderr
    return r


def doc_of(r: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert r.returncode in (0, 1), r.stderr
    doc: dict[str, Any] = json.loads(r.stdout)
    schemas.validate(doc)
    return doc


def test_put_read_show_and_idempotence(store_env: StoreEnv) -> None:
    with open_store(store_env.conf) as st:
        a = st.put(b"heap bytes", meta())
        assert st.read(a.id) == b"heap bytes"
        assert st.get(a.id[:8]).id == a.id
        again = st.put(b"heap bytes", meta())
        assert again.id == a.id
        other = st.put(b"heap bytes", meta(service_name="cart"))  # same bytes, other service
        assert other.id != a.id and st.read(other.id) == b"heap bytes"
        assert len(st.query(Filter())) == 2
        assert a.meta.sha256 == hashlib.sha256(b"heap bytes").hexdigest()
        assert a.meta.size == len(b"heap bytes")
        with pytest.raises(StoreError, match="no artifact"):
            st.get("ffffffffff")
        assert st.verify().problems == []


def test_filters_tags_time_and_type(store_env: StoreEnv) -> None:
    with open_store(store_env.conf) as st:
        a = st.put(b"a", meta(tags={"env": "prod", "team": "payments"}))
        h1, h2 = T0 + timedelta(hours=1), T0 + timedelta(hours=2)
        b = st.put(b"b", meta(tags={"env": "prod", "team": "search"}, captured_at=h1))
        c = st.put(b"c", meta(tags={"env": "dev"}, profile_type="goroutine", captured_at=h2))
        ids = lambda f: [x.id for x in st.query(f)]  # noqa: E731
        assert ids(Filter()) == [c.id, b.id, a.id]  # newest capture first
        assert ids(Filter(tags={"env": "prod"})) == [b.id, a.id]
        assert ids(Filter(tags={"env": "prod", "team": "payments"})) == [a.id]  # all must match
        assert ids(Filter(tags={"env": "prod", "team": "nope"})) == []
        assert ids(Filter(profile_type="goroutine")) == [c.id]
        assert ids(Filter(since=T0 + timedelta(minutes=30))) == [c.id, b.id]
        assert ids(Filter(until=T0 + timedelta(minutes=90))) == [b.id, a.id]
        assert ids(Filter(service="nope")) == []


def test_baselines_and_latest(store_env: StoreEnv) -> None:
    with open_store(store_env.conf) as st:
        assert st.latest("checkout", "heap") is None
        old = st.put(b"1", meta(captured_at=T0))
        new = st.put(b"2", meta(captured_at=T0 + timedelta(hours=1)))
        st.put(b"3", meta(captured_at=T0 + timedelta(hours=2), profile_type="cpu"))
        latest = st.latest("checkout", "heap")
        assert latest is not None and latest.id == new.id  # no baseline: newest capture
        st.set_baseline(old.id)
        latest = st.latest("checkout", "heap")
        assert latest is not None and latest.id == old.id  # a marked baseline wins
        marked = st.put(b"4", meta(captured_at=T0 + timedelta(hours=3)), baseline=True)
        assert st.resolve_baseline("latest", "checkout", "heap").id == marked.id
        at = (T0 + timedelta(minutes=90)).isoformat()
        assert st.resolve_baseline(at, "checkout", "heap").id == old.id
        assert st.resolve_baseline(new.id, "checkout", "heap").id == new.id
        with pytest.raises(StoreError, match="not a cpu"):
            st.resolve_baseline(new.id, "checkout", "cpu")
        with pytest.raises(StoreError, match="no stored heap of service 'ghost'"):
            st.resolve_baseline("latest", "ghost", "heap")
        st.set_baseline(marked.id, on=False)
        assert st.resolve_baseline("latest", "checkout", "heap").id == old.id


def test_rm_and_gc_retention(store_env: StoreEnv) -> None:
    now = datetime.now(UTC)
    with open_store(store_env.conf) as st:
        ancient = st.put(b"old", meta(captured_at=now - timedelta(days=40)))
        kept = st.put(b"base", meta(captured_at=now - timedelta(days=40)), baseline=True)
        fresh = st.put(b"new", meta(captured_at=now - timedelta(days=1)))
        shared = st.put(b"new", meta(captured_at=now - timedelta(days=2), service_name="x"))
        res = st.gc(now - timedelta(days=30), keep_baselines=True)
        assert res.removed == [ancient.id]
        assert {a.id for a in st.query(Filter())} == {kept.id, fresh.id, shared.id}
        assert st.delete(fresh.id) and not st.delete(fresh.id)
        assert st.read(shared.id) == b"new"  # its object outlives the other artifact's rm
        st.gc(now, keep_baselines=False)
        assert st.query(Filter()) == []
        v = st.verify()
        assert v.problems == [] and v.checked == 0 and v.orphan_objects == 0


def test_rejections_write_nothing(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    for backend in ("local", "fleet"):
        env = make_store_env(backend, tmp_path / backend, request, max_mb=1)
        with open_store(env.conf) as st:
            with pytest.raises(MetadataError) as exc:
                st.put(b"x", {"profile_type": "heap", "captured_at": T0})
            assert exc.value.missing == ["service_name", "go_version", "build_commit"]
            for k in exc.value.missing:
                assert k in str(exc.value)
            with pytest.raises(MetadataError, match="bad tag key 'Env Name'"):
                st.put(b"x", meta(tags={"Env Name": "prod"}))
            with pytest.raises(StoreError, match="over the store's limit of 1048576 bytes"):
                st.put(b"x" * (1024 * 1024 + 1), meta())
            v = st.verify()
            assert st.query(Filter()) == [] and v.objects == 0 and v.temp_files == 0


def test_cli_rejections_one_line_exit_2(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    env = make_store_env("local", tmp_path, request, max_mb=1)
    small, big = tmp_path / "small.pb", tmp_path / "big.pb"
    small.write_bytes(b"p")
    big.write_bytes(b"\0" * (1024 * 1024 + 10))
    full = ["--service", "s", "--go-version", "go1.26.0", "--build-commit", "c"]
    cases = [
        (["store", "put", str(small), "--type", "heap"], "service_name"),
        (["store", "put", str(small), "--type", "heap", *full, "--tag", "a b=c"], "bad tag"),
        (["store", "put", str(small), "--type", "heap", *full, "--tag", "novalue"], "KEY=VALUE"),
        (["store", "put", str(big), "--type", "heap", *full], "over the store's limit"),
        (["store", "ls", "--since", "yesterday-ish"], "RFC 3339"),
    ]
    for args, needle in cases:
        r = godiag(env, *args, json_out=False)
        assert r.returncode == 2, (args, r.stderr)
        assert needle in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert doc_of(godiag(env, "store", "ls"))["artifacts"] == []


def test_cli_full_cycle(store_env: StoreEnv, tmp_path: Path) -> None:
    f = tmp_path / "heap.pb.gz"
    f.write_bytes(b"\x1f\x8b pretend heap")
    full = ["--service", "api", "--go-version", "go1.26.0", "--build-commit", "abc123"]
    put = doc_of(godiag(store_env, "store", "put", str(f), "--type", "heap", *full,
                        "--tag", "env=prod", "--captured-at", "2026-03-01T10:00:00Z"))  # fmt: skip
    aid = put["artifacts"][0]["id"]
    assert put["artifacts"][0]["baseline"] is False
    doc_of(godiag(store_env, "store", "put", str(f), "--type", "goroutine", *full))
    ls = doc_of(godiag(store_env, "store", "ls", "--type", "heap", "--tag", "env=prod"))
    assert [a["id"] for a in ls["artifacts"]] == [aid]
    assert doc_of(godiag(store_env, "store", "show", aid[:10]))["artifacts"][0]["id"] == aid
    base = doc_of(godiag(store_env, "store", "baseline", aid))
    assert base["artifacts"][0]["baseline"] is True
    out = tmp_path / "back.bin"
    r = godiag(store_env, "store", "get", aid, "-o", str(out), json_out=False)
    assert r.returncode == 0 and out.read_bytes() == f.read_bytes()
    v = doc_of(godiag(store_env, "store", "verify"))
    assert v["verify"]["ok"] and v["verify"]["checked"] == 2
    assert doc_of(godiag(store_env, "store", "rm", aid))["removed"] == [aid]
    g = doc_of(godiag(store_env, "store", "gc", "--keep-days", "0", "--keep-baselines"))
    assert len(g["gc"]["removed"]) == 1
    text = godiag(store_env, "store", "ls", json_out=False)
    assert text.returncode == 0 and "no artifacts" in text.stdout


def test_verify_finds_damage(store_env: StoreEnv) -> None:
    with open_store(store_env.conf) as st:
        a = st.put(b"original bytes", meta())
        b = st.put(b"other bytes", meta(service_name="other"))
        if store_env.backend == "local":
            st.object_path(a.meta.sha256).write_bytes(b"tampered bytes")  # type: ignore[attr-defined]
            st.object_path(b.meta.sha256).unlink()  # type: ignore[attr-defined]
        else:
            bucket = st.bucket  # type: ignore[attr-defined]
            bucket.client.put_object(Bucket=bucket.name, Key=bucket.key(a.id), Body=b"tampered")
            bucket.client.delete_object(Bucket=bucket.name, Key=bucket.key(b.id))
        with pytest.raises(StoreError, match="do not match its sha256"):
            st.read(a.id)
    r = godiag(store_env, "store", "verify")
    assert r.returncode == 1
    kinds = {(p["id"], p["kind"]) for p in doc_of(r)["verify"]["problems"]}
    assert (a.id, "sha256-mismatch") in kinds and (b.id, "missing-object") in kinds


def test_save_capture_reports_missing_then_stores(store_env: StoreEnv) -> None:
    cap = Capture(
        data=b"goroutine profile: total 3\n",
        source="http://127.0.0.1:6060/debug/pprof/goroutine?debug=1",
        profile_type="goroutine",
        captured_at=T0,
        meta=CaptureMeta(service_name="api", tags={"env": "prod"}),
    )
    aid, missing = save_capture(cap, None, store_env.conf)
    assert aid is None and missing == ["go_version", "build_commit"]
    with open_store(store_env.conf) as st:
        assert st.query(Filter()) == []
    over = CaptureMeta(go_version="go1.26.0", build_commit="feedbeef", tags={"team": "a"})
    aid, missing = save_capture(cap, over, store_env.conf, baseline=True)
    assert aid is not None and missing == []
    with open_store(store_env.conf) as st:
        art = st.get(aid)
        assert art.baseline and art.meta.tags == {"env": "prod", "team": "a", **STAMP}
        assert art.meta.source_url == cap.source and st.read(aid) == cap.data


def test_fleet_object_metadata_and_manifest(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Other tools can read the bucket alone: hyphenated S3 metadata, OTel manifest."""
    env = make_store_env("fleet", tmp_path, request)
    with open_store(env.conf) as st:
        a = st.put(b"pprof bytes", meta(incident_id="INC-7"))
        bucket = st.bucket  # type: ignore[attr-defined]
        head = bucket.client.head_object(Bucket=bucket.name, Key=f"artifacts/{a.id}")
        md = head["Metadata"]
        assert md["service-name"] == "checkout" and md["go-version"] == "go1.26.0"
        assert md["build-commit"] == "0123abcd" and md["incident-id"] == "INC-7"
        assert md["sha256"] == a.meta.sha256 and md["size"] == str(len(b"pprof bytes"))
        body = bucket.client.get_object(Bucket=bucket.name, Key=f"artifacts/{a.id}.manifest.json")
        manifest = json.loads(body["Body"].read())
        attrs = manifest["attributes"]
        assert manifest["id"] == a.id and attrs["service.name"] == "checkout"
        assert attrs["vcs.ref.head.revision"] == "0123abcd"
        assert attrs["process.runtime.version"] == "go1.26.0"
        bucket.client.delete_object(Bucket=bucket.name, Key=f"artifacts/{a.id}.manifest.json")
        assert [(p.id, p.kind) for p in st.verify().problems] == [(a.id, "missing-manifest")]


def test_store_outcome_for_collecting_commands(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from godiag.cli.storeopts import overrides
    from godiag.store import store_outcome

    env = make_store_env("local", tmp_path, request)
    cap = Capture(b"heap", "http://127.0.0.1:1/debug/pprof/heap", "heap", T0)
    out = store_outcome(cap, overrides("api", None, None, ()), env.conf)
    assert out["stored"] is False and out["missing"] == ["go_version", "build_commit"]
    assert "--go-version" in str(out["message"]) and "--build-commit" in str(out["message"])
    assert store_outcome(cap, None, env.conf, enabled=False)["message"] == "not stored (--no-store)"
    out = store_outcome(cap, overrides("api", "go1.26.0", "abc", ("env=prod",)), env.conf)
    assert out["stored"] is True
    with open_store(env.conf) as st:
        assert st.get(str(out["id"])).meta.tags == {"env": "prod", **STAMP}


def test_random_filters_match_a_reference_model(store_env: StoreEnv) -> None:
    """40 random filters over 30 random artifacts: the index agrees with plain Python."""
    import random

    rnd = random.Random(7)
    with open_store(store_env.conf) as st:
        arts = []
        for i in range(30):
            tags = {
                k: rnd.choice(["a", "b"]) for k in ("env", "team", "zone") if rnd.random() < 0.7
            }
            arts.append(
                st.put(
                    f"p{i}".encode(),
                    meta(
                        service_name=rnd.choice(["s1", "s2"]),
                        profile_type=rnd.choice(["heap", "cpu"]),
                        captured_at=T0 + timedelta(minutes=rnd.randrange(600)),
                        tags=tags,
                    ),
                    baseline=rnd.random() < 0.2,
                )
            )
        for _ in range(40):
            flt = Filter(
                service=rnd.choice([None, "s1", "s2"]),
                profile_type=rnd.choice([None, "heap", "cpu"]),
                tags={k: rnd.choice(["a", "b"]) for k in ("env", "team") if rnd.random() < 0.4},
                since=rnd.choice([None, T0 + timedelta(minutes=rnd.randrange(600))]),
                until=rnd.choice([None, T0 + timedelta(minutes=rnd.randrange(600))]),
                baseline=rnd.choice([None, True, False]),
            )
            want = {
                a.id
                for a in arts
                if (flt.service in (None, a.meta.service_name))
                and (flt.profile_type in (None, a.meta.profile_type))
                and all(a.meta.tags.get(k) == v for k, v in flt.tags.items())
                and (flt.since is None or a.meta.captured_at >= flt.since)
                and (flt.until is None or a.meta.captured_at <= flt.until)
                and (flt.baseline is None or a.baseline == flt.baseline)
            }
            got = st.query(flt)
            assert {a.id for a in got} == want, flt
            times = [a.meta.captured_at for a in got]
            assert times == sorted(times, reverse=True)
