"""Executable containers (ELF, Mach-O, PE) read straight from a memory map.

Only the header tables are decoded (file header, program/segment headers, section
headers, a few small tables such as ELF .dynamic or the PE import directory); nothing
is copied wholesale, so a 100 MB binary costs the same as a 2 MB one. Every offset
and length taken from the file is checked against the file size first: anything that
points past the end raises ParseError naming the byte offset (truncated or corrupt
input), never a huge allocation or an IndexError.

Why hand-written tables instead of pyelftools/LIEF: see docs/architecture.md
("Binaries"); in short both were 10-90x slower per file than `go version -m`.
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path
from typing import Any, NamedTuple

from godiag.errors import ParseError

_STRUCTS: dict[str, struct.Struct] = {}


class NotExecutableError(ParseError):
    """The file is readable but is no executable format godiag knows."""


class Section(NamedTuple):
    # NamedTuple rather than a dataclass: created per section, and cheap to define at import.
    name: str
    addr: int
    size: int  # size in memory
    offset: int
    file_size: int  # bytes present in the file (0 for .bss-like sections)
    flags: int


class Mapping(NamedTuple):
    """A range of virtual addresses backed by file bytes (ELF prog, Mach-O segment, PE section)."""

    vaddr: int
    offset: int
    file_size: int
    name: str = ""


class Exe:
    """What the build-info reader and the fact extractor need from a container.

    A plain class, not a dataclass: generating dataclass methods at import time is a
    visible share of `godiag inspect`'s start-up.
    """

    def __init__(
        self, path: str, mm: mmap.mmap | bytes, format: str, arch: str, ptr_size: int, big: bool
    ) -> None:
        self.path = path
        self.mm = mm
        self.format = format  # elf | macho | pe
        self.arch = arch
        self.ptr_size = ptr_size
        self.big_endian = big
        self.sections: list[Section] = []
        self.mappings: list[Mapping] = []
        self.data_start = (0, 0)  # (address, size) where Go's linker puts build info
        self.image_base = 0
        self.kind = "exec"  # exec | pie | shared | object
        self.interp: str | None = None
        self.needed: list[str] = []
        self.symtab = False
        self.symbol_strings: tuple[int, int] | None = None  # (offset, size) of symbol names
        self.dynsym_strings: tuple[int, int] | None = None

    @property
    def size(self) -> int:
        return len(self.mm)

    def fail(self, why: str, offset: int | None = None) -> ParseError:
        return ParseError(self.path, why, offset=offset)

    def check(self, offset: int, length: int, what: str) -> None:
        """Raise unless [offset, offset+length) lies inside the file."""
        if length == 0:
            return  # empty ranges (e.g. zero-sized sections) may carry any offset
        if offset < 0 or length < 0 or offset + length > len(self.mm):
            raise self.fail(
                f"{what} ({length} bytes at offset {offset}) lies past the end of the "
                f"{len(self.mm)}-byte file (truncated or corrupt)",
                offset,
            )

    def unpack(self, fmt: str, offset: int, what: str) -> tuple[Any, ...]:
        st = _STRUCTS.get(fmt) or _STRUCTS.setdefault(fmt, struct.Struct(fmt))
        self.check(offset, st.size, what)
        return st.unpack_from(self.mm, offset)

    def unpack_table(self, fmt: str, offset: int, count: int, stride: int, what: str) -> list[Any]:
        """`count` records of `fmt` every `stride` bytes (one bounds check for the table)."""
        st = _STRUCTS.get(fmt) or _STRUCTS.setdefault(fmt, struct.Struct(fmt))
        if count and stride < st.size:
            raise self.fail(f"corrupt {what}: entries of {stride} bytes", offset)
        self.check(offset, count * stride, what)
        if stride == st.size:
            return list(st.iter_unpack(self.mm[offset : offset + count * stride]))
        return [st.unpack_from(self.mm, offset + i * stride) for i in range(count)]

    def locate(self, addr: int) -> tuple[int, int] | None:
        """File offset of virtual address `addr` and the bytes available from there."""
        for m in self.mappings:
            if m.file_size and m.vaddr <= addr <= m.vaddr + m.file_size - 1:
                delta = addr - m.vaddr
                return m.offset + delta, m.file_size - delta
        return None

    def read_addr(self, addr: int, length: int, what: str) -> bytes:
        """`length` bytes at virtual address `addr`; errors name what was being read."""
        loc = self.locate(addr)
        if loc is None:
            raise self.fail(f"{what}: address {addr:#x} is not mapped by any segment")
        off, avail = loc
        if length > avail:
            raise self.fail(
                f"{what}: {length} bytes at {addr:#x} run past the end of its segment "
                f"({avail} bytes left)",
                off,
            )
        self.check(off, length, what)
        return bytes(self.mm[off : off + length])

    def cstring(self, offset: int, limit: int) -> str:
        end = self.mm.find(b"\0", offset, offset + limit)
        if end < 0:
            end = offset + limit
        return bytes(self.mm[offset:end]).decode("utf-8", "replace")

    def section(self, name: str) -> Section | None:
        for s in self.sections:
            if s.name == name:
                return s
        return None


def open_exe(path: Path | str) -> Exe:
    """Memory-map `path` and decode its container; ParseError if unreadable or corrupt."""
    name = str(path)
    try:
        with open(path, "rb") as fh:
            size = fh.seek(0, 2)
            if size < 16:
                raise NotExecutableError(name, f"not an executable ({size} bytes)")
            mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except IsADirectoryError as exc:
        raise ParseError(name, "is a directory") from exc
    except OSError as exc:
        raise ParseError(name, f"cannot read: {exc.strerror or exc}") from exc
    return parse_exe(name, mm)


def parse_exe(name: str, mm: mmap.mmap | bytes) -> Exe:
    """Decode the container in `mm` (a memory map, or bytes in tests and fuzzing)."""
    head = bytes(mm[:8])
    if len(head) < 8:
        raise NotExecutableError(name, f"not an executable ({len(head)} bytes)")
    from godiag.formats import exe_elf, exe_macho, exe_pe

    if head.startswith(b"\x7fELF"):
        return exe_elf.parse(name, mm)
    if head.startswith(b"MZ"):
        return exe_pe.parse(name, mm)
    if head[:4] in exe_macho.MAGICS or head[:4] in exe_macho.FAT_MAGICS:
        return exe_macho.parse(name, mm)
    raise NotExecutableError(name, "not an executable (no ELF, Mach-O or PE header)")
