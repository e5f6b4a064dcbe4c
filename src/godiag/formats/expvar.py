"""expvar (/debug/vars) JSON -> a checked dict: must be an object; memstats when present."""

from __future__ import annotations

import json
from typing import Any

from godiag.errors import ParseError

MAX_BYTES = 64 * 1024 * 1024
MEMSTATS_KEYS = ("HeapInuse", "HeapAlloc", "HeapObjects", "NumGC", "Sys", "GCCPUFraction", "NextGC")


def parse(data: bytes, source: str) -> dict[str, Any]:
    if len(data) > MAX_BYTES:
        raise ParseError(source, f"expvar document larger than {MAX_BYTES >> 20} MB")
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise ParseError(source, f"expvar is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise ParseError(source, "expvar must be a JSON object")
    mem = doc.get("memstats")
    if mem is not None and not isinstance(mem, dict):
        raise ParseError(source, "expvar memstats must be an object")
    cmd = doc.get("cmdline")
    if cmd is not None and not (isinstance(cmd, list) and all(isinstance(c, str) for c in cmd)):
        raise ParseError(source, "expvar cmdline must be a list of strings")
    return doc


def memstats(doc: dict[str, Any]) -> dict[str, float]:
    """The MemStats numbers godiag reports, ignoring non-numeric values."""
    mem = doc.get("memstats") or {}
    return {
        k: float(mem[k])
        for k in MEMSTATS_KEYS
        if isinstance(mem.get(k), int | float) and not isinstance(mem.get(k), bool)
    }
