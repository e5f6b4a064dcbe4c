"""Goroutine dumps as immutable values: what the parsers produce and analysis consumes.

The parsers build tens of thousands of these per dump, so frame tuples are shared
between goroutines whose stack text is identical (see formats/goroutine_text.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Frame:
    """One call frame: `function(args)` at `file:line` (+offset when the runtime printed it)."""

    function: str
    args: str
    file: str
    line: int
    offset: int | None = None


@dataclass(frozen=True, slots=True)
class CreatedBy:
    """The `created by F [in goroutine N]` trailer of a goroutine."""

    function: str
    file: str
    line: int
    goroutine: int | None = None


@dataclass(frozen=True, slots=True)
class Ancestor:
    """An `[originating from goroutine N]` block (GODEBUG=tracebackancestors)."""

    id: int
    frames: tuple[Frame, ...]
    created_by: CreatedBy | None = None
    frames_elided: bool = False


@dataclass(frozen=True)
class Goroutine:
    """A goroutine (debug=2, traceback) or a record of `count` identical ones (debug=1).

    `state` is the status as printed (`chan send`, `running`, `semacquire`...);
    `wait_minutes` is 0 when the runtime printed none (it only prints >= 1 minute).
    """

    id: int | None
    state: str
    frames: tuple[Frame, ...]
    wait_minutes: int = 0
    locked_to_thread: bool = False
    leaked: bool = False
    durable: bool = False
    labels: tuple[tuple[str, str], ...] = ()
    frames_elided: bool = False
    created_by: CreatedBy | None = None
    ancestors: tuple[Ancestor, ...] = ()
    stack_unavailable: bool = False
    count: int = 1
    line: int = 0  # line of the header in the input (1-based), for messages
    cut_off: bool = False  # the input ended inside this goroutine: frames are incomplete

    @property
    def created_by_goroutine(self) -> int | None:
        return self.created_by.goroutine if self.created_by else None


_DEFAULTS = {
    f: getattr(Goroutine, f) for f in Goroutine.__dataclass_fields__ if hasattr(Goroutine, f)
}


def fast_goroutine(values: dict[str, Any]) -> Goroutine:
    """Build a Goroutine from complete field values without the frozen __init__.

    The generated __init__ of a frozen dataclass sets each field through
    object.__setattr__, which costs ~3 us per goroutine: a third of the parse time of
    a 100k-goroutine dump. Parsers that already hold validated values use this.
    """
    g: Goroutine = object.__new__(Goroutine)
    d = g.__dict__
    d.update(_DEFAULTS)
    d.update(values)
    return g


@dataclass(frozen=True, slots=True)
class ParseIssue:
    """A problem found while parsing: where (1-based line) and what."""

    line: int
    message: str


@dataclass(frozen=True)
class Dump:
    """A parsed goroutine dump.

    `format` is one of debug2, traceback, panic, race, debug1, proto. `header` holds the
    text that explains the dump (`panic: ...`, `fatal error: ...`, `SIGQUIT: quit`,
    `WARNING: DATA RACE` summary); `total` is the number of goroutines (sum of counts, or
    what `goroutine profile: total N` announced). `errors` lists goroutines skipped in
    lenient mode; `warnings` what the reader should know (a cut-off tail, repeated ids).
    """

    format: str
    goroutines: tuple[Goroutine, ...]
    header: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    errors: tuple[ParseIssue, ...] = ()
    total: int = 0
    truncated_at: int | None = None
    extra: dict[str, str] = field(default_factory=dict)
