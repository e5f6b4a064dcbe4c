"""skipped-test-dirs: directories with Go/test files that `./...` never visits.

The go command cannot report what its pattern walk skipped, so this check walks the
tree itself and compares with the directories `go list ./...` returned.

What is left out on purpose is not a silent failure: `testdata/` is the Go convention
for fixtures (analyzer inputs, golden packages, even _test.go files meant to be read, not
run), so it is never reported. A `_`/`.` directory or a symlink hides its tests from
`./...` (a warning); one that holds only non-test Go code (examples, tools) is context
(info); nested modules are their own `./...` (info).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from godiag.model.findings import Evidence, Finding, Location, Severity
from godiag.toolchain.checks.base import FILES_SECTION, Check, Context, finding, rel

NEVER_ENTER = {".git", ".hg", ".svn", "node_modules", "vendor"}


@dataclass
class Skipped:
    dir: Path
    reason: str
    go_files: list[Path] = field(default_factory=list)
    test_files: list[Path] = field(default_factory=list)


def _reason(name: str, path: Path, root: Path) -> str | None:
    if path.is_symlink():
        return "symlinked directory"
    if name.startswith("."):
        return "name starts with '.'"
    if name.startswith("_"):
        return "name starts with '_'"
    if path != root and (path / "go.mod").is_file():
        return "nested module (own go.mod)"
    return None


def _collect(top: Path, item: Skipped) -> None:
    for dirpath, dirnames, filenames in os.walk(top, followlinks=True):
        dirnames[:] = [d for d in dirnames if d not in NEVER_ENTER and d != "testdata"]
        for f in filenames:
            if f.endswith(".go"):
                p = Path(dirpath) / f
                (item.test_files if f.endswith("_test.go") else item.go_files).append(p)
        if len(item.go_files) + len(item.test_files) > 5000:
            return


def scan(root: Path) -> list[Skipped]:
    """Top-most skipped directories under root that hold Go files."""
    out: list[Skipped] = []
    for dirpath, dirnames, _ in os.walk(root):
        keep = []
        for d in sorted(dirnames):
            if d in NEVER_ENTER or d == "testdata":
                continue  # fixtures by convention: neither reported nor searched
            path = Path(dirpath) / d
            why = _reason(d, path, root)
            if why is None:
                keep.append(d)
                continue
            item = Skipped(path, why)
            _collect(path, item)
            if item.go_files or item.test_files:
                out.append(item)
        dirnames[:] = keep
    return out


def run(ctx: Context) -> list[Finding]:
    root = ctx.modroot or ctx.dir
    if not str(ctx.dir).startswith(str(root)):
        root = ctx.dir
    res, pkgs = ctx.packages()
    listed = {Path(p["Dir"]) for p in pkgs if p.get("Dir")}
    out: list[Finding] = []
    for item in scan(ctx.dir):
        if any(d == item.dir or item.dir in d.parents for d in listed):
            continue
        nested = item.reason.startswith("nested module")
        first = (item.test_files or item.go_files)[0]
        n_tests = len(item.test_files)
        out.append(
            finding(
                CHECK,
                f"{rel(ctx, item.dir)}/: {n_tests} test file(s), "
                f"{len(item.go_files)} Go file(s) never visited by ./... ({item.reason})",
                detail=f"`go test ./...` and `go vet ./...` skip {rel(ctx, item.dir)}/ because of "
                f"its {item.reason}: its tests never run and its code is never built, yet "
                "everything reports ok.",
                evidence=[
                    Evidence(
                        file=rel(ctx, first),
                        output=f"{item.reason}; first of {n_tests + len(item.go_files)} .go files",
                    ),
                    Evidence(
                        command=res.command,
                        output=f"{len(listed)} packages, none under {rel(ctx, item.dir)}/",
                    ),
                ],
                location=Location(rel(ctx, first)),
                # Tests that never run are the silent failure; code alone is context.
                severity=Severity.INFO if nested or not n_tests else None,
                fix=(
                    f"Test it explicitly (`cd {rel(ctx, item.dir)} && go test ./...`) in CI"
                    if nested or item.reason == "symlinked directory"
                    else f"Rename {item.dir.name} (drop the leading '_'/'.') or run it "
                    "explicitly with `go test ./"
                    f"{rel(ctx, item.dir)}/...`"
                )
                + ", or use build tags (`//go:build integration`) for opt-in tests.",
            )
        )
    return out


CHECK = Check(
    "skipped-test-dirs",
    FILES_SECTION,
    Severity.WARNING,
    "Directories holding test files that `./...` never visits: names starting with `_` or "
    "`.`, symlinked directories (warning); nested modules and test-less ones (info). "
    "testdata/ is fixtures by convention and never reported.",
    run,
)
