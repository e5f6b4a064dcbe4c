"""Views of `godiag.goroutines/v1`: terminal (suspects first, then groups) and HTML."""

from __future__ import annotations

import os
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from godiag.words import many

TEMPLATE = "goroutines.html.j2"
COMPACT_FRAMES = 4  # frames shown per group without --verbose


def _short(loc: dict[str, Any] | None) -> str:
    if loc is None:
        return "?"
    return f"{loc['function']} {os.path.basename(loc['file'])}:{loc['line']}"


def _minutes(g: dict[str, Any]) -> str:
    w = g["wait_minutes"]
    if w["max"] == 0:
        return ""
    return f"{w['max']} min" if w["min"] == w["max"] else f"{w['min']}-{w['max']} min"


def _frame_line(f: dict[str, Any]) -> str:
    text = escape(_short(f))
    return f"[dim]{text}[/]" if f.get("stdlib") else text


def _compact(g: dict[str, Any], verbose: bool) -> list[str]:
    """The top frames, and the user frame even when it sits deeper in the stack."""
    frames = g["frames"]
    if verbose or len(frames) <= COMPACT_FRAMES:
        return [_frame_line(f) for f in frames]
    uf = g["user_frame"]
    idx = next((i for i, f in enumerate(frames) if uf and f["function"] == uf["function"]), 0)
    if idx < COMPACT_FRAMES:
        shown = [_frame_line(f) for f in frames[:COMPACT_FRAMES]]
        hidden = len(frames) - COMPACT_FRAMES
    else:
        shown = [_frame_line(f) for f in frames[:2]]
        shown.append(f"[dim]... {idx - 2} frames ...[/]")
        shown.append(_frame_line(frames[idx]))
        hidden = len(frames) - idx - 1
    if hidden > 0:
        shown.append(f"[dim]... {hidden} more frames (-v shows all)[/]")
    return shown


def render_text(doc: dict[str, Any], console: Console, verbose: bool = False) -> None:
    groups = doc["groups"]
    diffing = "diff" in doc
    # A diff also lists the baseline's groups that are gone (count 0): they are not
    # groups of this dump ("13 goroutines in 14 groups" read as a miscount).
    live = sum(1 for g in groups if g["count"])
    title = f"{many(doc['total'], 'goroutine')} in {many(live, 'group')} ({doc['format']})"
    if diffing:
        d = doc["diff"]
        title += f", {d['growth']:+d} since the baseline ({d['before']['total']})"
        if live < len(groups):
            title += f", {len(groups) - live} baseline group(s) gone"
    console.print(f"[bold]{escape(title)}[/] from {escape(doc['source'])}")
    for h in doc.get("header", []):
        console.print(f"  [red]{escape(h)}[/]")
    for w in doc.get("warnings", []):
        console.print(f"  [yellow]warning:[/] {escape(w)}")
    for e in doc.get("errors", []):
        console.print(f"  [yellow]skipped line {e['line']}:[/] {escape(e['message'])}")
    if doc["suspects"]:
        console.print("\n[bold red]Suspects[/]")
        # two columns, so that a long reason or place wraps under itself; the place is
        # said once, on its own line, not inside the reason
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column(overflow="fold")
        for s in doc["suspects"]:
            g = groups[s["group"]]
            head = Text("  ")
            head.append(s.get("kind", "suspect"), style="red")
            head.append(f" (group {s['group'] + 1})")
            body = Text(s["reason"])
            place = g["user_frame"] or (g["frames"][0] if g["frames"] else None)
            body.append("\nat " + _short(place), style="dim")
            grid.add_row(head, body)
        console.print(grid)
    cats = ", ".join(f"{k} {v}" for k, v in doc.get("categories", {}).items() if v)
    if cats:
        console.print(f"\n[dim]by category: {escape(cats)}[/]")
    console.print()
    limit = len(groups) if verbose else min(len(groups), 30)
    for i, g in enumerate(groups[:limit]):
        growth = f" [bold]{g['growth']:+d}[/]" if diffing else ""
        mins = _minutes(g)
        extra = f", {mins}" if mins else ""
        if g.get("locked_to_thread"):
            extra += ", locked to thread"
        state = g["state"] or "?"
        uf = g["user_frame"]
        console.print(
            f"[bold]{i + 1:>3}.[/] [bold cyan]{g['count']:>6}[/]{growth}  "
            f"{escape(state)} [dim]({g['category']}{escape(extra)})[/]  "
            + (f"[green]{escape(_short(uf))}[/]" if uf else "[dim](no user code)[/]")
        )
        for line in _compact(g, verbose):
            console.print("        " + line)
        if g["created_by"]:
            console.print(f"        [dim]created by[/] {escape(_short(g['created_by']))}")
    if limit < len(groups):
        rest = sum(g["count"] for g in groups[limit:])
        console.print(
            f"[dim]... {len(groups) - limit} more groups ({many(rest, 'goroutine')}); "
            "-v shows all[/]"
        )
