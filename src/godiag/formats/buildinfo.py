"""Go build info from an executable, following Go's debug/buildinfo (Go 1.13 to newest).

Layout (GO-FACTS.md "Build info in binaries"): a 32-byte header starting with
`\\xff Go buildinf:` at a 16-byte aligned address of the data area; byte 14 is the
pointer size, byte 15 the flags (bit 1: strings inline after the header as
uvarint-length-prefixed bytes, Go 1.18+; otherwise two pointers to Go string headers,
bit 0 telling the byte order). Unlike `go version -m`, a blob whose lengths or pointers
lead outside the file is reported as corrupt (ParseError), not as "not a Go executable".
"""

from __future__ import annotations

from godiag.errors import ParseError
from godiag.formats.exe import Exe
from godiag.formats.goquote import quoted_prefix, unquote
from godiag.model.binary import BuildInfo, BuildSetting, Module

MAGIC = b"\xff Go buildinf:"
ALIGN = 16
HEADER = 32
FLAG_BIG_ENDIAN = 0x1
FLAG_INLINE = 0x2


def read_buildinfo(exe: Exe) -> BuildInfo | None:
    """The binary's build info, or None when it has none (not a Go binary)."""
    found = _find_header(exe)
    if found is None:
        return None
    addr = found
    header = exe.read_addr(addr, HEADER, "build info header")
    flags = header[15]
    if flags & FLAG_INLINE:
        layout = "inline"
        vers, nxt = _inline_string(exe, addr + HEADER, "Go version")
        mod, _ = _inline_string(exe, nxt, "module info")
    else:
        layout = "pointer"
        ptr = header[14]
        if ptr not in (4, 8):
            raise exe.fail(f"corrupt build info header: pointer size {ptr}")
        order = "big" if flags & FLAG_BIG_ENDIAN else "little"
        vers = _pointer_string(exe, header[16 : 16 + ptr], ptr, order, "Go version")
        mod = _pointer_string(exe, header[16 + ptr : 16 + 2 * ptr], ptr, order, "module info")
    if not vers:
        raise exe.fail("build info header found but the Go version string is empty")
    # The module text is framed by two 16-byte sentinels; without them there is none.
    mod = mod[16:-16] if len(mod) >= 33 and mod[-17] == 0x0A else b""
    info = parse_modinfo(mod, exe.path)
    return BuildInfo(
        go_version=vers.decode("utf-8", "replace"),
        path=info.path,
        main=info.main,
        deps=info.deps,
        settings=info.settings,
        layout=layout,
    )


def _find_header(exe: Exe) -> int | None:
    start, size = exe.data_start
    if size == 0:
        return None
    end = start + size
    start = (start + ALIGN - 1) & ~(ALIGN - 1)
    if start >= end:
        return None
    loc = exe.locate(start)
    if loc is None:
        if exe.section(".go.buildinfo") or exe.section("__go_buildinfo"):
            raise exe.fail(f"build info section at {start:#x} is not mapped by any segment")
        return None
    off, avail = loc
    stop = off + min(end - start, avail)
    pos = off
    while pos < stop:
        i = exe.mm.find(MAGIC, pos, stop)
        if i < 0:
            return None
        rel = i - off
        if rel % ALIGN:
            pos = off + (rel + ALIGN - 1) // ALIGN * ALIGN
            continue
        if end - start - rel < HEADER:
            return None
        return start + rel
    return None


def _inline_string(exe: Exe, addr: int, what: str) -> tuple[bytes, int]:
    loc = exe.locate(addr)
    if loc is None:
        raise exe.fail(f"build info {what}: address {addr:#x} is outside every segment")
    off, avail = loc
    length = shift = n = 0
    while True:
        if n >= min(avail, 10):
            raise exe.fail(f"build info {what}: length varint is truncated or too long", off)
        b = exe.mm[off + n]
        n += 1
        length |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            break
    return exe.read_addr(addr + n, length, f"build info {what}"), addr + n + length


