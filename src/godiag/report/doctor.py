"""Views of `godiag.doctor/v1`: terminal (grouped by severity), SARIF 2.1.0, HTML."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape

TEMPLATE = "doctor.html.j2"
STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _evidence_line(e: dict[str, Any]) -> str:
    where = ""
    if e.get("file"):
        where = e["file"] + (f":{e['line']}" if e.get("line") else "")
    head = f"$ {e['command']}" if e.get("command") else where
    out = (e.get("output") or "").rstrip()
    if e.get("command") and where:
        head += f"  ({where})"
    if not out:
        return head
    if head and "\n" not in out:
        return f"{head}  →  {out}"
    body = "\n      ".join(out.splitlines()[:12])
    return f"{head}\n      {body}" if head else body


def render_text(doc: dict[str, Any], console: Console, verbose: bool = False) -> None:
    go = doc["go"]
    console.print(f"godiag doctor {escape(doc['dir'])}  ({go['version']}, {escape(go['path'])})")
    findings = doc["findings"]
    for sev in ("error", "warning", "info"):
        group = [f for f in findings if f["severity"] == sev]
        if not group or (sev == "info" and not verbose and len(group) > 5):
            if group:
                console.print(f"\n[{STYLE[sev]}]{len(group)} info finding(s)[/] (-v to show)")
            continue
        console.print(f"\n[{STYLE[sev]}]{sev.upper()} ({len(group)})[/]")
        for f in group:
            loc = f.get("location") or {}
            line = f":{loc['line']}" if loc.get("line") else ""
            where = f"\n    [dim]at {escape(loc['file'])}{line}[/]" if loc else ""
            console.print(
                f"[{STYLE[sev]}]●[/] [bold]{f['id']}[/]: {escape(f['title'])}{where}",
                soft_wrap=True,
            )
            if f.get("detail"):
                console.print(f"    {escape(f['detail'])}", soft_wrap=True)
            for e in f["evidence"][: (20 if verbose else 4)]:
                console.print(f"    [dim]evidence:[/] {escape(_evidence_line(e))}", soft_wrap=True)
            if f.get("fix"):
                console.print(f"    [green]fix:[/] {escape(f['fix'])}", soft_wrap=True)
    for s in doc.get("skipped", []):
        if verbose or not s["reason"].startswith("runs only with --deep"):
            console.print(f"[dim]skipped {s['id']}: {escape(s['reason'])}[/]")
    n = doc["summary"]
    verdict = (
        "[green]no problems found[/]"
        if not findings
        else (f"{n['error']} error(s), {n['warning']} warning(s), {n['info']} info")
    )
    console.print(
        f"\n{verdict} ({len(doc['checks'])} checks" + (", --deep" if doc.get("deep") else "") + ")"
    )


def render_sarif(doc: dict[str, Any]) -> str:
    """SARIF 2.1.0: one rule per catalog id, one result per finding.

    The catalog is the check registry's (toolchain/), which a view does not import: the
    command puts it in the document as `catalog` for this format only."""
    from godiag.provenance import tool

    rules = [
        {
            "id": c["id"],
            "name": "".join(w.title() for w in c["id"].split("-")),
            "shortDescription": {"text": c["summary"]},
            "defaultConfiguration": {"level": SARIF_LEVEL[c["severity"]]},
            "helpUri": "https://github.com/godiag/godiag/blob/main/docs/checks.md",
        }
        for c in doc["catalog"]
    ]
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = []
    for f in doc["findings"]:
        msg = f["title"] + (f". {f['detail']}" if f["detail"] else "")
        if f.get("fix"):
            msg += f" Fix: {f['fix']}"
        result: dict[str, Any] = {
            "ruleId": f["id"],
            "ruleIndex": index[f["id"]],
            "level": SARIF_LEVEL[f["severity"]],
            "message": {"text": msg},
            "properties": {"evidence": f["evidence"]},
        }
        loc = f.get("location")
        if loc and loc.get("file"):
            art: dict[str, Any] = {"uri": _uri(loc["file"])}
            if not loc["file"].startswith("/"):
                art["uriBaseId"] = "SRCROOT"
            phys: dict[str, Any] = {"artifactLocation": art}
            if loc.get("line"):
                phys["region"] = {"startLine": int(loc["line"])}
            result["locations"] = [{"physicalLocation": phys}]
        results.append(result)
    sarif = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "godiag doctor",
                        "version": tool()["version"],
                        "informationUri": "https://github.com/godiag/godiag",
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"SRCROOT": {"uri": _dir_uri(doc["dir"])}},
                "results": results,
            }
        ],
    }
    return json.dumps(sarif, indent=2) + "\n"


def _dir_uri(d: str) -> str:
    from pathlib import Path

    return Path(d).as_uri().rstrip("/") + "/"


def _uri(file: str) -> str:
    """Relative paths stay relative (to SRCROOT); absolute ones become file: URIs."""
    from pathlib import Path
    from urllib.parse import quote

    p = Path(file)
    return p.as_uri() if p.is_absolute() else quote(file)
