"""Terminal view of `godiag check` (godiag.check/v1): the verdict, then the evidence."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

TEMPLATE = "generic.html.j2"

# Columns worth showing per rule, in order (key, header).
COLUMNS: dict[str, list[tuple[str, str]]] = {
    "memory-leak": [("before", "before"), ("after", "now"), ("growth", "growth"),
                    ("per_minute", "per min"), ("share", "of heap")],
    "goroutine-leak": [("state", "state"), ("before", "before"), ("after", "now"),
                       ("growth", "growth"), ("per_minute", "/min")],
    "lock-contention": [("growth", "delay ns"), ("wait_per_second", "wait s/s")],
}  # fmt: skip


def render_text(doc: dict[str, Any], console: Console, verbose: bool = False) -> None:
    bad = doc["violated"]
    mark = "[bold red]VIOLATED[/]" if bad else "[bold green]OK[/]"
    tgt = doc["target"]
    console.print(f"{mark}  {doc['rule']} on {escape(tgt['service_name'])} ({tgt['url']})")
    console.print(escape(doc["summary"]))
    base, cur = doc["baseline"], doc["current"]
    console.print(
        f"[dim]compared {base['captured_at']} ({escape(base['artifact'] or base['source'])}) "
        f"with {cur['captured_at']} ({escape(cur['artifact'] or cur['source'])}), "
        f"{doc['elapsed_s']:g}s apart[/]"
    )
    cols = COLUMNS.get(doc["rule"])
    rows = doc["sites"] if verbose else [s for s in doc["sites"][:5] if s["growth"] > 0]
    if cols and rows:
        table = Table(box=None, pad_edge=False)
        table.add_column("")
        table.add_column("call site")
        for _, head in cols:
            table.add_column(head, justify="right")
        for s in rows:
            where = f"{s['function']} {s['file'] or '?'}:{s['line'] or '?'}"
            cells = [_cell(doc["rule"], k, s.get(k, "")) for k, _ in cols]
            table.add_row("[red]![/]" if s["violates"] else "", escape(where), *cells)
        console.print(table)
    elif doc["rule"] == "gc-pressure":
        for side in ("now", "reference"):
            vals = doc["measurements"].get(side)
            if vals:
                console.print(f"{side}: " + ", ".join(f"{k} {v}" for k, v in vals.items()))
    for f in doc["findings"]:
        loc = f["location"]
        at = f" ({loc['file']}:{loc['line']})" if loc else ""
        console.print(f"[bold]{f['severity']}[/] {escape(f['title'])}{escape(at)}")
        if verbose:
            console.print(f"  {escape(f['detail'])}")
        console.print(f"  fix: {escape(f['fix'])}")
    for e in doc.get("stored", []):
        console.print(
            f"[dim]stored {e['id']}[/]" if e["stored"] else f"[yellow]{escape(e['message'])}[/]"
        )


def _cell(rule: str, key: str, value: Any) -> str:
    from godiag.analysis.rules import human

    if rule == "memory-leak" and key != "share" and isinstance(value, int):
        return human(value, "bytes")
    if key == "share" and isinstance(value, float):
        return f"{value:.1%}"
    return str(value)
