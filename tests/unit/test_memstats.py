"""The MemStats block of a debug=1 heap profile (formats/memstats.py): what a service that
serves pprof only says about its heap and GC. The seed is a real answer of
/debug/pprof/heap?debug=1 (tests/data/memstats/README.md)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from godiag.errors import ParseError
from godiag.formats import memstats
from godiag.formats.observation import ROLE, decode, expvar_sample
from godiag.model.capture import Capture
from godiag.model.observation import Recorded
from tests import datapaths

SEED = (datapaths.DATA / "memstats" / "heap-debug1.txt").read_bytes()


def test_a_real_answer_gives_expvars_names_and_types() -> None:
    doc = memstats.parse(SEED, "heap?debug=1")
    assert doc["NumGC"] >= 1 and doc["HeapInuse"] > 0 and doc["TotalAlloc"] >= doc["HeapAlloc"]
    assert isinstance(doc["GCCPUFraction"], float) and doc["NumForcedGC"] == 6
    assert isinstance(doc["PauseNs"], list) and len(doc["PauseNs"]) == 256
    assert "Stack" not in doc  # `# Stack = inuse / sys` is two numbers: not read
    values = expvar_sample(0.0, {"memstats": doc}).values
    assert values["go_gc_cycles_total"] == doc["NumGC"]
    assert values["go_memstats_heap_inuse_bytes"] == doc["HeapInuse"]
    assert values["go_memstats_alloc_bytes_total"] == doc["TotalAlloc"]


def test_a_role_memstats_decodes_and_other_text_is_refused() -> None:
    assert ROLE.fullmatch("memstats#3")
    cap = Capture(SEED, "http://svc/debug/pprof/heap?debug=1", "heap", datetime.now(UTC))
    assert decode(Recorded("memstats#3", 1.0, cap, False))["NumGC"] >= 1
    with pytest.raises(ParseError, match=r"no '# runtime\.MemStats' block"):
        memstats.parse(b"goroutine profile: total 3\n", "x")
    cut = SEED[: SEED.index(b"# NumGC")]
    with pytest.raises(ParseError, match="without NumGC"):
        memstats.parse(cut, "x")


@given(st.integers(0, len(SEED)), st.binary(max_size=64), st.integers(0, 6))
def test_fuzz_a_mangled_answer_is_a_parse_error_or_numbers(cut: int, junk: bytes, n: int) -> None:
    data = SEED[:cut] + junk + SEED[cut:][: max(0, len(SEED) - cut - n * 97)]
    try:
        doc = memstats.parse(data, "fuzz")
    except ParseError:
        return
    assert all(isinstance(v, int | float | list) for v in doc.values())
