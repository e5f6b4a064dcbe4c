"""Terminal output through rich; the only place (with html) that draws for people."""

from __future__ import annotations

import io
import os
import sys
from types import ModuleType
from typing import Any

from rich.console import Console

# Piped output's width: wide enough that no evidence line wraps (tables take their natural
# width, not this); a file is read with an editor or grep, not in a terminal's columns
UNWRAPPED = 4000


class _Console(Console):
    """rich's Console, but a reader that went away (`godiag ... | head`) is no finding:
    rich ends the process with exit 1 there, the exit of "found something"; raised as the
    error it is, it reaches the CLI's one catch of a closed pipe (exit 0)."""

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError


def console_for(
    file: Any = None, *, color: bool = True, width: int | None = None, stderr: bool = False
) -> Console:
    target = file if file is not None else (sys.stderr if stderr else sys.stdout)
    if width is None and not (hasattr(target, "isatty") and target.isatty()):
        # Piped into a file, a log or CI: rich would wrap at 80 columns and split the
        # file:line evidence people grep for; keep lines whole instead (COLUMNS decides
        # when set).
        width = int(os.environ.get("COLUMNS", "") or UNWRAPPED)
    return _Console(
        file=target,
        no_color=not color,
        highlight=False,
        width=width,
        color_system="auto" if color else None,
        soft_wrap=False,
    )


def print_view(view: ModuleType, doc: dict[str, Any], *, color: bool, verbose: bool) -> None:
    view.render_text(doc, console_for(color=color), verbose=verbose)


def render_to_string(
    view: ModuleType, doc: dict[str, Any], *, color: bool, width: int | None, verbose: bool
) -> str:
    buf = io.StringIO()
    console = Console(
        file=buf,
        no_color=not color,
        highlight=False,
        width=width or 120,
        color_system="standard" if color else None,
        force_terminal=color,
    )
    view.render_text(doc, console, verbose=verbose)
    return buf.getvalue()