def _pointer_string(exe: Exe, raw: bytes, ptr: int, order: str, what: str) -> bytes:
    """Follow a pointer to a Go string header {data, len} and read the string."""
    hdr_addr = int.from_bytes(raw, order)  # type: ignore[arg-type]
    hdr = exe.read_addr(hdr_addr, 2 * ptr, f"build info {what} string header")
    data = int.from_bytes(hdr[:ptr], order)  # type: ignore[arg-type]
    length = int.from_bytes(hdr[ptr:], order)  # type: ignore[arg-type]
    return exe.read_addr(data, length, f"build info {what}")


def parse_modinfo(data: bytes, source: str) -> BuildInfo:
    """Parse module lines (path/mod/dep/=>/build) like runtime/debug.ParseBuildInfo."""
    path = ""
    main = Module()
    deps: list[Module] = []
    settings: list[BuildSetting] = []
    last: str | int | None = None  # "main", an index into deps, or None
    lines = data.split(b"\n")
    lines.pop()  # text after the last newline is ignored, as Go does

    def fail(lineno: int, why: str) -> ParseError:
        return _line_error(source, lineno, why)

    def module(lineno: int, elem: list[bytes]) -> Module:
        if len(elem) not in (2, 3):
            raise fail(lineno, f"expected 2 or 3 columns; got {len(elem)}")
        return Module(_s(elem[0]), _s(elem[1]), _s(elem[2]) if len(elem) == 3 else "")

    for lineno, line in enumerate(lines, 1):
        if line.startswith(b"path\t"):
            path = _s(line[5:])
        elif line.startswith(b"mod\t"):
            main = module(lineno, line[4:].split(b"\t"))
            last = "main"
        elif line.startswith(b"dep\t"):
            deps.append(module(lineno, line[4:].split(b"\t")))
            last = len(deps) - 1
        elif line.startswith(b"=>\t"):
            elem = line[3:].split(b"\t")
            if len(elem) != 3:
                raise fail(lineno, f"expected 3 columns for replacement; got {len(elem)}")
            if last is None:
                raise fail(lineno, "replacement with no module on previous line")
            rep = Module(_s(elem[0]), _s(elem[1]), _s(elem[2]))
            if last == "main":
                main = Module(main.path, main.version, main.sum, rep)
            else:
                assert isinstance(last, int)
                d = deps[last]
                deps[last] = Module(d.path, d.version, d.sum, rep)
            last = None
        elif line.startswith(b"build\t"):
            settings.append(_setting(line[6:], lineno, source))
    return BuildInfo("", path, main, tuple(deps), tuple(settings))


def _line_error(source: str, lineno: int, why: str) -> ParseError:
    return ParseError(source, f"corrupt Go build info: line {lineno}: {why}")


def _setting(kv: bytes, lineno: int, source: str) -> BuildSetting:
    """One `build KEY=VALUE` line; keys and values may be Go-quoted."""

    def err(lineno: int, why: str) -> ParseError:
        return _line_error(source, lineno, why)

    if not kv:
        raise err(lineno, "build line missing '='")
    if kv[:1] == b"=":
        raise err(lineno, "build line with missing key")
    if kv[:1] in (b"`", b'"'):
        got = quoted_prefix(kv)
        if got is None:
            raise err(lineno, "invalid quoted key in build line")
        key_b, n = got
        if n == len(kv):
            raise err(lineno, "build line missing '=' after quoted key")
        if kv[n : n + 1] != b"=":
            raise err(lineno, "unexpected character after quoted key")
        raw = kv[n + 1 :]
    else:
        key_b, sep, raw = kv.partition(b"=")
        if not sep:
            raise err(lineno, "build line missing '=' after key")
        if not key_b or any(c in key_b for c in b'= \t\r\n"`'):
            raise err(lineno, f"unquoted key {_s(key_b)!r} must be quoted")
    value = b""
    if raw[:1] in (b"`", b'"'):
        got_v = unquote(raw)
        if got_v is None:
            raise err(lineno, "invalid quoted value in build line")
        value = got_v
    elif raw:
        if any(c in raw for c in b' \t\r\n"`'):
            raise err(lineno, f"unquoted value {_s(raw)!r} must be quoted")
        value = raw
    return BuildSetting(_s(key_b), _s(value))


def _s(b: bytes) -> str:
    return b.decode("utf-8", "replace")
