"""Mach-O (thin and fat): segments, sections, LC_SYMTAB, LC_LOAD_DYLIB."""

from __future__ import annotations

import mmap

from godiag.formats.exe import Exe, Mapping, Section

MAGICS = {
    b"\xfe\xed\xfa\xce": (False, True),  # 32-bit big-endian
    b"\xfe\xed\xfa\xcf": (True, True),
    b"\xce\xfa\xed\xfe": (False, False),  # 32-bit little-endian
    b"\xcf\xfa\xed\xfe": (True, False),
}
FAT_MAGICS = {b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf"}
LC_SEGMENT, LC_SYMTAB, LC_LOAD_DYLIB, LC_SEGMENT_64 = 0x1, 0x2, 0xC, 0x19
LC_REEXPORT_DYLIB, LC_LOAD_WEAK_DYLIB = 0x8000001F, 0x80000018
MH_EXECUTE, MH_DYLIB, MH_PIE = 0x2, 0x6, 0x200000
CPUS = {7: "386", 0x01000007: "amd64", 12: "arm", 0x0100000C: "arm64", 18: "ppc"}
MAX_CMDS = 1 << 14


def parse(name: str, mm: mmap.mmap | bytes) -> Exe:
    magic = bytes(mm[:4])
    base = 0
    if magic in FAT_MAGICS:
        # Like debug/buildinfo, a universal binary is read through its first architecture.
        probe = Exe(name, mm, "macho", "", 4, True)
        (nfat,) = probe.unpack(">I", 4, "fat header")
        if nfat == 0 or nfat > 64:
            raise probe.fail(f"corrupt fat Mach-O ({nfat} architectures)", 4)
        wide = magic == b"\xca\xfe\xba\xbf"
        if wide:
            _cpu, _sub, base, size, _al, _r = probe.unpack(">IIQQII", 8, "fat arch")
        else:
            _cpu, _sub, base, size, _al = probe.unpack(">IIIII", 8, "fat arch")
        probe.check(base, size, "fat Mach-O slice")
        magic = bytes(mm[base : base + 4])
        if magic not in MAGICS:
            raise probe.fail("fat Mach-O slice has no Mach-O header", base)
    is64, big = MAGICS[magic]
    e = "<>"[big]
    exe = Exe(name, mm, "macho", "", 8 if is64 else 4, big)
    cpu, _sub, ftype, ncmds, sizeofcmds, hflags = exe.unpack(e + "iiIIII", base + 4, "header")
    exe.arch = CPUS.get(cpu, f"macho-cpu-{cpu}")
    exe.kind = "shared" if ftype == MH_DYLIB else ("pie" if hflags & MH_PIE else "exec")
    if ftype not in (MH_EXECUTE, MH_DYLIB):
        exe.kind = "object"
    off = base + (32 if is64 else 28)
    if ncmds > MAX_CMDS:
        raise exe.fail(f"corrupt Mach-O header ({ncmds} load commands)", base + 16)
    exe.check(off, sizeofcmds, "Mach-O load commands")
    end = off + sizeofcmds
    writable: tuple[int, int] | None = None
    for _ in range(ncmds):
        cmd, cmdsize = exe.unpack(e + "II", off, "load command")
        if cmdsize < 8 or off + cmdsize > end:
            raise exe.fail(f"corrupt Mach-O load command (size {cmdsize})", off)
        if cmd in (LC_SEGMENT, LC_SEGMENT_64):
            seg = _segment(exe, e, is64, base, off, cmd == LC_SEGMENT_64)
            if seg is not None and writable is None:
                writable = seg
        elif cmd == LC_SYMTAB:
            symoff, nsyms, stroff, strsize = exe.unpack(e + "IIII", off + 8, "LC_SYMTAB")
            exe.check(base + symoff, nsyms * (16 if is64 else 12), "Mach-O symbol table")
            exe.check(base + stroff, strsize, "Mach-O string table")
            exe.symtab = nsyms > 0
            exe.symbol_strings = (base + stroff, strsize)
        elif cmd in (LC_LOAD_DYLIB, LC_LOAD_WEAK_DYLIB, LC_REEXPORT_DYLIB):
            (name_off,) = exe.unpack(e + "I", off + 8, "dylib command")
            if 8 < name_off < cmdsize:
                exe.needed.append(exe.cstring(off + name_off, cmdsize - name_off))
        off += cmdsize
    bi = exe.section("__go_buildinfo")
    if bi is not None:
        exe.data_start = (bi.addr, bi.size)
    elif writable is not None:
        exe.data_start = writable
    return exe


def _segment(
    exe: Exe, e: str, is64: bool, base: int, off: int, wide: bool
) -> tuple[int, int] | None:
    """Record one segment and its sections; returns (addr, memsz) if it is a RW data segment."""
    if wide:
        segname, vaddr, vsize, fileoff, filesz, maxprot, prot, nsects, _f = exe.unpack(
            e + "16sQQQQiiII", off + 8, "LC_SEGMENT_64"
        )
        sect_fmt, sect_size, first = e + "16s16sQQIIIIIIII", 80, off + 72
    else:
        segname, vaddr, vsize, fileoff, filesz, maxprot, prot, nsects, _f = exe.unpack(
            e + "16sIIIIiiII", off + 8, "LC_SEGMENT"
        )
        sect_fmt, sect_size, first = e + "16s16sIIIIIIIII", 68, off + 56
    seg = segname.rstrip(b"\0").decode("utf-8", "replace")
    exe.check(base + fileoff, filesz, f"Mach-O segment {seg}")
    if seg != "__PAGEZERO":
        exe.mappings.append(Mapping(vaddr, base + fileoff, filesz, seg))
    if nsects > 4096:
        raise exe.fail(f"corrupt Mach-O segment {seg} ({nsects} sections)", off)
    for i in range(nsects):
        raw = exe.unpack(sect_fmt, first + i * sect_size, f"section header of {seg}")
        sname, _seg, addr, size, soff = raw[0], raw[1], raw[2], raw[3], raw[4]
        flags = raw[8]
        zerofill = flags & 0xFF in (
            0x1,
            0xC,
            0x12,
        )  # S_ZEROFILL, S_GB_ZEROFILL, S_THREAD_LOCAL_ZEROFILL
        file_size = 0 if zerofill or soff == 0 else size
        exe.check(base + soff, file_size, f"Mach-O section {seg}")
        name = sname.rstrip(b"\0").decode("utf-8", "replace")
        exe.sections.append(Section(name, addr, size, base + soff, file_size, flags))
    if vaddr != 0 and filesz != 0 and prot == 3 and maxprot == 3:
        return vaddr, vsize
    return None
