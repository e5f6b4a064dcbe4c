"""The `# runtime.MemStats` block that ends a heap profile written at debug=1.

Every service that serves net/http/pprof serves it (`/debug/pprof/heap?debug=1`), with or
without /metrics or /debug/vars: runtime/pprof's writeHeapInternal prints the legacy text
profile, then `# runtime.MemStats`, then one `# Name = value` line per field (`PauseNs`
and `PauseEnd` as `[n n ...]`). The result has the shape of expvar's `memstats` object,
so a service exposing pprof only is read with the same names as one exposing expvar.
"""

from __future__ import annotations

import re
from typing import Any

from godiag.errors import ParseError

MARK = b"\n# runtime.MemStats\n"
# the block is some forty lines; PauseNs/PauseEnd are 256 numbers of up to 20 digits
MAX_LINES = 64
MAX_LINE = 8192
_LINE = re.compile(r"# ([A-Za-z][A-Za-z0-9]{0,39}) = (.{0,8000})")
_INT = re.compile(r"-?[0-9]{1,20}")
_FLOAT = re.compile(r"-?[0-9]{1,20}(?:\.[0-9]{1,20})?(?:[eE][-+]?[0-9]{1,3})?")
# the fields a diagnosis reads: a block without these is not a MemStats block
NEEDED = ("HeapInuse", "NumGC", "TotalAlloc")


def parse(data: bytes, source: str) -> dict[str, Any]:
    """The MemStats fields of a debug=1 heap profile: ints, floats, lists of ints (PauseNs).
    ParseError when the block is absent (not a heap profile at debug=1) or lacks a field
    a diagnosis reads."""
    at = data.rfind(MARK)
    if at < 0:
        raise ParseError(source, "no '# runtime.MemStats' block (not a heap profile at debug=1)")
    out: dict[str, Any] = {}
    for raw in data[at + len(MARK) :].split(b"\n", MAX_LINES)[:MAX_LINES]:
        m = _LINE.fullmatch(raw[:MAX_LINE].decode("ascii", "replace").rstrip("\r"))
        if m is None:
            continue
        name, value = m.groups()
        if value.startswith("[") and value.endswith("]"):
            items = value[1:-1].split()
            if all(_INT.fullmatch(v) for v in items):
                out[name] = [int(v) for v in items]
        elif _INT.fullmatch(value):
            out[name] = int(value)
        elif _FLOAT.fullmatch(value):
            out[name] = float(value)
    if missing := [k for k in NEEDED if not isinstance(out.get(k), int)]:
        raise ParseError(source, f"MemStats block without {', '.join(missing)}")
    return out
