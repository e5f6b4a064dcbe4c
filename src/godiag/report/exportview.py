"""Views of `godiag export`: a terminal table, NDJSON (one artifact a line) and CSV."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from rich.console import Console

TEMPLATE = "generic.html.j2"


def _flat(a: dict[str, Any]) -> dict[str, Any]:
    """One level: tags/attributes spread into columns, links as link.NAME."""
    out: dict[str, Any] = {}
    for k, v in a.items():
        if k == "tags":
            out.update({f"tag.{tk}": tv for tk, tv in v.items()})
        elif k == "attributes":
            out.update(v)
        elif k == "links":
            out.update({f"link.{lk}": lv for lk, lv in v.items()})
        else:
            out[k] = v
    return out


def render_ndjson(doc: dict[str, Any]) -> str:
    return "".join(
        json.dumps(a, ensure_ascii=False, sort_keys=True) + "\n" for a in doc["artifacts"]
    )


def render_csv(doc: dict[str, Any]) -> str:
    rows = [_flat(a) for a in doc["artifacts"]]
    cols: list[str] = []
    for r in rows:
        cols += [c for c in r if c not in cols]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: "" if v is None else v for k, v in r.items()})
    return buf.getvalue()


def render_text(doc: dict[str, Any], console: Console, verbose: bool = False) -> None:
    if doc["otel"]:
        for a in doc["artifacts"]:
            console.print(f"[bold]{a['id']}[/] {a['links']['object']}")
            for k, v in a["attributes"].items():
                console.print(f"  {k} = {v}")
    else:
        from godiag.report.storeview import artifact_table

        console.print(artifact_table(doc["artifacts"], verbose))
    console.print(f"{doc['count']} artifact(s) from the {doc['store']['backend']} store")
