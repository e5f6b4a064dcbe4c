"""vendor-auto: vendor/modules.txt makes builds use vendor/ without any flag.

A vendored module is a deliberate, standard layout and the go command itself fails
loudly when vendor/modules.txt and go.mod disagree, so vendor mode alone is context
(info). What vendor mode hides silently is a local `replace` target: edits in that
directory are ignored until `go mod vendor` runs again, so that case is a warning.
"""

from __future__ import annotations

from godiag.model.findings import Evidence, Finding, Location, Severity
from godiag.toolchain.checks.base import (
    ENV_SECTION,
    Check,
    Context,
    file_line,
    finding,
    has_mod_flag,
)


def run(ctx: Context) -> list[Finding]:
    root = ctx.modroot
    if root is None or (ctx.gowork and ctx.gowork != "off"):
        return []
    modules_txt = root / "vendor" / "modules.txt"
    if not modules_txt.is_file():
        return []
    go_line = ctx.go_line()
    if go_line is None or go_line[:2] < (1, 14):
        return []
    if has_mod_flag(ctx.env.get("GOFLAGS")):
        return []
    gomod = root / "go.mod"
    line = file_line(gomod, r"^\s*go\s")
    local = [
        f"{r['Old']['Path']} => {r['New']['Path']}"
        for r in (ctx.mod_edit or {}).get("Replace") or []
        if r.get("New") and not r["New"].get("Version")
    ]
    hidden = (
        f" Local replace targets are read from their vendor/ copies, so edits in them are "
        f"ignored until `go mod vendor`: {', '.join(local[:5])}."
        if local
        else ""
    )
    return [
        finding(
            CHECK,
            "builds use vendor/ implicitly (-mod=vendor without any flag)",
            detail="vendor/modules.txt exists and go.mod says go >= 1.14, so every build "
            "reads dependencies from vendor/ instead of the module cache. Edits to go.mod "
            "that are not followed by `go mod vendor` make builds fail with `inconsistent "
            "vendoring`, and the module cache copies are never used." + hidden,
            evidence=[
                Evidence(file=str(modules_txt), line=1, output="vendor/modules.txt present"),
                Evidence(file=str(gomod), line=line, output=f"go {(ctx.mod_edit or {}).get('Go')}"),
                Evidence(command="go env GOFLAGS", output=ctx.env.get("GOFLAGS")),
            ],
            location=Location(str(modules_txt), 1),
            severity=Severity.WARNING if local else Severity.INFO,
            fix="Keep vendor/ in sync with `go mod vendor` (CI: `go mod vendor && git diff "
            "--exit-code`), or delete vendor/ and use -mod=mod/readonly.",
        )
    ]


CHECK = Check(
    "vendor-auto",
    ENV_SECTION,
    Severity.WARNING,
    "vendor/modules.txt plus go ≥ 1.14 makes builds use vendor/ without any flag; a warning "
    "when local replace targets are then read from stale vendor/ copies, else info.",
    run,
)
