"""Assemble the godiag.analyze/v1 document from the Go analyzer's findings.

Pure: the command runs the analyzer (toolchain/analyzer.py) and hands its findings here.
"""

from __future__ import annotations

from typing import Any

from godiag.model.analyzers import CATALOG
from godiag.model.findings import Finding, Severity


def analyze_document(
    directory: str, findings: list[Finding], fail_on: str
) -> tuple[dict[str, Any], bool]:
    """The document of the findings in DIR, and whether --fail-on is reached."""
    threshold = Severity.parse(fail_on)
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.id] = counts.get(f.id, 0) + 1
    doc: dict[str, Any] = {
        "schema": "godiag.analyze/v1",
        "dir": directory,
        "analyzers": sorted(CATALOG),
        "counts": counts,
        "findings": [f.to_json() for f in findings],
    }
    return doc, any(f.severity >= threshold for f in findings)
