"""formats.pprof.gunzip: the decompressed-size cap holds across every gzip member, and
the bytes it grows through come from the in-flight pool when one is given."""

from __future__ import annotations

import contextlib
import gzip

import pytest
from hypothesis import given
from hypothesis import strategies as st

from godiag.errors import DecompressBudgetError, ParseError
from godiag.formats import pprof
from godiag.formats.pprof import decode, gunzip
from godiag.limits import MB, InFlight
from tests.hostile import bomb_body


def test_multi_member_bomb_stops_at_the_default_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    # The shape: a small first member, then members expanding 1000:1.
    monkeypatch.setattr(pprof, "MAX_DECOMPRESSED", 8 * MB)
    data = gzip.compress(b"x" * 1024) + gzip.compress(b"\0" * (4 * MB)) * 8
    with pytest.raises(DecompressBudgetError, match="expands beyond 8 MB"):
        decode(data, "bomb")


def test_hostile_target_bomb_is_cut_at_the_capture_budget() -> None:
    body = bomb_body()  # ~2 MB on the wire, 2 GiB decompressed
    assert len(body) < 4 * MB
    with pytest.raises(DecompressBudgetError) as err:
        decode(body, "bomb", limit=16 * MB)
    assert err.value.budget == "bytes"


def test_pool_bounds_decompression_and_is_given_back() -> None:
    pool = InFlight(3 * MB)
    with pytest.raises(DecompressBudgetError, match="in flight") as err:
        gunzip(gzip.compress(b"\0" * (8 * MB)), "big", limit=64 * MB, pool=pool)
    assert err.value.budget == "memory" and pool.used == 0
    assert gunzip(gzip.compress(b"a" * MB), "ok", pool=pool) == b"a" * MB
    assert pool.used == 0


members = st.lists(st.binary(max_size=3000), min_size=1, max_size=5)


@given(members, st.integers(0, 16000), st.binary(max_size=8))
def test_fuzz_members_cap_and_trailer(parts: list[bytes], cap: int, tail: bytes) -> None:
    data = b"".join(gzip.compress(p) for p in parts)
    want = b"".join(parts)
    if not tail.startswith(b"\x1f\x8b"):
        data += tail  # bytes after the last member that are no member are ignored
    if len(want) > cap:
        with pytest.raises(DecompressBudgetError):
            gunzip(data, "m", limit=cap)
    else:
        assert gunzip(data, "m", limit=cap) == want


@given(members, st.data())
def test_fuzz_truncated_or_flipped_is_a_parse_error(
    parts: list[bytes], data: st.DataObject
) -> None:
    blob = bytearray(b"".join(gzip.compress(p) for p in parts))
    cut = data.draw(st.integers(1, len(blob) - 1))
    flip = data.draw(st.integers(0, len(blob) - 1))
    blob[flip] ^= data.draw(st.integers(1, 255))
    for sample in (bytes(blob), bytes(blob[:cut])):
        with contextlib.suppress(ParseError):  # the typed error, never anything else
            gunzip(sample, "m", limit=1 << 20)
