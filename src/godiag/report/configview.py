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
        metrics = f", metrics at {t['metrics_url']}" if t.get("metrics_url") else ""
        console.print(f"  target {t['name']}: {t['url']} (auth: {t['auth']}{metrics})")
    st = doc["store"]
    console.print(f"  store: {st['backend']}" + (f" at {st['path']}" if st.get("path") else ""))
    if st.get("overridden_path"):
        console.print(
            f"    (GODIAG_HOME is set: it overrides \\[store] path = {st['overridden_path']})"
        )
    if doc["prometheus"]:
        console.print(f"  prometheus: {doc['prometheus']}")
    k8s = doc.get("kubernetes") or {}
    if k8s.get("enabled"):
        allowed = ", ".join(k8s["namespaces"] + k8s["selectors"])
        console.print(f"  kubernetes: pods of {allowed} (port {k8s['default_port']})")
