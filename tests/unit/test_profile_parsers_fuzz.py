"""Hostile input to the pprof, Prometheus and expvar parsers: a ParseError, never a crash
or a hang. Seeds are real captures from the corpus, mutated."""

from __future__ import annotations

import contextlib
import gzip
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from godiag.analysis.profiles import build_stacks, top
from godiag.errors import ParseError
from godiag.formats import expvar, prometheus
from godiag.formats import profile_pb2 as pb
from godiag.formats.pprof import decode
from tests import datapaths

CORPUS = datapaths.CORPUS / "pprof"
SEEDS = [
    gzip.decompress((CORPUS / n).read_bytes())
    for n in ("parca/single-stack.pb.gz", "parca/two-stacks.pb.gz", "parca/no-python.pb.gz")
] + [(CORPUS / "google-pprof/profile-testdata/go.godoc.thread").read_bytes()]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "varint"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] ^= draw(st.integers(1, 255))
        elif op == "cut":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=12))
        else:  # an unterminated or huge varint
            data[pos:pos] = b"\xff" * draw(st.integers(1, 11))
    return bytes(data)


def _decode_and_analyse(data: bytes) -> None:
    try:
        prof = decode(data, "fuzz")
    except ParseError:
        return
    top(build_stacks(prof), 20)


@given(mutated())
def test_fuzz_pprof_mutations(data: bytes) -> None:
    _decode_and_analyse(data)


@given(mutated())
def test_fuzz_pprof_gzipped_and_truncated(data: bytes) -> None:
    z = gzip.compress(data)
    _decode_and_analyse(z)
    _decode_and_analyse(z[: len(z) // 2])


@given(st.binary(max_size=300))
def test_fuzz_pprof_random_bytes(data: bytes) -> None:
    _decode_and_analyse(data)


def _profile(**over: object) -> bytes:
    m = pb.Profile()
    m.string_table.extend(["", "cpu", "nanoseconds", "main.f", "f.go"])
    m.sample_type.add(type=1, unit=2)
    m.function.add(id=1, name=3, filename=4)
    loc = m.location.add(id=1)
    loc.line.add(function_id=1, line=3)
    m.sample.add(location_id=[1], value=[10])
    for k, v in over.items():
        if k == "string_index":
            m.function[0].name = int(str(v))
        elif k == "location_id":
            m.sample[0].location_id[0] = int(str(v))
        elif k == "function_id":
            m.location[0].line[0].function_id = int(str(v))
        elif k == "values":
            del m.sample[0].value[:]
            m.sample[0].value.extend(v)  # type: ignore[arg-type]
    return m.SerializeToString()


@pytest.mark.parametrize(
    ("over", "why"),
    [
        ({"string_index": 99}, "string index 99 out of range"),
        ({"string_index": -1}, "out of range"),
        ({"location_id": 7}, "unknown location id 7"),
        ({"function_id": 5}, "unknown function id 5"),
        ({"values": [1, 2, 3]}, "3 values for 1 sample types"),
    ],
)
def test_inconsistent_profiles_are_parse_errors(over: dict[str, object], why: str) -> None:
    assert decode(_profile(), "ok").samples  # the unmodified profile is fine
    with pytest.raises(ParseError, match=why):
        decode(_profile(**over), "bad")


def test_absurd_values_do_not_break_analysis() -> None:
    data = _profile(values=[2**63 - 1])
    table = top(build_stacks(decode(data, "big")), 20)
    assert table.rows[0].flat == 2**63 - 1


def test_gzip_bomb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from godiag.formats import pprof

    monkeypatch.setattr(pprof, "MAX_DECOMPRESSED", 1 << 20)
    with pytest.raises(ParseError, match="expands beyond"):
        decode(gzip.compress(b"\0" * (4 << 20)), "bomb")


PROM_SEED = """# HELP go_info Information about the Go environment.
# TYPE go_info gauge
go_info{version="go1.26.8"} 1
# TYPE go_goroutines gauge
go_goroutines 42
# TYPE go_gc_duration_seconds summary
go_gc_duration_seconds{quantile="0.5"} 0.0001
go_gc_duration_seconds_sum 0.5
go_gc_duration_seconds_count 10
"""


def test_prometheus_reads_go_info() -> None:
    fams = prometheus.parse(PROM_SEED.encode(), "m")
    assert prometheus.label_of(fams, "go_info", "version") == "go1.26.8"
    assert fams["go_goroutines"].samples[0].value == 42


@given(st.text(max_size=200) | st.sampled_from([PROM_SEED]).map(lambda s: s[: len(s) // 2]))
def test_fuzz_prometheus(text: str) -> None:
    with contextlib.suppress(ParseError):
        prometheus.parse((PROM_SEED + text).encode("utf-8", "surrogatepass"), "fuzz")


@given(st.binary(max_size=200))
def test_fuzz_prometheus_bytes(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        prometheus.parse(data, "fuzz")


EXPVAR_SEED = json.dumps(
    {"cmdline": ["/bin/app", "-v"], "memstats": {"HeapInuse": 1024, "NumGC": 3, "PauseNs": [1, 2]}}
)


def test_expvar_memstats() -> None:
    doc = expvar.parse(EXPVAR_SEED.encode(), "vars")
    assert expvar.memstats(doc) == {"HeapInuse": 1024.0, "NumGC": 3.0}


@given(
    st.binary(max_size=200) | st.text(max_size=200).map(lambda t: (EXPVAR_SEED[:40] + t).encode())
)
def test_fuzz_expvar(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        expvar.memstats(expvar.parse(data, "fuzz"))


def test_expvar_deep_nesting_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        expvar.parse(b"[" * 100_000 + b"]" * 100_000, "deep")
