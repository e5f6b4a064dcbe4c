"""Goroutine dumps in a supervised command's output, read by the project's dump parser.

A Go process asked for a dump prints `SIGQUIT: quit`, a crashing one `panic: ...` or
`fatal error: ...`, then its goroutines. The output is cut at those lines into one
piece per dump (several processes may print theirs on the same stream), and each piece
goes through `godiag.formats.goroutines.parse` and `godiag.analysis.goroutines.analyze`.
Parsing is lenient: the dump sits among other output, and a process killed while
printing leaves a cut-off goroutine; both end up in the analysis' warnings and errors.
A piece the parser refuses (no goroutine at all, say `GOTRACEBACK=none`) becomes a
warning of the run, never an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from godiag.analysis.goroutines import analyze
from godiag.errors import ParseError
from godiag.formats.goroutines import parse

# What the Go runtime prints before the goroutines. `panic:` and `fatal error:` start
# a line (a re-panic's `panic:` is indented and belongs to the same dump); `SIGQUIT:
# quit` may follow output that did not end its line (or a terminal's `^\` echo).
START = re.compile(r"SIGQUIT: quit$|^panic: |^fatal error: ", re.M)
MAX_TEXT = 200_000  # characters of a dump kept verbatim in the run document


@dataclass(frozen=True)
class Found:
    """One dump: its text (possibly shortened) and its godiag.goroutines/v1 analysis."""

    text: str
    analysis: dict[str, Any]


def pieces(text: str) -> list[str]:
    """`text` cut at each dump start; text before the first start is not a dump."""
    starts = [m.start() for m in START.finditer(text)]
    if not starts:
        return []
    ends = [*starts[1:], len(text)]
    return [text[a:b].rstrip() + "\n" for a, b in zip(starts, ends, strict=True)]


def read(piece: str, source: str) -> Found:
    """Parse and analyse one piece; ParseError when it holds no readable goroutine."""
    dump = parse(piece.encode(), source, strict=False)
    return Found(piece[:MAX_TEXT], analyze(dump, source))


def find(text: str, source: str) -> tuple[list[Found], list[str]]:
    """Every dump of `text`, and a warning for each piece that could not be read."""
    found: list[Found] = []
    warnings: list[str] = []
    for piece in pieces(text):
        try:
            found.append(read(piece, source))
        except ParseError as exc:
            first = piece.split("\n", 1)[0][:120]
            warnings.append(f"goroutine dump after `{first}` not read: {exc}")
    return found, warnings
