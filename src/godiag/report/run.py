"""Terminal view of `godiag run` (godiag.run/v1)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

TEMPLATE = "generic.html.j2"
COLORS = {"error": "red", "warning": "yellow", "info": "blue"}


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _exit_line(doc: dict[str, Any]) -> str:
    ex = doc["exit"]
    if ex["ended_by"] == "stall":
        return f"hung (no progress for {doc['stall_s']:g}s); ended by godiag"
    if ex["ended_by"] == "timeout":
        line = f"timed out after {doc['timeout_s'] or 0:g}s; ended by godiag"
        if doc.get("timeout_default"):
            line += " (its default --timeout; --timeout 0 turns it off)"
        return line
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


def _env_lines(env: dict[str, Any], verbose: bool) -> list[str]:
    """Where the go settings came from: those from files (they surprise) unless the
    distribution ships them, and every non-default one when verbose."""
    from godiag.model.goenv import OFFICIAL_DEFAULTS, origin

    if env.get("error"):
        return [f"go env: not recorded ({env['error']})"]
    out = []
    for s in env["settings"]:
        from_file = s["source"] in ("goenv-file", "goroot-go.env")
        shipped = OFFICIAL_DEFAULTS.get(s["name"]) == s["value"]
        if (from_file and not shipped) or (verbose and s["source"] != "default"):
            where = origin(s["source"], s["file"], s["line"])
            out.append(f"{s['name']}={s['value']}  ({where})")
    return out


def _leaks_lines(leaks: dict[str, Any] | None, console: Console) -> None:
    """--leaks: what was looked at, and what each package's note says (its own TestMain
    wrapped, or not wrappable; no dump after the tests)."""
    if leaks is None:
        return
    pkgs = leaks["packages"]
    wrapped = [p for p in pkgs if p["wrapped"]]
    proof = "goroutineleak profile on" if leaks["leak_profile"] else "no goroutineleak profile"
    console.print(
        f"  leaks: {len(leaks['leaks'])} leaking group(s) in "
        f"{_count(len(wrapped), 'package', 'packages')} checked ({proof}, "
        f"{leaks['grace_s']:g}s grace)"
    )
    for p in pkgs:
        if p["note"]:
            console.print(f"    [yellow]{escape(p['package'])}[/]: {escape(p['note'])}")
    for w in leaks["warnings"]:
        console.print(f"  [yellow]warning[/]: {escape(w)}")


def render_text(doc: dict[str, Any], console: Console, verbose: bool = False) -> None:
    cmd = " ".join(doc["command"])
    mark = "[red]FAILED[/]" if doc["failed"] else "[green]ok[/]"
    console.print(
        f"godiag run: {mark} {escape(cmd)}: {escape(_exit_line(doc))}, "
        f"{doc['duration_s']:.1f}s, {_count(doc['processes_seen'], 'process', 'processes')}"
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
    for w in doc.get("warnings", []):
        console.print(f"  [yellow]warning[/]: {escape(w)}")
    _leaks_lines(doc.get("leaks"), console)
    if doc.get("withheld_output_bytes"):
        n = len(doc.get("dumps", []))
        console.print(
            f"  [dim]{doc['withheld_output_bytes']} bytes the command printed after godiag "
            f"asked for goroutine dumps were not shown ({_count(n, 'dump', 'dumps')} in the "
            "report; --format json keeps the text)[/]"
        )
    env_lines = _env_lines(doc["env"], verbose)
    if env_lines and (verbose or doc["failed"]):
        console.print("  [dim]go settings not from the built-in defaults:[/]")
        for line in env_lines:
            console.print(f"    [dim]{escape(line)}[/]")
    if verbose:
        for ev in doc["timeline"]:
            console.print(f"  [dim]{ev['t']:8.2f}s {ev['event']}: {escape(str(ev['detail']))}[/]")
