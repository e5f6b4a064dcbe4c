"""The proto goroutine profile (`debug=0`, what /debug/pprof/goroutine serves by default):
read as `go tool pprof` reads it, record for record, on real programs' captures (Debian's
Prometheus; node_exporter's, from flameshow's test data). Hostile bytes give a ParseError."""

from __future__ import annotations

import gzip
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from godiag.analysis.goroutine_rules import category
from godiag.errors import ParseError
from godiag.formats.goroutine_proto import PARK, ROOT
from godiag.formats.goroutines import parse
from tests.datapaths import CORPUS, DATA

PROMETHEUS = DATA / "goroutines" / "prometheus-proto.pb.gz"
NODE_EXPORTER = CORPUS / "pprof" / "flameshow" / "goroutine.out"

Trace = tuple[int, tuple[str, ...]]


def _pprof_traces(path: Path) -> Counter[Trace]:
    """(count, functions leaf first) of every sample, as `go tool pprof -traces` prints
    them, without the park at the leaf and goexit at the root (the parser drops both)."""
    go = shutil.which("go")
    if go is None:
        pytest.skip("no go command")
    out = subprocess.run([go, "tool", "pprof", "-traces", str(path)], capture_output=True,
                         text=True, check=True, timeout=120).stdout  # fmt: skip
    traces: Counter[Trace] = Counter()
    for block in out.split("-----------+-------------------------------------------------------")[
        1:
    ]:
        lines = [ln for ln in block.splitlines() if ln.strip()]
        if not lines:
            continue
        count_s, first = lines[0].split(maxsplit=1)
        fns = [first, *(ln.strip() for ln in lines[1:])]
        fns = [f.removesuffix(" (inline)") for f in fns]
        while len(fns) > 1 and fns[0] in PARK:
            fns.pop(0)
        if len(fns) > 1 and fns[-1] == ROOT:
            fns.pop()
        traces[(int(count_s), tuple(fns))] += 1
    return traces


@pytest.mark.parametrize("path", [PROMETHEUS, NODE_EXPORTER], ids=["prometheus", "node_exporter"])
def test_every_record_is_the_one_go_tool_pprof_reads(path: Path) -> None:
    dump = parse(path.read_bytes(), path.name)
    assert dump.format == "proto"
    ours = Counter((g.count, tuple(f.function for f in g.frames)) for g in dump.goroutines)
    assert ours == _pprof_traces(path)
    assert dump.total == sum(n * k for (n, _), k in ours.items())


def test_the_runtime_frames_at_the_leaf_give_what_a_goroutine_waits_on() -> None:
    """debug=1's text hides them (its records read "other"); the proto keeps them."""
    dump = parse(PROMETHEUS.read_bytes(), "prometheus")
    by_fn = {g.frames[0].function: category(g.state, g.frames) for g in dump.goroutines}
    assert by_fn["runtime.selectgo"] == "select"
    assert by_fn["runtime.chanrecv"] == "channel"
    assert all(g.frames[0].function not in PARK for g in dump.goroutines)


def test_a_gzipd_text_dump_reads_as_the_dump() -> None:
    text = (DATA / "goroutines" / "alertmanager-a.txt").read_bytes()
    plain, zipped = parse(text, "a"), parse(gzip.compress(text), "a.gz")
    assert zipped.format == plain.format and zipped.total == plain.total > 0


def test_a_profile_of_something_else_is_named() -> None:
    heap = CORPUS / "pprof" / "parca" / "alloc_objects.pb.gz"
    with pytest.raises(ParseError, match="not of goroutines"):
        parse(heap.read_bytes(), "heap.pb.gz")


def test_binary_garbage_is_neither_form() -> None:
    with pytest.raises(ParseError, match="not a goroutine dump nor a pprof profile"):
        parse(bytes(range(256)) * 40, "garbage")


SEED = gzip.decompress(PROMETHEUS.read_bytes())


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(SEED)
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["flip", "cut", "insert"]))
        if op == "flip":
            data[pos] ^= draw(st.integers(1, 255))
        elif op == "cut":
            del data[pos:]
            if not data:
                data.append(0)
        else:
            data[pos:pos] = draw(st.binary(min_size=1, max_size=12))
    return bytes(data)


@settings(max_examples=200, deadline=None)
@given(mutated(), st.booleans())
def test_fuzz_a_mutated_proto_is_a_dump_or_a_parse_error(data: bytes, zipped: bool) -> None:
    try:
        dump = parse(gzip.compress(data) if zipped else data, "fuzz")
    except ParseError:
        return
    assert dump.total >= 0


@pytest.mark.parametrize("path", [PROMETHEUS, NODE_EXPORTER], ids=["prometheus", "node_exporter"])
def test_real_daemons_proto_profiles_have_no_suspect(path: Path) -> None:
    from godiag.analysis.goroutines import analyze

    doc = analyze(parse(path.read_bytes(), path.name), path.name)
    assert doc["format"] == "proto" and doc["suspects"] == []


def test_a_gzip_bomb_as_a_goroutine_dump_stops_at_the_capture_budget() -> None:
    from godiag.errors import DecompressBudgetError
    from godiag.limits import CAPTURE_MB, MB
    from tests.hostile import bomb_body

    body = bomb_body()  # ~2 MB on the wire, 2 GiB decompressed
    with pytest.raises(DecompressBudgetError, match=f"beyond {CAPTURE_MB} MB"):
        parse(body, "goroutine")
    # nested: a gzip of a gzip'd bomb stops at the same cap at the second level
    inner = gzip.compress(b"\0" * (40 * MB))
    with pytest.raises(DecompressBudgetError, match="beyond 16 MB"):
        parse(gzip.compress(inner), "nested", limit=16 * MB)
