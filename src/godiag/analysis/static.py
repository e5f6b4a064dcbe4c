"""Assemble the godiag.analyze/v1 document from the Go analyzer's findings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from godiag.model.findings import Severity


def analyze_module(
    directory: Path, fail_on: str, *, tests: bool = True
) -> tuple[dict[str, Any], bool]:
    """Run the analyzer on DIR; returns the document and whether --fail-on is reached."""
    from godiag.toolchain import analyzer

    findings = analyzer.run(directory, tests=tests)
    threshold = Severity.parse(fail_on)
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.id] = counts.get(f.id, 0) + 1
    doc: dict[str, Any] = {
        "schema": "godiag.analyze/v1",
        "dir": str(directory.resolve()),
        "analyzers": sorted(analyzer.CATALOG),
        "counts": counts,
        "findings": [f.to_json() for f in findings],
    }
    return doc, any(f.severity >= threshold for f in findings)
