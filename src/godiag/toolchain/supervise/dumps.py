"""Goroutine dumps found in a supervised command's output, and their analysis.

The project's goroutine parser and analysis (`godiag.formats.goroutines`,
`godiag.analysis.goroutines`) do the real work; they are imported lazily so `run`
keeps working where they are absent. `_fallback_analyze` below is a deliberately
minimal stand-in (headers and the first frames only) to remove once the real
parser is merged.
"""

from __future__ import annotations

import re
from typing import Any

HEADER = re.compile(r"^goroutine (\d+)(?: gp=\S+ m=\S+(?: mp=\S+)?)? \[([^\]]*)\]")
START = re.compile(r"^(SIGQUIT: quit|panic: |fatal error: |goroutine \d+ (gp=\S+ )?.*\[)")
# Lines that end a dump: what the go command or the test runner prints after it.
TRAILER = re.compile(
    r"^(exit status \d+|FAIL\b|ok  \t|signal: |\*\*\* Test killed|--- FAIL|PASS$|godiag: )"
)


def extract(text: str) -> list[str]:
    """The dump-looking blocks of `text` (start marker through the last goroutine)."""
    blocks: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if not START.match(lines[i]):
            i += 1
            continue
        start = i
        j = i + 1
        seen_goroutine = bool(HEADER.match(lines[i]))
        while j < len(lines) and not TRAILER.match(lines[j]):
            if HEADER.match(lines[j]):
                seen_goroutine = True
            elif (
                seen_goroutine
                and lines[j]
                and not lines[j].startswith(("\t", " ", "goroutine ", "created by ", "..."))
                and not _is_frame_call(lines, j)
            ):
                break
            j += 1
        if seen_goroutine:
            blocks.append("\n".join(lines[start:j]).rstrip() + "\n")
        i = max(j, i + 1)
    return blocks


def _is_frame_call(lines: list[str], j: int) -> bool:
    """A function line of a frame: followed by a tab-indented file:line."""
    return j + 1 < len(lines) and lines[j + 1].startswith("\t") and "(" in lines[j]


def analyze(text: str, source: str) -> dict[str, Any]:
    """A godiag.goroutines/v1 document for one dump (real analysis when available)."""
    try:
        from godiag.analysis import goroutines as analysis
        from godiag.formats import goroutines as formats
    except ImportError:
        return _fallback_analyze(text, source)
    try:
        dump = formats.parse(text.encode(), source)  # type: ignore[attr-defined,unused-ignore]
        doc: dict[str, Any] = analysis.analyze(dump, source)  # type: ignore[attr-defined,unused-ignore]
    except Exception as exc:  # the parser's own errors: keep what the fallback can see
        doc = _fallback_analyze(text, source)
        doc["parse_error"] = str(exc)
    return doc


# --- fallback to remove at merge (the real parser replaces it) ---------------------

_CATEGORIES = {
    "chan send": "channel",
    "chan receive": "channel",
    "select": "select",
    "sync.Mutex.Lock": "lock",
    "sync.RWMutex.Lock": "lock",
    "sync.RWMutex.RLock": "lock",
    "semacquire": "lock",
    "sync.WaitGroup.Wait": "waitgroup",
    "sync.Cond.Wait": "cond",
    "sleep": "sleep",
    "IO wait": "io",
    "syscall": "syscall",
    "running": "running",
    "runnable": "runnable",
}


def _frames(lines: list[str], k: int, limit: int = 12) -> tuple[list[dict[str, Any]], int]:
    frames: list[dict[str, Any]] = []
    while k + 1 < len(lines) and lines[k] and not lines[k].startswith("created by "):
        if HEADER.match(lines[k]):
            break
        func = lines[k].rsplit("(", 1)[0] if "(" in lines[k] else lines[k]
        loc = lines[k + 1].strip().split(" ")[0]
        file, _, line = loc.rpartition(":")
        if len(frames) < limit:
            frames.append(
                {"function": func, "file": file, "line": int(line) if line.isdigit() else None}
            )
        k += 2
    return frames, k


def _fallback_analyze(text: str, source: str) -> dict[str, Any]:
    lines = text.splitlines()
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    total = 0
    for i, line in enumerate(lines):
        m = HEADER.match(line)
        if not m:
            continue
        total += 1
        state = m.group(2).split(",")[0].strip()
        frames, k = _frames(lines, i + 1)
        created = None
        if k < len(lines) and lines[k].startswith("created by "):
            cfunc = lines[k][len("created by ") :].split(" in goroutine ")[0]
            created = {"function": cfunc, "file": None, "line": None}
        key = (state, "|".join(f["function"] for f in frames))
        group = groups.get(key)
        if group is None:
            user = next(
                (
                    f
                    for f in frames
                    if not f["function"].startswith(("runtime.", "sync.", "internal/"))
                ),
                None,
            )
            group = {
                "count": 0,
                "state": state,
                "category": _CATEGORIES.get(state, "other"),
                "frames": frames,
                "user_frame": user,
                "created_by": created,
                "ids": [],
            }
            groups[key] = group
        group["count"] += 1
        if len(group["ids"]) < 50:
            group["ids"].append(int(m.group(1)))
    ordered = sorted(groups.values(), key=lambda g: -int(g["count"]))
    return {
        "schema": "godiag.goroutines/v1",
        "source": source,
        "format": "traceback",
        "total": total,
        "groups": ordered,
        "suspects": [],
        "fallback": True,
    }
