"""`godiag diagnose DIR`: saved capture bundles replay offline to the recorded diagnosis.

The bundles in tests/data/diagnose/ were recorded from the project's scenario programs
with `diagnose --save-captures` (tests/data/README.md); each one's expected.json is the
document minus its timing fields. `pytest --update-golden` rewrites them on purpose.
A bundle is untrusted input: every damaged or hostile one is one ParseError (the CLI's
one line and exit 2), never a traceback, a read outside DIR or an unbounded read.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from godiag import schemas
from godiag.collect import bundle
from godiag.errors import GodiagError, ParseError, UsageError
from godiag.pipeline.diagnose import DiagnoseOptions, replay
from tests.datapaths import DIAGNOSE

BUNDLES = sorted(p for p in DIAGNOSE.iterdir() if bundle.is_bundle(p))
TIMING = ("started_at", "duration_s")  # the recorded diagnosis's, not part of the golden
# which godiag wrote and replays the document changes with each release: tests/unit/
# test_provenance.py holds those fields, the golden holds the analysis
PROVENANCE = ("tool", "replay")


def replayed(path: Path, **opts: Any) -> dict[str, Any]:
    return replay(path, DiagnoseOptions(store=False, **opts))


def without_timing(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in TIMING + PROVENANCE}


def same(a: Any, b: Any, where: str = "") -> None:
    """Equal documents; floats to 1e-9 relative (libm may differ in the last bit)."""
    if isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, int | float) and isinstance(b, int | float), where
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), f"{where}: {a} != {b}"
    elif isinstance(a, dict):
        assert isinstance(b, dict) and sorted(a) == sorted(b), f"{where}: keys differ"
        for k in a:
            same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), f"{where}: lengths differ"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def test_there_are_bundles_of_several_fault_kinds() -> None:
    kinds = {json.loads((b / "expected.json").read_text())["causes"][0]["kind"] for b in BUNDLES}
    assert len(BUNDLES) >= 3 and len(kinds) >= 3, kinds


@pytest.mark.parametrize("path", BUNDLES, ids=[b.name for b in BUNDLES])
def test_bundle_replays_to_its_expected_document(
    path: Path, update_golden: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a replay opened a connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    doc = replayed(path)
    schemas.validate(doc)
    manifest = json.loads((path / bundle.MANIFEST).read_text())
    assert doc["started_at"] == manifest["diagnosis"]["started_at"]
    assert doc["store"]["message"] == "not stored (a replay stores only with --store)"
    got = without_timing(doc)
    expected = path / "expected.json"
    if update_golden:
        expected.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
        return
    same(got, json.loads(expected.read_text()))


def test_saved_again_a_bundle_gives_the_same_recording(tmp_path: Path) -> None:
    src = BUNDLES[0]
    rec = bundle.load(src, 64 << 20)
    bundle.save(tmp_path / "again", rec)
    back = bundle.load(tmp_path / "again", 64 << 20)
    assert [(r.role, r.at, r.capture.sha256, r.stored, r.after_gc) for r in back.captures] == [
        (r.role, r.at, r.capture.sha256, r.stored, r.after_gc) for r in rec.captures
    ]
    same(without_timing(replayed(tmp_path / "again")), without_timing(replayed(src)))


# ---- damaged and hostile bundles
@pytest.fixture
def copy(tmp_path: Path) -> Path:
    dst = tmp_path / "bundle"
    shutil.copytree(BUNDLES[0], dst)
    return dst


def edit(path: Path, change: Any) -> None:
    m = json.loads((path / bundle.MANIFEST).read_text())
    change(m)
    (path / bundle.MANIFEST).write_text(json.dumps(m))


def refused(path: Path, *words: str) -> str:
    with pytest.raises(ParseError) as err:
        replayed(path)
    text = str(err.value)
    assert "\n" not in text and all(w in text for w in words), text
    return text


@pytest.mark.parametrize("name", ["../outside.txt", "/etc/passwd", "a/b", "..", ".hidden"])
def test_a_file_name_that_leaves_the_bundle_is_refused(copy: Path, name: str) -> None:
    (copy.parent / "outside.txt").write_bytes(b"x")

    def change(m: dict[str, Any]) -> None:
        m["captures"][0]["file"] = name

    edit(copy, change)
    refused(copy, "captures[0].file", "not a plain file name")


def test_a_symlinked_capture_is_not_followed(copy: Path) -> None:
    first = json.loads((copy / bundle.MANIFEST).read_text())["captures"][0]["file"]
    (copy.parent / "elsewhere").write_bytes((copy / first).read_bytes())
    (copy / first).unlink()
    os.symlink(copy.parent / "elsewhere", copy / first)
    refused(copy, first, "cannot open")


def test_changed_bytes_do_not_match_the_manifest(copy: Path) -> None:
    m = json.loads((copy / bundle.MANIFEST).read_text())
    c = next(c for c in m["captures"] if c["encoding"] == "gzip")
    (copy / c["file"]).write_bytes(gzip.compress(b"# HELP nothing\n"))
    refused(copy, c["file"], "sha256")


def test_a_gzip_bomb_stops_at_the_capture_budget(copy: Path) -> None:
    m = json.loads((copy / bundle.MANIFEST).read_text())
    c = next(c for c in m["captures"] if c["encoding"] == "gzip")
    (copy / c["file"]).write_bytes(gzip.compress(bytes(3 << 20), 9))
    with pytest.raises(ParseError, match="beyond 1 MB"):
        replay(copy, DiagnoseOptions(store=False, max_capture_mb=1))


def test_an_oversized_capture_file_is_not_read_whole(copy: Path) -> None:
    m = json.loads((copy / bundle.MANIFEST).read_text())
    c = next(c for c in m["captures"] if c["encoding"] == "identity")
    with open(copy / c["file"], "wb") as fh:
        fh.truncate(2 << 20)  # sparse: 2 MB that cost nothing
    with pytest.raises(ParseError, match="larger than 1 MB"):
        replay(copy, DiagnoseOptions(store=False, max_capture_mb=1))


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda m: m.update(schema="godiag.other/v1"), ("schema",)),
        (lambda m: m.pop("observation"), ("observation", "missing")),
        (lambda m: m["captures"][0].update(role="passwd@start"), ("captures[0].role",)),
        (lambda m: m["captures"][1].update(role=m["captures"][0]["role"]), ("appears twice",)),
        (lambda m: m["captures"][0].update(at_s="soon"), ("captures[0].at_s", "number")),
        (lambda m: m["captures"][0].update(captured_at="yesterday"), ("captured_at",)),
        (lambda m: m["observation"].update(missing=[1]), ("observation.missing[0]",)),
        (lambda m: m["observation"].update(history=[[1, "x"]]), ("history[0]",)),
        (lambda m: m["target"].update(tags={"a": 1}), ("target.tags",)),
        (lambda m: m.update(captures=[m["captures"][0]] * 65), ("at most 64",)),
        (lambda m: m["diagnosis"].update(window_s=float("nan")), ("window_s", "finite")),
    ],
)
def test_a_manifest_field_out_of_shape_is_named(copy: Path, change: Any, words: Any) -> None:
    edit(copy, change)
    refused(copy, *words)


def test_a_capture_that_does_not_decode_is_named(copy: Path) -> None:
    m = json.loads((copy / bundle.MANIFEST).read_text())
    c = next(c for c in m["captures"] if c["role"].startswith("goroutine@"))
    data = b"not a goroutine dump\n"
    (copy / c["file"]).write_bytes(gzip.compress(data))
    c["sha256"] = hashlib.sha256(data).hexdigest()
    (copy / bundle.MANIFEST).write_text(json.dumps(m))
    refused(copy, "goroutine")


def test_manifest_not_json_and_too_large(copy: Path) -> None:
    (copy / bundle.MANIFEST).write_text("{")
    refused(copy, "not JSON")
    (copy / bundle.MANIFEST).write_bytes(b" " * (2 << 20))
    refused(copy, "larger than 1 MB")


def godiag(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "godiag", *args], capture_output=True,
                          text=True, timeout=120)  # fmt: skip


def test_cli_hostile_bundle_is_one_line_exit_2(copy: Path) -> None:
    edit(copy, lambda m: m["captures"][0].update(file="../../etc/passwd"))
    r = godiag("diagnose", str(copy), "--format", "json")
    assert r.returncode == 2 and r.stdout == ""
    assert "not a plain file name" in r.stderr and "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0


def test_cli_replay_json_and_exit_status_follow_the_document(tmp_path: Path) -> None:
    path = BUNDLES[0]
    r = godiag("diagnose", str(path), "--format", "json")
    doc = json.loads(r.stdout)
    top = doc["causes"][0]
    named = doc["confident"] and top["kind"] != "healthy" and top["probability"] >= 0.4
    assert r.returncode == (1 if named else 0)
    same(without_timing(doc), json.loads((path / "expected.json").read_text()))


def test_exit_status_is_a_fault_the_verdict_names() -> None:
    from godiag.analysis.rootcause import ranker
    from godiag.pipeline.diagnose import MIN_PROBABILITY, is_fault

    assert MIN_PROBABILITY == ranker.FLOOR  # every fault the verdict names exits 1
    fault = {"causes": [{"kind": "memory-leak", "probability": 0.53}], "confident": True,
             "min_probability": MIN_PROBABILITY}  # fmt: skip
    assert is_fault(fault)
    assert not is_fault({**fault, "confident": False})  # "not sure: memory-leak ranks first"
    assert not is_fault({**fault, "min_probability": 0.6})
    assert not is_fault({**fault, "causes": [{"kind": "healthy", "probability": 0.9}]})
    # --fail-on suspect: a fault ranked first counts, sure or not; healthy first never
    assert is_fault({**fault, "confident": False}, suspect=True)
    healthy = {"causes": [{"kind": "healthy", "probability": 0.52}], "confident": False}
    assert not is_fault(healthy, suspect=True)


def test_cli_fail_on_suspect_exits_1_on_a_fault_not_sure_of() -> None:
    """The exit status of one bundle under both policies follows the document."""
    docs = {b: json.loads((b / "expected.json").read_text()) for b in BUNDLES}
    unsure = [b for b, d in docs.items()
              if not d["confident"] and d["causes"][0]["kind"] != "healthy"]  # fmt: skip
    assert unsure, "a golden bundle whose verdict is not sure of a fault ranked first"
    assert godiag("diagnose", str(unsure[0]), "--format", "json").returncode == 0
    r = godiag("diagnose", str(unsure[0]), "--format", "json", "--fail-on", "suspect")
    assert r.returncode == 1, r.stderr


def test_cli_live_options_are_refused_on_a_replay() -> None:
    r = godiag("diagnose", str(BUNDLES[0]), "--window", "9s")
    assert r.returncode == 2 and "--window" in r.stderr and "saved bundle" in r.stderr


def test_cli_directory_without_manifest_is_one_line(tmp_path: Path) -> None:
    r = godiag("diagnose", str(tmp_path))
    assert r.returncode == 2 and "manifest.json" in r.stderr
    assert r.stderr.strip().count("\n") == 0


def test_save_captures_into_a_non_empty_directory_is_refused_before_observing(
    tmp_path: Path,
) -> None:
    (tmp_path / "x").write_text("keep me")
    with pytest.raises(UsageError, match="not an empty directory"):
        bundle.check_target_dir(tmp_path)
    # port 9 (discard) is closed: were the window observed first, this would take seconds
    r = godiag("diagnose", "http://127.0.0.1:9", "--save-captures", str(tmp_path))
    assert r.returncode == 2 and "--save-captures" in r.stderr
    assert (tmp_path / "x").read_text() == "keep me" and len(list(tmp_path.iterdir())) == 1


def test_save_captures_where_no_directory_can_be_made_is_refused_before_observing(
    tmp_path: Path,
) -> None:
    (tmp_path / "file").write_text("")
    r = godiag("diagnose", "http://127.0.0.1:9", "--save-captures", str(tmp_path / "file" / "d"))
    assert r.returncode == 2 and "--save-captures" in r.stderr
    assert r.stderr.strip().count("\n") == 0


def _leaves(obj: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(obj, dict):
        return [path] + [p for k, v in obj.items() for p in _leaves(v, (*path, k))]
    if isinstance(obj, list):
        return [path] + [p for i, v in enumerate(obj) for p in _leaves(v, (*path, i))]
    return [path]


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=3),
    max_leaves=6,
)  # fmt: skip
_MANIFEST = json.loads((BUNDLES[0] / bundle.MANIFEST).read_text())
_PATHS = _leaves(_MANIFEST)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(where=st.sampled_from(_PATHS), value=_JSON)
def test_any_manifest_value_gives_a_document_or_one_parse_error(
    copy: Path, where: tuple[Any, ...], value: Any
) -> None:
    m = json.loads(json.dumps(_MANIFEST))
    if where:
        parent = m
        for k in where[:-1]:
            parent = parent[k]
        parent[where[-1]] = value
    else:
        m = value
    (copy / bundle.MANIFEST).write_text(json.dumps(m))
    try:
        doc = replayed(copy)
    except GodiagError as exc:
        assert "\n" not in str(exc)
        return
    schemas.validate(doc)


def test_a_cause_moved_for_lack_of_evidence_says_why_in_json(monkeypatch: Any) -> None:
    """A kind the model scores first without evidence of its own ranks after one that has
    it; scripts read why from `set_aside`, not from the evidence's wording."""
    from godiag.analysis.rootcause import ranker

    model = [("memory-leak", 0.6), ("healthy", 0.4)]
    rest = [(k, 0.0) for k in ranker.KINDS if k not in dict(model)]
    monkeypatch.setattr(ranker, "rank", lambda f: [*model, *rest])
    doc = replayed(DIAGNOSE / "healthy-kvstore")
    schemas.validate(doc)
    moved = [c for c in doc["causes"] if c["kind"] == "memory-leak"]
    assert doc["causes"][0]["kind"] != "memory-leak" and "set_aside" not in doc["causes"][0]
    assert moved and moved[0]["set_aside"] in moved[0]["evidence"][-1]


