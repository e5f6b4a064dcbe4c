"""Terminal view of `godiag store ...` documents (ls/show/put/baseline/rm/gc/verify)."""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console
from rich.table import Table

TEMPLATE = "generic.html.j2"
# a commit or content hash: shown shortened
HEX = re.compile(r"[0-9a-f]{16,}")


def _short(value: str) -> str:
    """A commit, digest or hash as a table shows it: 12 of its hex digits after any scheme
    (`exe-sha256:0123456789ab`, `sha256:...`); anything else whole. The JSON has it all."""
    scheme, sep, rest = value.rpartition(":")
    return f"{scheme}{sep}{rest[:12]}" if HEX.fullmatch(rest) else value


def artifact_table(arts: list[dict[str, Any]], verbose: bool = False) -> Table:
    table = Table(box=None, pad_edge=False)
    for col in ("id", "captured at", "service", "type", "go", "commit", "size", "tags", ""):
        table.add_column(col)
    for a in arts:
        tags = ",".join(f"{k}={_short(v)}" for k, v in a["tags"].items())
        table.add_row(
            a["id"] if verbose else a["id"][:12],
            a["captured_at"][:19].replace("T", " "),
            a["service_name"],
            a["profile_type"],
            a["go_version"],
            _short(a["build_commit"]),
            str(a["size"]),
            tags,
            "baseline" if a["baseline"] else "",
        )
    return table


def render_text(doc: dict[str, Any], console: Console, verbose: bool = False) -> None:
    action = doc["action"]
    where = f"{doc['store']['backend']} store at {doc['store']['location']}"
    if action in ("ls", "show", "put", "baseline"):
        arts = doc["artifacts"]
        if not arts:
            console.print(f"no artifacts match in the {where}")
            return
        if action == "show" or verbose:
            for a in arts:
                for k, v in a.items():
                    console.print(f"[bold]{k}[/]: {v}")
            return
        console.print(artifact_table(arts))
        if action == "put":
            console.print(f"stored as {arts[0]['id']} in the {where}")
    elif action == "rm":
        console.print(f"removed {len(doc['removed'])} artifact(s) from the {where}")
    elif action == "gc":
        g = doc["gc"]
        console.print(
            f"removed {len(g['removed'])} artifact(s) older than {g['keep_days']} days"
            f"{' (baselines kept)' if g['keep_baselines'] else ''}; deleted "
            f"{g['objects_deleted']} unreferenced object(s), {g['temp_deleted']} temp file(s)"
        )
    elif action == "verify":
        v = doc["verify"]
        state = "[green]ok[/]" if v["ok"] else f"[red]{len(v['problems'])} problem(s)[/]"
        console.print(
            f"{state}: {v['checked']} index rows, {v['objects']} objects checked in the {where}"
            f" ({v['orphan_objects']} unreferenced, {v['temp_files']} temp files: gc removes them)"
        )
        for p in v["problems"]:
            console.print(f"  {p['kind']}: {p['id']}: {p['detail']}")
