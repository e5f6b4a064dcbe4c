"""Terminal view of `godiag run` (godiag.run/v1)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

TEMPLATE = "generic.html.j2"
COLORS = {"error": "red", "warning": "yellow", "info": "blue"}


def _exit_line(doc: dict[str, Any]) -> str:
    ex = doc["exit"]
    if ex["ended_by"] == "stall":
        return f"hung (no progress for {doc['stall_s']:g}s); ended by godiag"
    if ex["ended_by"] == "timeout":
        return f"timed out after {doc['timeout_s'] or 0:g}s; ended by godiag"
    if ex["ended_by"] == "interrupted":
        return "interrupted; ended by godiag"
    if ex["signal"]:
        return f"killed by {ex['signal']}"
    line = f"exit status {ex['code']}"
    if ex.get("child_signal"):
        line += f" (its child: {ex['child_signal']})"
    elif ex.get("child_exit_status") is not None:
        line += f" (its child: exit status {ex['child_exit_status']})"
    return line


def render_text(doc: dict[str, Any], console: Console, verbose: bool = False) -> None:
    cmd = " ".join(doc["command"])
    mark = "[red]FAILED[/]" if doc["failed"] else "[green]ok[/]"
    console.print(
        f"godiag run: {mark} {escape(cmd)}: {escape(_exit_line(doc))}, "
        f"{doc['duration_s']:.1f}s, {doc['processes_seen']} processes"
    )
    for f in doc["findings"]:
        color = COLORS.get(f["severity"], "white")
        console.print(f"  [{color}]{f['severity']}[/] [bold]{f['id']}[/]: {escape(f['title'])}")
        if f["detail"]:
            console.print(f"    {escape(f['detail'])}")
        for ev in f["evidence"][: (10 if verbose else 3)]:
            src = ev.get("command") or ev.get("file") or ""
            out = (ev.get("output") or "").rstrip()
            lines = out.splitlines()
            console.print(f"    [dim]$ {escape(src)}[/]")
            for ln in lines[: (40 if verbose else 6)]:
                console.print(f"      {escape(ln)}")
        if f["fix"]:
            console.print(f"    fix: {escape(f['fix'])}")
    if verbose:
        for ev in doc["timeline"]:
            console.print(f"  [dim]{ev['t']:8.2f}s {ev['event']}: {escape(str(ev['detail']))}[/]")
