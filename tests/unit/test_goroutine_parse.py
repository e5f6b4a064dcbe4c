"""Goroutine text parsing: header variants, bad input, and fuzzing seeded from the corpus."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from godiag.errors import ParseError
from godiag.formats.goroutine_header import parse_header
from godiag.formats.goroutines import parse
from godiag.model.goroutine import Dump
from tests import datapaths

CORPUS = datapaths.CORPUS / "goroutines"
DEBUG2 = CORPUS / "go-profiler-notes" / "2.net.http.pprof.goroutine.debug2.txt"
DEBUG1 = CORPUS / "go-profiler-notes" / "2.net.http.pprof.goroutine.debug1.txt"


@pytest.mark.parametrize(
    ("line", "state", "minutes", "locked", "leaked", "durable", "labels"),
    [
        ("goroutine 1 [running]:", "running", 0, False, False, False, ()),
        ("goroutine 7 [IO wait, 12 minutes]:", "IO wait", 12, False, False, False, ()),
        ("goroutine 9 [select, locked to thread]:", "select", 0, True, False, False, ()),
        (
            "goroutine 4 gp=0xc000007c00 m=nil [chan send (leaked)]:",
            "chan send",
            0,
            False,
            True,
            False,
            (),
        ),
        (
            "goroutine 5 gp=0x1 m=3 mp=0x2 [runnable (scan)]:",
            "runnable",
            0,
            False,
            False,
            False,
            (),
        ),
        (
            "goroutine 8 [chan receive (durable), 3 minutes, synctest bubble 2]:",
            "chan receive (durable)",
            3,
            False,
            False,
            True,
            (),
        ),
        ("goroutine 8 [sleep (durable)]:", "sleep", 0, False, False, True, ()),
        (
            'goroutine 3 [sleep labels:{"handler": "checkout", k: v}]:',
            "sleep",
            0,
            False,
            False,
            False,
            (("handler", "checkout"), ("k", "v")),
        ),
        ('goroutine 3 [select] {"a": "b"}:', "select", 0, False, False, False, (("a", "b"),)),
    ],
)
def test_header_variants(
    line: str,
    state: str,
    minutes: int,
    locked: bool,
    leaked: bool,
    durable: bool,
    labels: tuple[tuple[str, str], ...],
) -> None:
    h = parse_header(line)
    assert h is not None
    assert (h.state, h.minutes, h.locked, h.leaked, h.durable, h.labels) == (
        state,
        minutes,
        locked,
        leaked,
        durable,
        labels,
    )


@pytest.mark.parametrize(
    "line",
    [
        "goroutine x [running]:",
        "goroutine 1 running:",
        "goroutine 1 [running]",
        "goroutines 1 [a]:",
    ],
)
def test_not_headers(line: str) -> None:
    assert parse_header(line) is None


def test_elided_unavailable_and_created_in_goroutine() -> None:
    text = (
        "goroutine 1 [running]:\n"
        "\tgoroutine running on other thread; stack unavailable\n"
        "created by main.main in goroutine 6\n"
        "\t/x/main.go:3 +0x1\n\n"
        "goroutine 2 [chan receive]:\n"
        "main.deep(...)\n\t/x/main.go:9\n"
        "...12 frames elided...\n"
        "main.deep(0x1)\n\t/x/main.go:9 +0x2\n"
    )
    d = parse(text.encode(), "t")
    g1, g2 = d.goroutines
    assert g1.stack_unavailable and g1.frames == () and g1.created_by_goroutine == 6
    assert g2.frames_elided and [f.args for f in g2.frames] == ["...", "0x1"]


def test_crlf_and_log_prefix() -> None:
    text = (
        "2024/01/01 log line goroutine 5 [running]:\r\nmain.f()\r\n\t/m.go:1 +0x1\r\n"
        "created by main.main in goroutine 1\r\n\t/m.go:9 +0x1\r\n"
    )
    d = parse(text.encode(), "t")
    assert [g.frames[0].function for g in d.goroutines] == ["main.f"]
    assert d.goroutines[0].created_by_goroutine == 1


# -- bad input ---------------------------------------------------------------------------


def test_truncated_tail_gives_parsed_part_and_warning() -> None:
    data = DEBUG2.read_bytes()
    full = parse(data, "full")
    cut = data[: data.rfind(b"\ncreated by ") + 5]  # inside the last goroutine's trailer
    d = parse(cut, "cut")
    assert d.truncated_at is not None
    assert any("input ends inside goroutine" in w for w in d.warnings)
    assert len(d.goroutines) == len(full.goroutines)
    assert d.goroutines[-1].cut_off


def test_half_goroutine_at_end_is_dropped_with_warning() -> None:
    data = DEBUG2.read_bytes() + b"\n\ngoroutine 999 [chan send]:\n"
    d = parse(data, "half")
    assert 999 not in {g.id for g in d.goroutines}
    assert any("goroutine 999" in w and "dropped" in w for w in d.warnings)


def test_broken_goroutine_in_the_middle_is_an_error_with_line() -> None:
    text = DEBUG2.read_text()
    lines = text.split("\n")
    idx = next(i for i, ln in enumerate(lines) if ln.startswith("\t") and i > 20)
    lines[idx] = "\tnot a file line"
    with pytest.raises(ParseError) as exc:
        parse("\n".join(lines).encode(), "broken")
    assert exc.value.line == idx + 1
    lenient = parse("\n".join(lines).encode(), "broken", strict=False)
    assert [e.line for e in lenient.errors] == [idx + 1]


def test_binary_garbage() -> None:
    with pytest.raises(ParseError, match="binary"):
        parse(bytes(range(256)) * 40, "garbage")


def test_corrupt_gzip_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="gzip"):
        parse(b"\x1f\x8b\x08\x00" + b"\x00" * 20, "p.pb.gz")


def test_ten_megabyte_single_line() -> None:
    with pytest.raises(ParseError, match="no goroutine dump found"):
        parse(b"x" * (10 * 2**20), "big")
    # a 10 MB argument list on a frame line is still a frame
    big = b"goroutine 1 [running]:\nmain.f(" + b"0x1, " * (2 * 2**20) + b")\n\t/m.go:3 +0x1\n"
    d = parse(big, "bigframe")
    assert d.goroutines[0].frames[0].function == "main.f"


def test_debug1_truncated_and_broken() -> None:
    data = DEBUG1.read_bytes()
    cut = parse(data[: len(data) // 2], "cut")
    assert cut.warnings and cut.format == "debug1"
    bad = data.replace(b"#\t0x", b"#\tzz", 1)
    with pytest.raises(ParseError) as exc:
        parse(bad, "bad")
    assert exc.value.line is not None and exc.value.line > 1


# -- fuzzing --------------------------------------------------------------------------------

SEEDS = [p.read_bytes() for p in sorted(CORPUS.rglob("*.txt")) if p.stat().st_size < 20_000]


def _check(data: bytes) -> None:
    for strict in (True, False):
        try:
            d = parse(data, "fuzz", strict=strict)
        except ParseError:
            continue
        assert isinstance(d, Dump)
        assert d.total == sum(g.count for g in d.goroutines) or d.format == "debug1"


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    seed = draw(st.sampled_from(SEEDS))
    if not seed:
        return seed
    op = draw(st.sampled_from(["cut", "flip", "insert", "delete_line", "dup"]))
    i = draw(st.integers(0, len(seed) - 1))
    if op == "cut":
        return seed[:i]
    if op == "flip":
        return seed[:i] + bytes([draw(st.integers(0, 255))]) + seed[i + 1 :]
    if op == "insert":
        return seed[:i] + draw(st.binary(max_size=40)) + seed[i:]
    if op == "delete_line":
        lines = seed.split(b"\n")
        del lines[i % len(lines)]
        return b"\n".join(lines)
    return seed[:i] + seed[i // 2 :]


@given(mutated())
@example(b"goroutine 1 [running]:\n")
@example(b"goroutine profile: total 1\n1 @ 0x1\n")
@example(b"\n\n\n")
def test_fuzz_mutated_corpus(data: bytes) -> None:
    _check(data)


@given(st.binary(max_size=300))
def test_fuzz_random_bytes(data: bytes) -> None:
    _check(data)


@given(st.text(alphabet='goroutine 0123[]:()\n\t.+x/,{}"@#', max_size=300))
def test_fuzz_grammar_alphabet(text: str) -> None:
    _check(text.encode())
