"""One file -> InspectedBinary: container facts plus Go build info."""

from __future__ import annotations

import struct
from pathlib import Path

from godiag.formats.buildinfo import read_buildinfo
from godiag.formats.exe import Exe, open_exe, parse_exe
from godiag.model.binary import LIBC_NAMES, BinaryFacts, BuildInfo, InspectedBinary, SectionSize

BUILD_ID_PREFIX = b'\xff Go build ID: "'
BUILD_ID_SUFFIX = b'"\n \xff'


def inspect_path(path: Path | str) -> InspectedBinary:
    exe = open_exe(path)
    try:
        info = read_buildinfo(exe)
        facts = binary_facts(exe, info)
    finally:
        close = getattr(exe.mm, "close", None)
        if close is not None:
            close()
    return InspectedBinary(str(path), facts, info)


def inspect_bytes(name: str, data: bytes) -> InspectedBinary:
    """Like inspect_path for bytes already in memory (tests, fuzzing, captured files)."""
    exe = parse_exe(name, data)
    info = read_buildinfo(exe)
    return InspectedBinary(name, binary_facts(exe, info), info)


def binary_facts(exe: Exe, info: BuildInfo | None) -> BinaryFacts:
    dwarf = any(
        s.name.startswith((".debug_", ".zdebug_", "__debug_", "__zdebug_")) for s in exe.sections
    )
    libc = [n for n in exe.needed if n.startswith(LIBC_NAMES)]
    # Mach-O always needs libSystem and PE kernel32.dll: "dynamic" there is the norm.
    dynamic = bool(exe.needed) or (exe.format == "elf" and exe.interp is not None)
    settings = {s.key: s.value for s in info.settings} if info else {}
    return BinaryFacts(
        format=exe.format,
        arch=exe.arch,
        ptr_size=exe.ptr_size,
        endian="big" if exe.big_endian else "little",
        kind=exe.kind,
        size=exe.size,
        symtab=exe.symtab,
        dwarf=dwarf,
        linkage="dynamic" if dynamic else "static",
        interp=exe.interp,
        needed=tuple(exe.needed),
        cgo=_cgo(exe, settings, bool(libc)) if info else None,
        race=_race(exe, settings) if info else None,
        pie=exe.kind == "pie" or settings.get("-buildmode") == "pie",
        go_build_id=_go_build_id(exe),
        gnu_build_id=_gnu_build_id(exe),
        sections=tuple(SectionSize(s.name, s.size, s.file_size) for s in exe.sections if s.name),
    )


def _symbols_mention(exe: Exe, needle: bytes) -> bool | None:
    """Whether the symbol name table contains `needle`; None without a symbol table."""
    if exe.symbol_strings is None or not exe.symtab:
        return None
    off, size = exe.symbol_strings
    exe.check(off, size, "symbol name table")
    return exe.mm.find(needle, off, off + size) >= 0


def _cgo(exe: Exe, settings: dict[str, str], libc: bool) -> bool | None:
    if settings.get("CGO_ENABLED") == "0":
        return False
    if exe.format == "elf" and libc:
        return True
    if exe.format == "pe" and any(n.lower() == "msvcrt.dll" for n in exe.needed):
        return True  # mingw-built C code; plain Go imports only kernel32.dll
    # x_cgo_init is C code from runtime/cgo: present only when cgo is linked in.
    return _symbols_mention(exe, b"x_cgo_init")


def _race(exe: Exe, settings: dict[str, str]) -> bool | None:
    if "-race" in settings:
        return settings["-race"] == "true"
    if settings:
        # Build settings exist only since Go 1.18, which records -race=true for every race
        # build; their absence there means no race detector. (-buildmode, once used as the
        # marker, is recorded for default builds only since Go 1.20, so stripped 1.18/1.19
        # binaries showed "unknown".)
        return False
    return _symbols_mention(exe, b"__tsan_init")


def _note_desc(exe: Exe, name: str) -> bytes | None:
    """The descriptor of the first ELF note in section `name` (bounds already checked)."""
    note = exe.section(name)
    if note is None or note.file_size < 12:
        return None
    e = ">" if exe.big_endian else "<"
    namesz, descsz, _typ = struct.unpack_from(e + "III", exe.mm, note.offset)
    start = note.offset + 12 + ((namesz + 3) & ~3)
    if start + descsz > note.offset + note.file_size:
        return None
    return bytes(exe.mm[start : start + descsz])


def _go_build_id(exe: Exe) -> str | None:
    desc = _note_desc(exe, ".note.go.buildid")
    if desc is not None:
        return desc.decode("utf-8", "replace")
    # Elsewhere the linker writes the ID at the start of the text section.
    text = exe.section("__text") or exe.section(".text")
    lo = text.offset if text is not None and text.file_size else 0
    hi = min(exe.size, lo + 32 * 1024)
    i = exe.mm.find(BUILD_ID_PREFIX, lo, hi)
    if i < 0:
        return None
    j = exe.mm.find(BUILD_ID_SUFFIX, i, min(exe.size, i + 1024))
    if j < 0:
        return None
    return bytes(exe.mm[i + len(BUILD_ID_PREFIX) : j]).decode("utf-8", "replace")


def _gnu_build_id(exe: Exe) -> str | None:
    desc = _note_desc(exe, ".note.gnu.build-id")
    return desc.hex() if desc is not None else None
