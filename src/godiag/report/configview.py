"""Terminal view of `godiag config check`."""

from __future__ import annotations

from typing import Any

from rich.console import Console

TEMPLATE = "generic.html.j2"


def render_text(doc: dict[str, Any], console: Console, verbose: bool = False) -> None:
    if doc["path"] is None:
        console.print("no configuration file found (defaults in use)")
        return
    console.print(f"[green]ok[/]: {doc['path']}")
    for t in doc["targets"]:
        console.print(f"  target {t['name']}: {t['url']} (auth: {t['auth']})")
    console.print(f"  store: {doc['store']['backend']}")
    if doc["prometheus"]:
        console.print(f"  prometheus: {doc['prometheus']}")
