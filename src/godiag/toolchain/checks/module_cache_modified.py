"""module-cache-modified: `go mod verify` finds dependency copies that were edited."""

from __future__ import annotations

import re

from godiag.model.findings import Finding, Location, Severity
from godiag.toolchain.checks.base import (
    ENV_SECTION,
    NO_NETWORK,
    Check,
    Context,
    Skipped,
    ev,
    finding,
)

_MODIFIED = re.compile(r"^(?P<mod>\S+) (?P<ver>\S+): dir has been modified \((?P<dir>.*)\)$", re.M)


def run(ctx: Context) -> list[Finding]:
    if ctx.modroot is None:
        raise Skipped("no main module (GOPATH mode or no go.mod)")
    res = ctx.runner.run("mod", "verify", cwd=ctx.modroot, env_over=NO_NETWORK, timeout=300)
    out: list[Finding] = []
    for m in _MODIFIED.finditer(res.stdout + res.stderr):
        out.append(
            finding(
                CHECK,
                f"{m['mod']} {m['ver']} in the module cache has been modified",
                detail=f"The extracted copy at {m['dir']} no longer matches the hash recorded "
                "when it was downloaded: every build on this machine compiles the edited code, "
                "while go.sum still claims the original.",
                evidence=[ev(res, m.group(0))],
                location=Location(m["dir"]),
                fix=f"Remove the copy and download it again: `go clean -modcache` (or "
                f"`chmod -R u+w {m['dir']} && rm -rf {m['dir']}` then `go mod download`).",
            )
        )
    return out


CHECK = Check(
    "module-cache-modified",
    ENV_SECTION,
    Severity.ERROR,
    "`go mod verify` reports modified modules.",
    run,
    deep=True,
)
