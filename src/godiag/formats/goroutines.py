"""One entry point for goroutine dumps: detect the form, hand it to the right parser.

Forms: `debug=1` (`goroutine profile: total N`), and everything textual with
`goroutine N [state]:` headers (debug=2, crash/SIGQUIT tracebacks, panics, race
reports, dumps inside test logs). The proto form (`debug=0`, gzip'd pprof) is read by
the profile module; until it is wired in here, `parse` says so clearly.
"""

from __future__ import annotations

from godiag.errors import ParseError, UnsupportedFormatError
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


def parse(data: bytes, source: str, *, strict: bool = True) -> Dump:
    """Parse a goroutine dump of any supported form.

    strict: a malformed goroutine raises ParseError (with its line); otherwise it is
    skipped and listed in `Dump.errors`. A dump cut off at the end is always returned
    without its incomplete last goroutine, with a warning.
    """
    if data.startswith(_GZIP) or (data[:1] == b"\x0a" and b"\x00" in data[:64]):
        raise UnsupportedFormatError(
            source,
            "proto goroutine profiles (debug=0 / .pb.gz): not yet; "
            "ask the service for ?debug=2 or ?debug=1 instead",
        )
    if not data.strip():
        return Dump(format="debug2", goroutines=(), warnings=("empty input",), total=0)
    if looks_binary(data):
        raise ParseError(source, "binary data, not a goroutine dump", offset=0)
    text = data.decode("utf-8", "replace")
    start = text.lstrip()
    if start.startswith("goroutine profile: total "):
        from godiag.formats import goroutine_debug1

        return goroutine_debug1.parse(start, source, strict=strict)
    from godiag.formats import goroutine_text

    return goroutine_text.parse(text, source, strict=strict)


__all__ = ["ParseError", "UnsupportedFormatError", "looks_binary", "parse"]
