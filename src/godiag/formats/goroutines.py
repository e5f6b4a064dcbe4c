"""One entry point for goroutine dumps: detect the form, hand it to the right parser.

Forms: `debug=1` (`goroutine profile: total N`), and everything textual with
`goroutine N [state]:` headers (debug=2, crash/SIGQUIT tracebacks, panics, race
reports, dumps inside test logs), and the proto form (`debug=0`, gzip'd pprof:
goroutine_proto). Gzip'd input of any form is decompressed first, within the capture
budget.
"""

from __future__ import annotations

from godiag.errors import ParseError, UnsupportedFormatError
from godiag.formats.pprof import gunzip
from godiag.limits import CAPTURE_MB, MB, InFlight
from godiag.model.goroutine import Dump

_GZIP = b"\x1f\x8b"


def looks_binary(data: bytes) -> bool:
    """NULs or mostly non-text bytes in the first 4 KB: not a text dump."""
    head = data[:4096]
    if b"\x00" in head:
        return True
    text = head.decode("utf-8", "replace")
    bad = text.count("\ufffd")
    return bad > max(8, len(text) // 20)


def parse(
    data: bytes,
    source: str,
    *,
    strict: bool = True,
    limit: int | None = None,
    pool: InFlight | None = None,
) -> Dump:
    """Parse a goroutine dump of any supported form.

    strict: a malformed goroutine raises ParseError (with its line); otherwise it is
    skipped and listed in `Dump.errors`. A dump cut off at the end is always returned
    without its incomplete last goroutine, with a warning. Gzip'd input decompresses to
    `limit` bytes at most (default: the capture budget), drawing on `pool` when given: a
    gzip bomb stops there, however it is nested.
    """
    cap = CAPTURE_MB * MB if limit is None else limit
    if data.startswith(_GZIP):
        # a proto profile (debug=0), or a text dump someone gzip'd: bounded as a capture is
        data = gunzip(data, source, cap, pool)
    if not data.strip():
        return Dump(format="debug2", goroutines=(), warnings=("empty input",), total=0)
    if looks_binary(data):
        # the proto form, or binary data of no form here
        from godiag.formats import goroutine_proto

        return goroutine_proto.parse(data, source, limit=cap, pool=pool)
    text = data.decode("utf-8", "replace")
    start = text.lstrip()
    if start.startswith("goroutine profile: total "):
        from godiag.formats import goroutine_debug1

        return goroutine_debug1.parse(start, source, strict=strict)
    from godiag.formats import goroutine_text

    return goroutine_text.parse(text, source, strict=strict)


__all__ = ["ParseError", "UnsupportedFormatError", "looks_binary", "parse"]
