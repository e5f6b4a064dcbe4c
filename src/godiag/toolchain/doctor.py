"""`godiag doctor` as a library call: run the catalog over DIR, build the v1 document."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from godiag.errors import UsageError
from godiag.model.findings import Severity
from godiag.toolchain.checks import CHECKS, run_checks, select
from godiag.toolchain.checks.base import Context
from godiag.toolchain.envsnapshot import redact_tree
from godiag.toolchain.gocmd import GoRunner

SCHEMA = "godiag.doctor/v1"
CATALOG_SCHEMA = "godiag.catalog/v1"


def diagnose(
    directory: Path,
    *,
    env: dict[str, str] | None = None,
    only: tuple[str, ...] = (),
    skip: tuple[str, ...] = (),
    deep: bool = False,
    timeout: float = 120.0,
) -> dict[str, Any]:
    """Run the selected checks over `directory` with `env` (default: this process's)."""
    if not directory.is_dir():
        raise UsageError(f"{directory} is not a directory")
    checks = select(only, skip)
    runner = GoRunner(
        directory.resolve(), dict(env if env is not None else os.environ), timeout=timeout
    )
    ctx = Context(directory, runner, deep=deep)
    findings, skips = run_checks(ctx, checks)
    doc = {
        "schema": SCHEMA,
        "go": {
            "version": ctx.effective_version or ctx.local_version,
            "goroot": ctx.effective_goroot or ctx.env.get("GOROOT"),
            "path": runner.go_path(),
        },
        "dir": str(ctx.dir),
        "deep": deep,
        "checks": [c.id for c in checks],
        "skipped": [{"id": s.id, "reason": s.reason} for s in skips],
        "findings": [f.to_json() for f in findings],
        "summary": {str(s): sum(1 for f in findings if f.severity == s) for s in Severity},
        "env": ctx.env.to_json(),
    }
    redacted: dict[str, Any] = redact_tree(doc)  # secrets never leave
    return redacted


def exit_found(doc: dict[str, Any], fail_on: Severity) -> bool:
    """True when some finding is at or above `fail_on` (exit status 1)."""
    return any(Severity.parse(f["severity"]) >= fail_on for f in doc["findings"])


def catalog() -> list[dict[str, Any]]:
    """The check catalog as data (for --list and docs/checks.md)."""
    return [
        {
            "id": c.id,
            "section": c.section,
            "severity": str(c.severity),
            "summary": c.summary,
            "deep": c.deep,
        }
        for c in CHECKS.values()
    ]


def catalog_document() -> dict[str, Any]:
    """`godiag doctor --list --format json`: the catalog as a `godiag.catalog/v1` document."""
    return {"schema": CATALOG_SCHEMA, "command": "doctor", "checks": catalog()}


def catalog_markdown() -> str:
    """docs/checks.md, generated from the registry (a test keeps the file in sync)."""
    lines = [
        "# godiag doctor checks",
        "",
        "Generated from `godiag.toolchain.checks` by `godiag doctor --list --format markdown`;",
        "ids are stable ([contracts.md](contracts.md)). Severity is the default; some findings",
        "of a check are reported lower (context) or higher (a broken build), as the check's text",
        "says.",
        "",
    ]
    section = ""
    for c in catalog():
        if c["section"] != section:
            section = c["section"]
            lines += [
                f"## {section}",
                "",
                "| id | severity | runs | what it finds |",
                "|---|---|---|---|",
            ]
        runs = "`--deep` only" if c["deep"] else "default"
        lines.append(f"| `{c['id']}` | {c['severity']} | {runs} | {c['summary']} |")
        nxt = catalog()
        idx = [x["id"] for x in nxt].index(c["id"])
        if idx + 1 == len(nxt) or nxt[idx + 1]["section"] != section:
            lines.append("")
    return "\n".join(lines)
