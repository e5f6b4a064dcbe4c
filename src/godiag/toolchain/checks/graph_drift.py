"""graph-drift (--deep): a build changes go.mod/go.sum or the module graph.

The build runs in a temporary copy of the module with the user's own settings, so
whatever it rewrites (GOFLAGS=-mod=mod, an untidy go.mod) never touches the real tree.
"""

from __future__ import annotations

import difflib
import shutil
import tempfile
from pathlib import Path

from godiag.model.findings import Evidence, Finding, Location, Severity
from godiag.toolchain.checks.base import ENV_SECTION, Check, Context, Skipped, ev, finding


def _read(p: Path) -> str:
    return p.read_text(errors="replace") if p.is_file() else ""


def run(ctx: Context) -> list[Finding]:
    root = ctx.modroot
    if root is None:
        raise Skipped("no main module (GOPATH mode or no go.mod)")
    before_graph = ctx.runner.run("list", "-mod=readonly", "-m", "all", cwd=root)
    with tempfile.TemporaryDirectory(prefix="godiag-drift-") as tmp:
        copy = Path(tmp) / root.name
        shutil.copytree(root, copy, symlinks=True, ignore=shutil.ignore_patterns(".git"))
        build = ctx.runner.run("build", "./...", cwd=copy, timeout=600)
        after_graph = ctx.runner.run("list", "-mod=readonly", "-m", "all", cwd=copy)
        diffs: list[tuple[str, str]] = []
        for name in ("go.mod", "go.sum"):
            a, b = _read(root / name), _read(copy / name)
            if a != b:
                d = difflib.unified_diff(
                    a.splitlines(),
                    b.splitlines(),
                    f"{name} (yours)",
                    f"{name} (after build)",
                    lineterm="",
                    n=0,
                )
                diffs.append((name, "\n".join(d)))
    graph_changed = before_graph.ok and after_graph.ok and before_graph.stdout != after_graph.stdout
    if not diffs and not graph_changed:
        return []
    evidence = [ev(build, f"exit {build.returncode}")]
    evidence += [Evidence(file=str(root / n), output=d) for n, d in diffs]
    if graph_changed:
        g = difflib.unified_diff(
            before_graph.stdout.splitlines(),
            after_graph.stdout.splitlines(),
            "go list -m all (before)",
            "go list -m all (after)",
            lineterm="",
            n=0,
        )
        evidence.append(Evidence(command="go list -mod=readonly -m all", output="\n".join(g)))
    flags = ctx.env.setting("GOFLAGS")
    changed = ", ".join(n for n, _ in diffs) or "the module graph"
    return [
        finding(
            CHECK,
            f"`go build ./...` changes {changed}",
            detail=f"Building rewrote {changed} (GOFLAGS={flags.shown or '(empty)'}, "
            f"{flags.where}): what CI builds differs from what is committed, and "
            "-mod=readonly builds fail.",
            evidence=evidence,
            location=Location(str(root / (diffs[0][0] if diffs else "go.mod"))),
            fix="Run `go mod tidy` and commit go.mod/go.sum; drop -mod=mod from GOFLAGS so "
            "builds fail instead of silently editing the module.",
        )
    ]


CHECK = Check(
    "graph-drift",
    ENV_SECTION,
    Severity.WARNING,
    "A build changed go.mod/go.sum or `go list -m all` (e.g. GOFLAGS=-mod=mod).",
    run,
    deep=True,
)
