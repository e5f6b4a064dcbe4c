"""The `goroutine N [...]:` header line and the text lines that explain a dump.

Header grammar, as printed by runtime.goroutineheader (Go 1.17 to 1.27):

    goroutine ID [gp=0x.. m=N mp=0x.. | m=nil] [STATUS[ (leaked)][ (scan)][ (durable)]
        [, N minutes][, locked to thread][, synctest bubble N][ labels:{K: V, ...}]]:

Go 1.26 prints pprof labels inside the brackets (` labels:{"k": "v"}`); a `{...}` group
after the closing bracket is accepted too. Parsed with string methods only: this runs
once per goroutine, and dumps have hundreds of thousands of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any


@cache
def _label_re() -> Any:
    """Compiled on first use: labels are rare, and `re` is slow to import."""
    import re

    return re.compile(r'\s*("(?:[^"\\]|\\.)*"|[^:,]*):\s*("(?:[^"\\]|\\.)*"|[^,]*)\s*(?:,|$)')


# Lines around a dump that say why it was printed (kept in Dump.header).
_CONTEXT_PREFIXES = (
    "panic: ",
    "fatal error: ",
    "SIGQUIT: quit",
    "SIGABRT: abort",
    "[signal ",
    "runtime: ",
    "WARNING: DATA RACE",
    "exit status ",
    "running tests:",
    "Found ",
    "FAIL",
    # the first line of the dumps `godiag run --leaks` takes when a test binary's tests end
    "godiag: goroutines left after the tests",
)


_DURABLE_REASONS = ("chan receive", "chan send", "select", "sync.WaitGroup.Wait")


@dataclass(frozen=True, slots=True)
class Header:
    id: int
    state: str
    minutes: int
    locked: bool
    leaked: bool
    durable: bool
    labels: tuple[tuple[str, str], ...]


def _unquote(s: str) -> str:
    s = s.strip()
    if len(s) >= 2 and s[0] == '"' and s[-1] == '"':
        import json

        try:
            v = json.loads(s)
            return v if isinstance(v, str) else s
        except ValueError:
            return s[1:-1]
    return s


def parse_labels(text: str) -> tuple[tuple[str, str], ...]:
    """`"k": "v", k2: v2` (runtime quoting) or a JSON object body -> pairs."""
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _label_re().match(text, pos)
        if m is None or m.end() == pos:
            break
        out.append((_unquote(m.group(1)), _unquote(m.group(2))))
        pos = m.end()
    return tuple(out)


def parse_header(line: str) -> Header | None:
    """Parse a header line, or None when `line` is not one."""
    if not line.startswith("goroutine "):
        return None
    line = line.rstrip()
    if not line.endswith(":"):
        return None
    sp = line.find(" ", 10)
    if sp < 0:
        return None
    gid = line[10:sp]
    if not gid.isdigit() or not gid.isascii():
        return None
    open_ = line.find("[", sp)
    if open_ < 0:
        return None
    between = line[sp + 1 : open_]
    if between and not (between.startswith(("gp=", "m=")) and between.endswith(" ")):
        return None
    close = line.rfind("]")
    if close < open_:
        return None
    content = line[open_ + 1 : close]
    after = line[close + 1 : -1]
    labels: tuple[tuple[str, str], ...] = ()
    k = content.find(" labels:{")
    if k >= 0 and content.endswith("}"):
        labels = parse_labels(content[k + 9 : -1])
        content = content[:k]
    if after:
        after = after.strip()
        if not (after.startswith("{") and after.endswith("}")):
            return None
        labels = parse_labels(after[1:-1])
    parts = content.split(", ")
    status = parts[0]
    leaked = durable = locked = False
    if " (" in status:
        # "chan receive (durable)" is itself a wait reason; " (durable)" a flag otherwise
        if status.endswith(" (durable)") and status[:-10] not in _DURABLE_REASONS:
            status = status[:-10]
            durable = True
        if status.endswith(" (scan)"):
            status = status[:-7]
        if status.endswith(" (leaked)"):
            leaked = True
            status = status[:-9]
        if status.endswith("(durable)"):
            durable = True
    minutes = 0
    for part in parts[1:]:
        if part.endswith(" minutes"):
            num = part[:-8]
            if num.isdigit():
                minutes = int(num)
        elif part == "locked to thread":
            locked = True
    return Header(int(gid), status, minutes, locked, leaked, durable, labels)


def is_context_line(line: str) -> bool:
    s = line.strip()
    return (
        s.startswith(_CONTEXT_PREFIXES)
        or "all goroutines are asleep" in s
        or s.endswith("SIGQUIT: quit")
    )


PANIC = "panic: "
FATAL = "fatal error: "
_RECOVERED = " [recovered]"
_REPANICKED = " [recovered, repanicked]"


def crash_title(lines: Iterable[str]) -> str | None:
    """The crash that the lines printed before a dump report, as one line that carries its
    prefix (`panic: `, `fatal error: `) once; None when they report no crash.

    `lines` are the runtime's own (a dump's `header`, or the output from a `panic:` line
    on). A chain of panics (runtime.printpanics: the oldest first, each later one on a
    tab-indented `panic:` line) is named by the last one, the panic the program died of,
    followed by the earlier values. Reading stops at the first blank line after the crash
    line: the goroutines follow it. An earlier `X [recovered]` directly followed by `X`
    is one panic recovered and raised again: Go 1.25+ prints it as `X [recovered,
    repanicked]`, and so does the title, for every Go version. A tab-indented line that
    is not a `panic:` continues a multi-line panic value (the runtime indents its lines).
    A `fatal error:` is the crash, with the panics it happened during.
    """
    panics: list[str] = []
    fatal: str | None = None
    in_value = False  # the line before was a panic's value
    for raw in lines:
        s = raw.strip()
        if not s and (panics or fatal):
            break  # the blank line before the goroutines: their frames are indented too
        if s.startswith(PANIC):
            panics.append(s[len(PANIC) :])
        elif s.startswith(FATAL):
            fatal = fatal or s[len(FATAL) :]
        elif in_value and raw.startswith("\t"):
            panics[-1] += " " + s
            continue
        in_value = s.startswith(PANIC)
    panics = _merge_repanics(panics)
    if fatal is not None:
        during = f" (while panicking: {'; '.join(panics)})" if panics else ""
        return FATAL + fatal + during
    if not panics:
        return None
    after = f" (after {'; '.join(panics[:-1])})" if len(panics) > 1 else ""
    return PANIC + panics[-1] + after


def _merge_repanics(values: list[str]) -> list[str]:
    """`X [recovered]` then `X`: one value, recovered and raised again."""
    out: list[str] = []
    for v in values:
        if out and out[-1].endswith(_RECOVERED) and out[-1][: -len(_RECOVERED)] == v:
            out[-1] = v + _REPANICKED
        else:
            out.append(v)
    return out


def split_call(line: str) -> tuple[str, str] | None:
    """`pkg.F(args)` -> ("pkg.F", "args"); None when the line is not a call."""
    if not line.endswith(")"):
        line = line.rstrip()
        if not line.endswith(")"):
            return None
    k = line.rfind("(")
    if k <= 0:
        return None
    name = line[:k]
    if name[0] in " \t" or " " in name:
        return None
    return name, line[k + 1 : -1]


def parse_fileline(raw: str) -> tuple[str, int, int | None] | None:
    """`\tFILE:LINE [+0xOFF] [fp=.. sp=.. pc=..]` -> (file, line, offset)."""
    s = raw.strip()
    offset: int | None = None
    cut = s.find(" +0x")
    if cut >= 0:
        tail = s[cut + 4 :]
        sp = tail.find(" ")
        try:
            offset = int(tail if sp < 0 else tail[:sp], 16)
        except ValueError:
            offset = None
        s = s[:cut]
    else:
        cut = s.find(" fp=")
        if cut >= 0:
            s = s[:cut]
    colon = s.rfind(":")
    if colon > 0:
        num = s[colon + 1 :]
        if num.isdigit() and num.isascii():
            return s[:colon], int(num), offset
    return None
