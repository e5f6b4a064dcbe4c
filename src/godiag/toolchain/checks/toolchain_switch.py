"""toolchain-switch: GOTOOLCHAIN and go.mod's go/toolchain lines pick another go."""

from __future__ import annotations

from godiag.model.findings import Evidence, Finding, Location, Severity
from godiag.toolchain.checks.base import ENV_SECTION, Check, Context, ev, file_line, finding
from godiag.toolchain.gocmd import parse_version


def _mod_location(ctx: Context) -> Location | None:
    if ctx.modroot is None:
        return None
    gomod = ctx.modroot / "go.mod"
    line = file_line(gomod, r"^\s*toolchain\s") or file_line(gomod, r"^\s*go\s")
    return Location(str(gomod), line)


def run(ctx: Context) -> list[Finding]:
    gotc = ctx.env.setting("GOTOOLCHAIN")
    local = ctx.local_version
    local_v = parse_version(local) or (0, 0, 0)
    me = ctx.mod_edit or {}
    go_line = str(me.get("Go") or "")
    tc = me.get("Toolchain")
    tc_line = str(tc.get("Name", "") if isinstance(tc, dict) else tc or "")
    loc = _mod_location(ctx)
    mod_ev = (
        [
            Evidence(
                file=loc.file,
                line=loc.line,
                output=f"go {go_line}" + (f" / toolchain {tc_line}" if tc_line else ""),
            )
        ]
        if loc
        else []
    )
    tc_ev = Evidence(command="go env GOTOOLCHAIN", output=f"{gotc.shown} ({gotc.where})")
    required = parse_version(go_line) if go_line else None
    if required and required > local_v and gotc.value.split("+")[0] == "local":
        return [
            finding(
                CHECK,
                f"go.mod requires go {go_line} but GOTOOLCHAIN=local pins {local}",
                detail="Every go command in this module fails with `go.mod requires go >= "
                f"{go_line}`: GOTOOLCHAIN=local forbids switching to the required toolchain.",
                evidence=[tc_ev, *mod_ev],
                location=loc,
                fix=f"Install go {go_line} or newer, or let the go command fetch it "
                "(GOTOOLCHAIN=auto).",
            )
        ]
    res = ctx.effective_res
    if not res.ok:
        return [
            finding(
                CHECK,
                "the toolchain selected for this module is not available locally",
                detail="GOTOOLCHAIN and the go/toolchain lines select a toolchain that is not "
                "in the module cache; the next go command will try to download it (probed "
                "with GOPROXY=off, so nothing was downloaded).",
                evidence=[tc_ev, *mod_ev, ev(res)],
                location=loc,
                fix="Run one go command online to cache it, or pin GOTOOLCHAIN to an "
                "installed version.",
            )
        ]
    eff = ctx.effective_version
    if eff and eff != local:
        return [
            finding(
                CHECK,
                f"go commands here run {eff}, not the {local} on PATH",
                detail=f"GOTOOLCHAIN={gotc.shown} ({gotc.where}) with the module's go/toolchain "
                f"lines switches to {eff} (from {ctx.effective_goroot}). `go version` in "
                "another directory prints something else.",
                evidence=[
                    tc_ev,
                    *mod_ev,
                    ev(res, eff),
                    Evidence(command="GOTOOLCHAIN=local go env GOVERSION", output=local),
                ],
                location=loc,
                fix="Expected if go.mod asks for it; otherwise align the toolchain line with "
                "the installed go, or install that version so no switch happens.",
            )
        ]
    return []


CHECK = Check(
    "toolchain-switch",
    ENV_SECTION,
    Severity.WARNING,
    "GOTOOLCHAIN and the go/toolchain lines select a different toolchain than the `go` on "
    "PATH, or `GOTOOLCHAIN=local` blocks a required version.",
    run,
)
