"""ELF: program headers (address mapping, PT_INTERP), section headers and .dynamic."""

from __future__ import annotations

import mmap

from godiag.formats.exe import Exe, Mapping, Section

PT_LOAD, PT_DYNAMIC, PT_INTERP = 1, 2, 3
PF_X, PF_W = 1, 2
SHT_SYMTAB, SHT_NOBITS, SHT_DYNSYM, SHT_DYNAMIC = 2, 8, 11, 6
ET_EXEC, ET_DYN = 2, 3
DT_NEEDED, DT_FLAGS_1 = 1, 0x6FFFFFFB
DF_1_PIE = 0x08000000
MAX_TABLE = 1 << 16  # more headers than this is corruption, not a real binary

MACHINES = {
    3: "386",
    8: "mips",
    20: "ppc",
    21: "ppc64",
    22: "s390x",
    40: "arm",
    62: "amd64",
    183: "arm64",
    243: "riscv64",
    258: "loong64",
}


def parse(name: str, mm: mmap.mmap | bytes) -> Exe:
    ei_class, ei_data = mm[4], mm[5]
    if ei_class not in (1, 2) or ei_data not in (1, 2):
        raise Exe(name, mm, "elf", "", 0, False).fail(
            f"corrupt ELF header (class {ei_class}, data encoding {ei_data})", 4
        )
    is64, big = ei_class == 2, ei_data == 2
    e = "<>"[big]
    exe = Exe(name, mm, "elf", "", 8 if is64 else 4, big)
    if is64:
        (etype, machine, _v, _entry, phoff, shoff, _fl, _eh, phentsize, phnum, shentsize, shnum,
         shstrndx) = exe.unpack(e + "HHIQQQIHHHHHH", 16, "ELF header")  # fmt: skip
    else:
        (etype, machine, _v, _entry, phoff, shoff, _fl, _eh, phentsize, phnum, shentsize, shnum,
         shstrndx) = exe.unpack(e + "HHIIIIIHHHHHH", 16, "ELF header")  # fmt: skip
    exe.arch = MACHINES.get(machine, f"elf-machine-{machine}")
    if machine == 8 and is64:
        exe.arch = "mips64"

    # Program headers: Go's debug/buildinfo maps addresses through every prog in order.
    ph_fmt = e + ("IIQQQQQQ" if is64 else "IIIIIIII")
    if phnum > MAX_TABLE or (phnum and phentsize < (56 if is64 else 32)):
        raise exe.fail(f"corrupt ELF program header table ({phnum} x {phentsize})", phoff)
    writable: tuple[int, int] | None = None
    dyn_prog: tuple[int, int] | None = None
    progs = exe.unpack_table(ph_fmt, phoff, phnum, phentsize, "ELF program header table")
    for i, raw in enumerate(progs):
        if is64:
            ptype, pflags, poff, vaddr, _pa, filesz, memsz, _al = raw
        else:
            ptype, poff, vaddr, _pa, filesz, memsz, pflags, _al = raw
        if ptype in (PT_LOAD, PT_INTERP, PT_DYNAMIC):
            exe.check(poff, filesz, f"ELF segment {i}")
        exe.mappings.append(Mapping(vaddr, poff, filesz))
        if ptype == PT_LOAD and writable is None and pflags & (PF_X | PF_W) == PF_W:
            writable = (vaddr, memsz)
        elif ptype == PT_INTERP:
            exe.interp = exe.cstring(poff, filesz)
        elif ptype == PT_DYNAMIC:
            dyn_prog = (poff, filesz)

    _read_sections(exe, e, is64, shoff, shentsize, shnum, shstrndx)
    bi = exe.section(".go.buildinfo")
    if bi is not None:
        exe.data_start = (bi.addr, bi.size)
    elif writable is not None:
        exe.data_start = writable
    flags_1 = _read_dynamic(exe, e, is64, dyn_prog)
    if etype == ET_DYN:
        # ET_DYN is either a position-independent executable or a shared library.
        exe.kind = "pie" if exe.interp or flags_1 & DF_1_PIE else "shared"
    elif etype != ET_EXEC:
        exe.kind = "object"
    return exe


def _read_sections(
    exe: Exe, e: str, is64: bool, shoff: int, shentsize: int, shnum: int, shstrndx: int
) -> None:
    if shoff == 0:
        return
    sh_fmt = e + ("IIQQQQIIQQ" if is64 else "IIIIIIIIII")
    if shentsize < (64 if is64 else 40):
        raise exe.fail(f"corrupt ELF section header size {shentsize}", shoff)
    if shnum == 0 or shstrndx == 0xFFFF:  # extended numbering lives in section 0
        first = exe.unpack(sh_fmt, shoff, "ELF section header 0")
        shnum = shnum or first[5]
        if shstrndx == 0xFFFF:
            shstrndx = first[6]
    if shnum > MAX_TABLE:
        raise exe.fail(f"corrupt ELF section count {shnum}", shoff)
    raw = exe.unpack_table(sh_fmt, shoff, shnum, shentsize, "ELF section header table")
    strtab = raw[shstrndx] if 0 < shstrndx < shnum else None
    for i, (nm, typ, flags, addr, off, size, link, _info, _al, _es) in enumerate(raw):
        file_size = 0 if typ == SHT_NOBITS or i == 0 else size
        exe.check(off, file_size, f"ELF section {i}")
        name = ""
        if strtab is not None and nm < strtab[5]:
            name = exe.cstring(strtab[4] + nm, strtab[5] - nm)
        exe.sections.append(Section(name, addr, size, off, file_size, flags))
        if typ == SHT_SYMTAB and size:
            exe.symtab = True
            if link < shnum:
                exe.symbol_strings = (raw[link][4], raw[link][5])
        elif typ == SHT_DYNSYM and link < shnum:
            exe.dynsym_strings = (raw[link][4], raw[link][5])


def _read_dynamic(exe: Exe, e: str, is64: bool, prog: tuple[int, int] | None) -> int:
    """Collect DT_NEEDED names; returns DT_FLAGS_1."""
    sec = next((s for s in exe.sections if s.name == ".dynamic"), None)
    off, size = (sec.offset, sec.file_size) if sec else (prog or (0, 0))
    if not size or exe.dynsym_strings is None:
        return 0
    str_off, str_size = exe.dynsym_strings
    exe.check(str_off, str_size, "ELF .dynstr")
    ent = 16 if is64 else 8
    fmt = e + ("qQ" if is64 else "iI")
    flags_1 = 0
    for i in range(min(size // ent, MAX_TABLE)):
        tag, val = exe.unpack(fmt, off + i * ent, "ELF dynamic entry")
        if tag == 0:
            break
        if tag == DT_NEEDED and val < str_size:
            exe.needed.append(exe.cstring(str_off + val, str_size - val))
        elif tag == DT_FLAGS_1:
            flags_1 = val
    return flags_1
