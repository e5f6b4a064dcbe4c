"""Value formatting like pprof's text reports (one unit for the whole table, chosen by the total)."""

from __future__ import annotations

_TIME = [("ns", 1), ("us", 1e3), ("ms", 1e6), ("s", 1e9), ("mins", 60e9), ("hrs", 3600e9)]
_BYTES = [("B", 1), ("kB", 1024), ("MB", 1024**2), ("GB", 1024**3), ("TB", 1024**4), ("PB", 1024**5)]
_BASE = {"nanoseconds": (_TIME, 1), "microseconds": (_TIME, 1e3), "milliseconds": (_TIME, 1e6),
         "seconds": (_TIME, 1e9), "bytes": (_BYTES, 1), "kilobytes": (_BYTES, 1024),
         "megabytes": (_BYTES, 1024**2)}  # fmt: skip


def pick_unit(unit: str, total: int) -> tuple[str, float]:
    """(suffix, divisor) so the total reads as at least 1 in the largest fitting unit."""
    if unit not in _BASE:
        return ("", 1.0)
    scale, mult = _BASE[unit]
    base = abs(total) * mult
    chosen = scale[0]
    for name, div in scale:
        if base >= div:
            chosen = (name, div)
    return chosen[0], chosen[1] / mult


def fmt_value(v: int, suffix: str, div: float) -> str:
    text = f"{v / div:.2f}".removesuffix(".00")
    if text in ("0", "-0"):
        return "0"
    return text + suffix


def percent(v: int, total: int) -> str:
    ratio = abs(v / total) * 100 if total else 0.0
    if 99.95 <= ratio <= 100.05:
        return "100%"
    if ratio >= 1.0:
        return f"{ratio:.2f}%"
    return f"{ratio:.2g}%"
