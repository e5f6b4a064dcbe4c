"""Views of `godiag analyze`: terminal, HTML and SARIF 2.1.0."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console

TEMPLATE = "generic.html.j2"

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def render_text(doc: dict[str, Any], console: Console, verbose: bool = False) -> None:
    findings = doc["findings"]
    if not findings:
        console.print(f"[green]no leaks found[/] in {doc['dir']}")
        return
    for f in findings:
        loc = f["location"] or {}
        style = _STYLE.get(f["severity"], "")
        console.print(
            f"{loc.get('file', '?')}:{loc.get('line') or '?'}: "
            f"[{style}]{f['severity']}[/] [bold]{f['id']}[/]: {f['title']}"
        )
        console.print(f"    {f['detail']}", markup=False)
        if verbose:
            console.print(f"    fix: {f['fix']}", markup=False)
    summary = ", ".join(f"{n} {k}" for k, n in sorted(doc["counts"].items()))
    console.print(f"{len(findings)} finding(s) in {doc['dir']}: {summary}")


_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def render_sarif(doc: dict[str, Any]) -> str:
    """SARIF 2.1.0, one run, one rule per analyzer id; paths relative to the module."""
    from godiag.model.analyzers import CATALOG
    from godiag.provenance import tool

    rules = [
        {
            "id": rid,
            "name": rid,
            "shortDescription": {"text": rule.title},
            "help": {"text": rule.fix},
            "defaultConfiguration": {"level": _SARIF_LEVEL[str(rule.severity)]},
        }
        for rid, rule in sorted(CATALOG.items())
    ]
    results = []
    for f in doc["findings"]:
        loc = f["location"] or {}
        region = {"startLine": loc["line"]} if loc.get("line") else {}
        results.append(
            {
                "ruleId": f["id"],
                "level": _SARIF_LEVEL.get(f["severity"], "warning"),
                "message": {"text": f"{f['detail']} Fix: {f['fix']}"},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {
                                "uri": loc.get("file", ""),
                                "uriBaseId": "SRCROOT",
                            },
                            "region": region,
                        }
                    }
                ],
            }
        )
    sarif = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "godiag-leakcheck",
                        "version": tool()["version"],
                        "informationUri": "https://github.com/godiag/godiag",
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {
                    "SRCROOT": {"uri": "file://" + doc["dir"].rstrip("/") + "/"}
                },
                "results": results,
            }
        ],
    }
    return json.dumps(sarif, indent=2) + "\n"
