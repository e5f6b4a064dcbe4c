"""Durations as every command and godiag.toml take them: Go's notation, or seconds.

`500ms`, `5s`, `1.5s`, `1m30s`, `1h` read as Go's time.ParseDuration reads them (units ns,
us/µs, ms, s, m, h; one or more number-unit parts; decimals allowed), and a bare number
is seconds (`90`, `2.5`), as the commands took it before. Negative durations are refused
here: no caller has a use for one. Each caller keeps its own bounds (a window's minimum,
a profile's maximum) and checks them on the seconds this returns.
"""

from __future__ import annotations

import math
import re

from godiag.errors import GodiagError, UsageError

_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,  # U+00B5 micro sign, as Go prints it
    "μs": 1e-6,  # U+03BC Greek mu, which Go accepts too
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_PART = re.compile(rf"({_NUMBER})(ns|us|µs|μs|ms|s|m|h)")
_BARE = re.compile(rf"[+]?{_NUMBER}")
EXAMPLES = "e.g. 500ms, 5s, 1m30s, 1h"


def parse_duration(
    text: str,
    what: str,
    *,
    bare_seconds: bool = True,
    error: type[GodiagError] = UsageError,
) -> float:
    """Seconds of a duration; `what` names the option or key in the one-line error, and
    `error` is its class (UsageError for options, ConfigError for godiag.toml)."""
    t = text.strip()
    if t.startswith("-"):
        raise error(f"{what}: {text!r} is negative")
    if bare_seconds and _BARE.fullmatch(t):
        return float(t)
    body = t.removeprefix("+")
    if body == "0":  # Go's one unit-less duration
        return 0.0
    pos, total = 0, 0.0
    for m in _PART.finditer(body):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if not body or pos != len(body):
        also = " or a number of seconds" if bare_seconds else ""
        raise error(f"{what}: {text!r} is not a duration ({EXAMPLES}{also})")
    if not math.isfinite(total):
        raise error(f"{what}: {text!r} is too long")
    return total


def format_duration(seconds: float) -> str:
    """Go's notation of a duration (`1h2m3.5s`, `500ms`, `0s`), to the nanosecond."""
    if seconds < 0:
        raise ValueError("negative duration")
    ns = round(seconds * 1e9)
    if ns == 0:
        return "0s"
    if ns < 1_000_000_000:  # below a second: the largest unit that reads as at least 1
        for unit, size in (("ms", 1_000_000), ("us", 1_000), ("ns", 1)):
            if ns >= size:
                return _decimal(ns, size) + unit
    hours, rest = divmod(ns, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    out = f"{hours}h" if hours else ""
    if hours or minutes:
        out += f"{minutes}m"
    return out + _decimal(rest, 1_000_000_000) + "s"


def _decimal(value: int, size: int) -> str:
    whole, frac = divmod(value, size)
    if not frac:
        return str(whole)
    digits = str(frac).rjust(len(str(size)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}"
