"""Terminal output through rich; the only place (with html) that draws for people."""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterable
from types import ModuleType
from typing import Any

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType
from rich.containers import Lines
from rich.measure import Measurement
from rich.segment import Segment
from rich.text import Text

# Unwrapped output's width (a pipe, a file, -o): rich needs one; tables take their natural
# width below it, and console.print never wraps (soft wrap) whatever a line's length
UNWRAPPED = 4000

# A location people click or grep: `FUNCTION (FILE:LINE)` (one token with its space) or
# `FILE:LINE[:COL]`. A path with spaces in it is not recognised (and may wrap).
LOCATION = re.compile(r"\S+ \([^\s()]+:\d+(?::\d+)?\)|[^\s()]+\.\w+:\d+(?::\d+)?")
# Stands for a space inside a location while rich wraps: not whitespace, so rich's word
# splitting keeps the token whole, and one cell wide, so the line's width is unchanged
_GLUE = "\ue000"


class _Located(Text):
    """Text that a terminal's word wrap never breaks inside a location token: an editor's
    or a terminal's click-to-open needs `main.(*T).watch (/src/main.go:78)` on one line."""

    __slots__ = ()

    @classmethod
    def of(cls, text: Text) -> _Located:
        out = cls(text.plain, style=text.style, justify=text.justify, overflow=text.overflow,
                  no_wrap=text.no_wrap, end=text.end, tab_size=text.tab_size)  # fmt: skip
        out.spans = text.spans
        return out

    def wrap(
        self,
        console: Console,
        width: int,
        *,
        justify: Any = None,
        overflow: Any = None,
        tab_size: int = 8,
        no_wrap: bool | None = None,
    ) -> Lines:
        plain = self.plain
        longest = max((cell_len(m.group()) for m in LOCATION.finditer(plain)), default=0)
        if not longest or no_wrap or (longest > width and width < console.width):
            # no location; or one wider than a table cell, which nothing may pass the
            # edge of: rich's wrap then breaks at its space, else folds it
            return super().wrap(console, width, justify=justify, overflow=overflow,
                                tab_size=tab_size, no_wrap=no_wrap)  # fmt: skip
        glued = self.copy()
        glued.plain = LOCATION.sub(lambda m: m.group().replace(" ", _GLUE), plain)
        if longest <= width:
            lines = Text.wrap(glued, console, width, justify=justify, overflow=overflow,
                              tab_size=tab_size, no_wrap=no_wrap)  # fmt: skip
        else:
            # a line of its own wider than the screen: folding would cut it, so it stays
            # whole (the console does not crop, see _Console) and the terminal wraps it
            # without a newline: one logical line still, for click-to-open and copy
            lines = Lines()
            for para in glued.split(allow_blank=True):
                for piece in para.divide(_breaks(para.plain, width)):
                    piece.rstrip()
                    lines.append(piece)
        for line in lines:
            line.plain = line.plain.replace(_GLUE, " ")  # same length: styles stay put
        return lines

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        """A table column holding a location is made at least as wide as it, room allowing."""
        m = super().__rich_measure__(console, options)
        longest = max((cell_len(t.group()) for t in LOCATION.finditer(self.plain)), default=0)
        return Measurement(max(m.minimum, min(longest, m.maximum)), m.maximum)


def _breaks(text: str, width: int) -> list[int]:
    """Where a greedy word wrap to `width` breaks `text`; a word wider than `width` gets a
    line of its own, unbroken."""
    out: list[int] = []
    start = 0
    for m in re.finditer(r"\S+", text):
        if m.start() > start and cell_len(text[start : m.end()]) > width:
            out.append(m.start())
            start = m.start()
    return out


class _Console(Console):
    """rich's Console, but a reader that went away (`godiag ... | head`) is no finding:
    rich ends the process with exit 1 there, the exit of "found something"; raised as the
    error it is, it reaches the CLI's one catch of a closed pipe (exit 0). Its text keeps
    location tokens whole (`_Located`), whoever built it: a view's string or Text."""

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return _Located.of(super().render_str(text, **kwargs))

    def render(
        self, renderable: RenderableType, options: ConsoleOptions | None = None
    ) -> Iterable[Segment]:
        if type(renderable) is Text:
            renderable = _Located.of(renderable)
        return super().render(renderable, options)

    def print(self, *objects: Any, **kwargs: Any) -> None:
        # never crop: a line that _Located left longer than the screen (one location wider
        # than it) is shown whole; everything else is already wrapped to the width
        kwargs.setdefault("crop", False)
        super().print(*objects, **kwargs)


def _is_terminal(target: Any) -> bool:
    return bool(hasattr(target, "isatty") and target.isatty())


def console_for(
    file: Any = None, *, color: bool = True, width: int | None = None, stderr: bool = False
) -> Console:
    """A console writing to `file` (stdout, or stderr): wrapped to the terminal's width on a
    terminal, never wrapped anywhere else (a pipe, a file, a log, CI), whatever COLUMNS says:
    what reads it there is grep or an editor, and a location split in two is lost to both."""
    target = file if file is not None else (sys.stderr if stderr else sys.stdout)
    unwrapped = width is None and not _is_terminal(target)
    return _Console(
        file=target,
        no_color=not color,
        highlight=False,
        width=UNWRAPPED if unwrapped else width,
        color_system="auto" if color else None,
        soft_wrap=unwrapped,
    )


def print_view(view: ModuleType, doc: dict[str, Any], *, color: bool, verbose: bool) -> None:
    view.render_text(doc, console_for(color=color), verbose=verbose)


def render_to_string(
    view: ModuleType, doc: dict[str, Any], *, color: bool, width: int | None, verbose: bool
) -> str:
    """The text view as a string (`-o FILE`, tests): never wrapped, as any output that is
    not a terminal, unless `width` asks for it."""
    buf = io.StringIO()
    console = _Console(
        file=buf,
        no_color=not color,
        highlight=False,
        width=width or UNWRAPPED,
        color_system="standard" if color else None,
        force_terminal=color,
        soft_wrap=width is None,
    )
    view.render_text(doc, console, verbose=verbose)
    return buf.getvalue()
