"""PE/COFF: section table (with COFF long names), symbol table, import directory."""

from __future__ import annotations

import mmap

from godiag.formats.exe import Exe, Mapping, Section

MACHINES = {0x14C: "386", 0x8664: "amd64", 0x1C0: "arm", 0x1C4: "arm", 0xAA64: "arm64"}
DATA_FLAGS = 0x00000040 | 0x40000000 | 0x80000000  # initialized data, read, write
ALIGN_32 = 0x00600000
DYNAMIC_BASE = 0x40
IMAGE_FILE_DLL = 0x2000


def parse(name: str, mm: mmap.mmap | bytes) -> Exe:
    exe = Exe(name, mm, "pe", "", 4, False)
    (lfanew,) = exe.unpack("<I", 0x3C, "MZ header")
    exe.check(lfanew, 24, "PE header")
    if bytes(mm[lfanew : lfanew + 4]) != b"PE\0\0":
        raise exe.fail("MZ file without a PE signature (not a Windows executable)", lfanew)
    machine, nsect, _ts, symptr, nsyms, opt_size, chars = exe.unpack(
        "<HHIIIHH", lfanew + 4, "COFF header"
    )
    exe.arch = MACHINES.get(machine, f"pe-machine-{machine:#x}")
    opt = lfanew + 24
    exe.check(opt, opt_size, "PE optional header")
    (magic,) = exe.unpack("<H", opt, "PE optional header")
    if magic == 0x20B:
        exe.ptr_size = 8
        (exe.image_base,) = exe.unpack("<Q", opt + 24, "PE optional header")
        dirs = opt + 112
    elif magic == 0x10B:
        (exe.image_base,) = exe.unpack("<I", opt + 28, "PE optional header")
        dirs = opt + 96
    else:
        raise exe.fail(f"unknown PE optional header magic {magic:#x}", opt)
    (dll_chars,) = exe.unpack("<H", opt + 70, "PE optional header")
    exe.kind = (
        "shared" if chars & IMAGE_FILE_DLL else ("pie" if dll_chars & DYNAMIC_BASE else "exec")
    )

    strtab = symptr + nsyms * 18
    if symptr:
        exe.check(symptr, nsyms * 18 + 4, "COFF symbol table")
        (strsize,) = exe.unpack("<I", strtab, "COFF string table")
        exe.check(strtab, strsize, "COFF string table")
        exe.symtab = nsyms > 0
        exe.symbol_strings = (strtab, strsize)
    if nsect > 96 * 1024:
        raise exe.fail(f"corrupt PE section count {nsect}", lfanew + 6)
    table = opt + opt_size
    exe.check(table, nsect * 40, "PE section table")
    for i in range(nsect):
        raw = exe.unpack("<8sIIIIIIHHI", table + i * 40, "PE section header")
        sname, vsize, vaddr, rawsize, rawptr = raw[:5]
        flags = raw[9]
        name = sname.rstrip(b"\0").decode("utf-8", "replace")
        if name.startswith("/") and name[1:].isdigit() and symptr:
            name = exe.cstring(strtab + int(name[1:]), 256)
        exe.check(rawptr, rawsize, f"PE section {name}")
        exe.sections.append(Section(name, vaddr + exe.image_base, vsize, rawptr, rawsize, flags))
        exe.mappings.append(Mapping(vaddr + exe.image_base, rawptr, rawsize, name))
        if exe.data_start == (0, 0) and vaddr and rawsize and flags & ~ALIGN_32 == DATA_FLAGS:
            exe.data_start = (vaddr + exe.image_base, vsize)
    _imports(exe, dirs, opt + opt_size)
    return exe


def _imports(exe: Exe, dirs: int, dirs_end: int) -> None:
    """DLL names of the import directory (data directory 1)."""
    if dirs + 16 > dirs_end:
        return
    rva, size = exe.unpack("<II", dirs + 8, "PE import directory entry")
    if not rva or not size:
        return
    loc = exe.locate(rva + exe.image_base)
    if loc is None:
        return
    off, avail = loc
    for i in range(min(avail // 20, 4096)):
        desc = exe.unpack("<IIIII", off + i * 20, "PE import descriptor")
        if not any(desc):
            break
        name_loc = exe.locate(desc[3] + exe.image_base)
        if name_loc is not None:
            exe.needed.append(exe.cstring(name_loc[0], min(name_loc[1], 256)))