def test_cli_json_says_on_stderr_when_nothing_could_be_stored(tmp_path: Path) -> None:
    """--store asked, the build commit missing (the golden bundles record none): the JSON
    document's store.message is easy to miss, so stderr has the line too (the text report
    prints it already); with the commit given, the artifacts are stored and nothing is said."""
    env = {**os.environ, "GODIAG_HOME": str(tmp_path)}
    args = [sys.executable, "-m", "godiag", "diagnose", str(BUNDLES[0]), "--store",
            "--format", "json"]  # fmt: skip

    def run(*more: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*args, *more], capture_output=True, text=True, timeout=120,
                              env=env)  # fmt: skip

    r = run()
    doc = json.loads(r.stdout)
    assert doc["store"]["missing"] == ["build_commit"]
    assert f"godiag: {doc['store']['message']}" in r.stderr
    assert "not stored" not in run("-q").stderr
    r = run("--build-commit", "0123abc")
    assert json.loads(r.stdout)["store"]["stored"] > 0 and "not stored" not in r.stderr


def test_a_moment_s_lock_waiters_on_a_healthy_daemon_are_no_verdict() -> None:
    """Debian's nats-server under a publish/subscribe load: two goroutines caught waiting
    for one lock in the end dump, 0.003 waiting on average by the block profile. Neither
    contention nor a deadlock is named without "not sure", and the lock-contention row
    names where the dumps saw the waiters, not a site the profile last grew at minutes ago."""
    from godiag.pipeline.diagnose import DiagnoseOptions, replay

    doc = replay(DIAGNOSE / "thirdparty-nats-under-load", DiagnoseOptions(store=False))
    assert doc["verdict"].startswith("not sure") and not doc["confident"]
    lock = next(c for c in doc["causes"] if c["kind"] == "lock-contention")
    assert "deliverMsg" in " ".join(lock["evidence"])
    assert "since the process started" not in " ".join(lock["evidence"])


