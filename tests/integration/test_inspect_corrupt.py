"""Truncated and corrupt binaries: always a ParseError (CLI: one line, exit 2), never a
traceback; seeds are real binaries (built variants, the toolchain, old esbuild releases)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from godiag.errors import ParseError
from godiag.formats.buildinfo import MAGIC
from godiag.formats.exe import parse_exe
from godiag.formats.gobinary import inspect_bytes
from tests.inspect_variants import build_variants

pytestmark = pytest.mark.integration

SEEDS = ["386", "darwin", "windows.exe", "pie"]
OLD = Path(__file__).resolve().parents[2] / ".cache" / "old-go-binaries"


@pytest.fixture(scope="module")
def seeds() -> dict[str, bytes]:
    v = build_variants()
    out = {name: v[name].read_bytes() for name in SEEDS}
    old = OLD / "esbuild-linux-32" / "package" / "bin" / "esbuild"
    if old.exists():
        out["old-386"] = old.read_bytes()
    return out


def interesting_offsets(data: bytes) -> list[int]:
    """Header, table and section boundaries, and the build info blob's fields."""
    exe = parse_exe("seed", data)
    offs = {0, 4, 8, 16, 20, 24, 52, 64, 0x3C}
    for s in exe.sections:
        offs.update({s.offset, s.offset + 1, s.offset + s.file_size - 1})
    for m in exe.mappings:
        offs.update({m.offset, m.offset + m.file_size - 1})
    i = data.find(MAGIC)
    offs.update(range(i, i + 48, 4))
    # Bytes past the last referenced one are alignment padding: cutting them loses nothing.
    used = max(x.offset + x.file_size for x in [*exe.sections, *exe.mappings] if x.file_size)
    offs.update({used - 1, len(data) // 2})
    return sorted(o for o in offs if 0 <= o < used)


@pytest.mark.parametrize("name", [*SEEDS, "old-386"])
def test_truncation_at_every_interesting_offset(seeds: dict[str, bytes], name: str) -> None:
    if name not in seeds:
        pytest.skip("old esbuild binaries not fetched (make old-go-binaries)")
    data = seeds[name]
    assert inspect_bytes(name, data).buildinfo is not None
    offsets = interesting_offsets(data)
    assert len(offsets) > 40
    for n in offsets:
        with pytest.raises(ParseError):
            inspect_bytes(name, data[:n])


def _inline_blob(data: bytes) -> int:
    i = data.find(MAGIC)
    while i % 16:
        i = data.find(MAGIC, i + 1)
    return i


def test_inline_lengths_past_the_end(seeds: dict[str, bytes]) -> None:
    data = bytearray(seeds["386"])
    i = _inline_blob(bytes(data))
    assert data[i + 15] & 2, "Go 1.18+ inline layout"
    huge = bytes([0xFF, 0xFF, 0xFF, 0xFF, 0x0F])  # uvarint 2**32-1
    data[i + 32 : i + 37] = huge
    with pytest.raises(ParseError, match="past the end"):
        inspect_bytes("blob", bytes(data))
    data = bytearray(seeds["386"])
    data[i + 32 : i + 42] = b"\xff" * 10  # a varint that never ends
    with pytest.raises(ParseError, match="varint"):
        inspect_bytes("blob", bytes(data))


def test_pointer_layout_pointing_outside(seeds: dict[str, bytes]) -> None:
    if "old-386" not in seeds:
        pytest.skip("old esbuild binaries not fetched (make old-go-binaries)")
    data = bytearray(seeds["old-386"])
    i = _inline_blob(bytes(data))
    assert not data[i + 15] & 2, "pre-1.18 pointer layout"
    data[i + 16 : i + 20] = b"\xf0\xff\xff\x7f"
    with pytest.raises(ParseError, match="not mapped"):
        inspect_bytes("blob", bytes(data))


def _cli(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "godiag", "inspect", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_truncated_and_not_executable(seeds: dict[str, bytes], tmp_path: Path) -> None:
    cases = {
        "truncated": seeds["windows.exe"][: len(seeds["windows.exe"]) // 3],
        "header-only": seeds["darwin"][:40],
        "empty": b"",
        "text": b"#!/bin/sh\necho hi\n",
    }
    for name, data in cases.items():
        p = tmp_path / name
        p.write_bytes(data)
        p.chmod(0o755)
        r = _cli(p)
        assert r.returncode == 2, (name, r.stderr)
        assert r.stdout == ""
        assert len(r.stderr.strip().splitlines()) == 1 and str(p) in r.stderr, r.stderr
        assert "Traceback" not in r.stderr


@given(data=st.data())
def test_fuzz_never_a_traceback(seeds: dict[str, bytes], data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(seeds)))
    buf = bytearray(seeds[name])
    blob = buf.find(MAGIC)
    for _ in range(data.draw(st.integers(1, 8))):
        # Flip bytes where they matter most: headers, tables near the end, the blob.
        region = data.draw(st.sampled_from(["head", "tail", "blob", "any"]))
        lo, hi = {
            "head": (0, 4096),
            "tail": (len(buf) - 8192, len(buf)),
            "blob": (blob, blob + 64),
            "any": (0, len(buf)),
        }[region]
        pos = data.draw(st.integers(max(lo, 0), min(hi, len(buf)) - 1))
        buf[pos] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        buf = buf[: data.draw(st.integers(0, len(buf)))]
    try:
        got = inspect_bytes(name, bytes(buf))
    except ParseError:
        return
    assert got.facts.size == len(buf)


def test_fat_macho_reads_first_architecture(seeds: dict[str, bytes]) -> None:
    """A universal binary wrapping the darwin variant (as lipo lays it out: slice at 4096)."""
    import struct

    thin = seeds["darwin"]
    header = struct.pack(">II", 0xCAFEBABE, 1) + struct.pack(
        ">IIIII", 0x01000007, 3, 4096, len(thin), 12
    )
    fat = header + b"\0" * (4096 - len(header)) + thin
    want = inspect_bytes("thin", thin)
    got = inspect_bytes("fat", fat)
    assert got.buildinfo == want.buildinfo and got.buildinfo is not None
    assert (got.facts.format, got.facts.arch, got.facts.symtab) == ("macho", "amd64", True)
    with pytest.raises(ParseError):
        inspect_bytes("fat", fat[: 4096 + len(thin) // 2])
