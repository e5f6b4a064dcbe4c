"""`godiag run --leaks`: read the dumps the wrapped test binaries wrote, make the findings.

Each wrapped package's binary wrote `TAG.PID.start.txt` when TestMain started and
`TAG.PID.end.txt` after its tests ended (leakwrap.py). They are parsed by
formats/goroutines.py and compared by analysis/leftbehind.py; every group of goroutines a
test left blocked is one `goroutine-leak` finding, located at the goroutine's user frame
and naming the test and where the goroutine was created. A binary that wrote no end dump
did not return from its tests (a panic, a timeout, os.Exit in a test): its package says
so, and the run's own findings (go-panic) cover it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from godiag.analysis.leftbehind import LeftBehind, leaks
from godiag.errors import ParseError
from godiag.formats.goroutines import parse
from godiag.model.findings import Evidence, Finding, Location, Severity
from godiag.model.goroutine import Dump
from godiag.toolchain.supervise.leakwrap import Plan
from godiag.toolchain.supervise.stallfind import user_frames_text

MAX_FINDINGS = 50
# User frames a finding shows: a leaked goroutine is known by its entry function, often
# several calls above the blocked line (a hang's finding shows 5).
SHOWN_FRAMES = 10


def _read(path: Path, warnings: list[str]) -> Dump | None:
    try:
        return parse(path.read_bytes(), str(path), strict=False)
    except (OSError, ParseError) as exc:
        warnings.append(f"leak dump {path.name} not read: {exc}")
        return None


def _loc_text(loc: dict[str, Any] | None) -> str:
    if not loc:
        return "?"
    return f"{loc['function']} ({loc['file']}:{loc['line']})"


def finding(pkg: str, leak: LeftBehind) -> Finding:
    g = leak.group
    uf = g["user_frame"] or (g["frames"][0] if g["frames"] else None)
    n = g["count"]
    state = g["state"] or g["category"]
    who = "1 goroutine" if n == 1 else f"{n} goroutines"
    created = _loc_text(g["created_by"])
    proof = (
        " The runtime's goroutineleak profile proved that nothing can ever wake "
        + ("it." if n == 1 else "them.")
        if leak.proven
        else ""
    )
    site = leak.test_site
    # ancestry stacks hold return addresses: the line can be the statement after the call
    started = f" (from about {site['file']}:{site['line']})" if site else ""
    return Finding(
        id="goroutine-leak",
        severity=Severity.ERROR if leak.proven else Severity.WARNING,
        title=f"{leak.test} leaves {who} blocked on {state} ({pkg})",
        detail=f"{who} started by {leak.test}{started} of {pkg} {'is' if n == 1 else 'are'} still "
        f"waiting on {state} at "
        f"{_loc_text(uf)} after the tests ended; created by {created}.{proof}",
        evidence=(
            Evidence(
                command="goroutine dump after the tests",
                output=user_frames_text({**g, "user_frame": uf}, limit=SHOWN_FRAMES),
            ),
            *(Evidence(command="why", output=r) for r in leak.reasons),
        ),
        location=Location(str(uf["file"]), int(uf["line"])) if uf else None,
        fix="Make the goroutine's wait end before the test returns (close or drain the channel, "
        "cancel its context, unlock, call Done) and wait for it, e.g. in t.Cleanup.",
    )


def collect(plan: Plan, work: Path, keep: Path | None) -> tuple[dict[str, Any], list[Finding]]:
    """The document's `leaks` section and the findings, from the dumps under `work`."""
    dumps = work / "dumps"
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
    warnings = list(plan.warnings)
    packages: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    found: list[Finding] = []
    for pkg in plan.packages:
        entry: dict[str, Any] = {
            "package": pkg.import_path,
            "dir": pkg.dir,
            "wrapped": pkg.wrapped,
            "note": pkg.note,
            "dumps": [],
            "goroutines_left": 0,
        }
        packages.append(entry)
        if not pkg.wrapped:
            continue
        ends = sorted(dumps.glob(f"{pkg.tag}.*.end.txt"))
        if not ends:
            entry["note"] = (
                "no dump after the tests: the test binary did not return from its tests "
                "(a failure to build, a panic, a timeout, os.Exit in a test) or its result "
                "was cached"
            )
        for end_path in ends:
            start_path = end_path.with_name(end_path.name.replace(".end.", ".start."))
            end = _read(end_path, warnings)
            start = _read(start_path, warnings) if start_path.exists() else None
            if keep is not None:
                for p in (start_path, end_path):
                    if p.exists():
                        shutil.copy(p, keep / p.name)
                entry["dumps"].append(str((keep / end_path.name).resolve()))
            if end is None:
                continue
            left, count = leaks(start, end, str(end_path))
            entry["goroutines_left"] += count
            for leak in left:
                g = leak.group
                records.append(
                    {
                        "package": pkg.import_path,
                        "test": leak.test,
                        "count": g["count"],
                        "state": g["state"],
                        "category": g["category"],
                        "proven": leak.proven,
                        "user_frame": g["user_frame"],
                        "created_by": g["created_by"],
                        "test_site": leak.test_site,
                        "frames": g["frames"],
                        "reasons": list(leak.reasons),
                    }
                )
                if len(found) < MAX_FINDINGS:
                    found.append(finding(pkg.import_path, leak))
    doc = {
        "leak_profile": plan.leak_profile,
        "grace_s": plan.grace_s,
        "packages": packages,
        "leaks": records,
        "warnings": warnings,
    }
    return doc, found