def test_a_metrics_port_alone_states_no_fault_it_did_not_see() -> None:
    """Debian's dockerd read on its metrics port only (no pprof): no live-heap measure, no
    dumps. Whatever kind ranks first, a fault nothing points at is titled unconfirmed (its
    title alone, "live heap keeps growing", would read as a finding), and healthy's missing
    measure names the heap profile, not metrics the service already exposes."""
    from godiag.analysis.rootcause.kinds.base import UNCONFIRMED
    from godiag.pipeline.diagnose import DiagnoseOptions, replay

    doc = replay(DIAGNOSE / "thirdparty-dockerd-metrics-only", DiagnoseOptions(store=False))
    assert doc["verdict"].startswith("not sure") and not doc["confident"]
    for c in doc["causes"]:
        if c["kind"] != "healthy" and not c["evidence"] and c["location"] is None:
            assert c["title"].startswith(UNCONFIRMED), c
    healthy = next(c for c in doc["causes"] if c["kind"] == "healthy")
    said = " ".join(healthy["evidence"]) + str(healthy.get("set_aside", ""))
    assert "heap profile" in said and "expose Go runtime metrics" not in said, said


def test_a_series_name_that_is_not_a_metric_name_is_one_line_of_error(copy: Path) -> None:
    """Found by the test above: a series named "\\n" was echoed into the error, two lines."""
    edit(copy, lambda m: m["observation"].__setitem__("trends", {"go_goroutines\nx": []}))
    with pytest.raises(ParseError) as err:
        replayed(copy)
    assert "\n" not in str(err.value) and "expected series names" in str(err.value)
