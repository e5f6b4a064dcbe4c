"""goroot-mismatch: the `go` on PATH is not the one of `go env GOROOT`."""

from __future__ import annotations

import os

from godiag.model.findings import Evidence, Finding, Severity
from godiag.toolchain.checks.base import ENV_SECTION, Check, Context, finding


def run(ctx: Context) -> list[Finding]:
    go = os.path.realpath(ctx.runner.go_path())
    goroot = ctx.env.get("GOROOT")
    if not goroot:
        return []
    root = os.path.realpath(goroot)
    if os.path.dirname(go) == os.path.join(root, "bin") or go.startswith(
        os.path.join(root, "pkg", "tool") + os.sep
    ):
        return []
    s = ctx.env.setting("GOROOT")
    return [
        finding(
            CHECK,
            f"`go` on PATH ({go}) does not belong to GOROOT {goroot}",
            detail=f"GOROOT={goroot} ({s.where}). The go binary compiles against another "
            "installation's standard library and tools: version mismatches give errors such "
            'as `compile: version "go1.x" does not match go tool version`, or worse, '
            "silently mixed builds.",
            evidence=[
                Evidence(command="command -v go", output=go),
                Evidence(command="go env GOROOT", output=f"{goroot} ({s.where})"),
            ],
            fix="Unset GOROOT (the go command finds its own), or put $GOROOT/bin first on PATH.",
        )
    ]


CHECK = Check(
    "goroot-mismatch",
    ENV_SECTION,
    Severity.WARNING,
    "The `go` on PATH does not belong to `go env GOROOT`.",
    run,
)
