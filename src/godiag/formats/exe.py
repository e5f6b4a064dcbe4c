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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from godiag.errors import ParseError


class NotExecutableError(ParseError):
    """The file is readable but is no executable format godiag knows."""


@dataclass(frozen=True)
class Section:
    name: str
    addr: int
    size: int  # size in memory
    offset: int
    file_size: int  # bytes present in the file (0 for .bss-like sections)
    flags: int


@dataclass(frozen=True)
class Mapping:
    """A range of virtual addresses backed by file bytes (ELF prog, Mach-O segment, PE section)."""

    vaddr: int
    offset: int
    file_size: int
    name: str = ""


@dataclass
class Exe:
    """What the build-info reader and the fact extractor need from a container."""

    path: str
    mm: mmap.mmap | bytes
    format: str  # elf | macho | pe
    arch: str
    ptr_size: int
    big_endian: bool
    sections: list[Section] = field(default_factory=list)
    mappings: list[Mapping] = field(default_factory=list)
    data_start: tuple[int, int] = (0, 0)  # (address, size) where Go's linker puts build info
    image_base: int = 0
    kind: str = "exec"  # exec | pie | shared | object
    interp: str | None = None
    needed: list[str] = field(default_factory=list)
    symtab: bool = False
    symbol_strings: tuple[int, int] | None = None  # (offset, size) of the symbol name table
    dynsym_strings: tuple[int, int] | None = None

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
        self.check(offset, struct.calcsize(fmt), what)
        return struct.unpack_from(fmt, self.mm, offset)

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
