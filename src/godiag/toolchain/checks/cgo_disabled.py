"""cgo-disabled: cgo is off while packages contain cgo files or depend on net/os/user."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from godiag.model.findings import Evidence, Finding, Location, Severity
from godiag.toolchain.checks.base import ENV_SECTION, Check, Context, ev, finding, rel

_IMPORT_C = re.compile(r'^\s*(?:import\s+)?"C"\s*$', re.M)
CGO_SENSITIVE = ("net", "os/user")


def _why_off(ctx: Context) -> str:
    s = ctx.env.setting("CGO_ENABLED")
    if s.source != "default":
        return f"CGO_ENABLED=0 is set ({s.where})"
    if (ctx.env.get("GOOS"), ctx.env.get("GOARCH")) != (
        ctx.env.get("GOHOSTOS"),
        ctx.env.get("GOHOSTARCH"),
    ):
        return "cross-compiling (GOOS/GOARCH differ from the host) turns cgo off by default"
    cc = ctx.env.get("CC") or "gcc"
    if shutil.which(cc.split()[0], path=ctx.runner.env.get("PATH")) is None:
        return f"no C compiler was found (CC={cc}), so the go command turned cgo off"
    return "cgo is off by default here"


def _import_c_line(path: Path) -> int | None:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return None
    m = _IMPORT_C.search(text)
    return text.count("\n", 0, m.start()) + 1 if m else None


def run(ctx: Context) -> list[Finding]:
    if ctx.env.get("CGO_ENABLED") != "0":
        return []
    why = _why_off(ctx)
    res, pkgs = ctx.packages()
    cgo_ev = Evidence(command="go env CGO_ENABLED", output="0")
    out: list[Finding] = []
    sensitive: list[str] = []
    for p in pkgs:
        d = Path(p.get("Dir", ""))
        excluded = [
            (f, line)
            for f in p.get("IgnoredGoFiles") or []
            if (line := _import_c_line(d / f)) is not None
        ]
        if excluded:
            first = rel(ctx, d / excluded[0][0])
            out.append(
                finding(
                    CHECK,
                    f"{p.get('ImportPath')}: {len(excluded)} cgo file(s) left out of the build",
                    detail=f'{why}. Files that import "C" are silently excluded, so the '
                    "package builds without them (or fails on missing symbols), and its "
                    "cgo-only behaviour disappears.",
                    evidence=[
                        cgo_ev,
                        *(
                            Evidence(file=rel(ctx, d / f), line=ln, output='import "C"')
                            for f, ln in excluded
                        ),
                        ev(
                            res,
                            f"{p.get('ImportPath')} IgnoredGoFiles: "
                            + " ".join(p.get("IgnoredGoFiles") or []),
                        ),
                    ],
                    location=Location(first, excluded[0][1]),
                    fix="Install a C compiler and set CGO_ENABLED=1, or give the package a "
                    "pure-Go fallback file guarded by `//go:build !cgo`.",
                )
            )
        deps = set(p.get("Deps") or []) | set(p.get("Imports") or [])
        if p.get("Name") == "main" and any(s in deps for s in CGO_SENSITIVE):
            sensitive.append(str(p.get("ImportPath")))
    if sensitive:
        implicit = not why.startswith("CGO_ENABLED=0 is set")
        out.append(
            finding(
                CHECK,
                f"{len(sensitive)} program(s) use net or os/user with cgo off",
                detail=f"{why}. `net` then uses the pure-Go DNS resolver (no nsswitch, "
                "different search/timeout behaviour) and `os/user` reads /etc/passwd only.",
                evidence=[cgo_ev, Evidence(output="\n".join(sensitive[:20]))],
                severity=Severity.WARNING if implicit else Severity.INFO,
                fix="Set CGO_ENABLED explicitly in the build so the choice is deliberate; "
                "check behaviour with GODEBUG=netdns=go+1 vs cgo+1.",
            )
        )
    return out


CHECK = Check(
    "cgo-disabled",
    ENV_SECTION,
    Severity.ERROR,
    "cgo is off (explicitly, or no C compiler, or cross-compiling) while packages have "
    "CgoFiles, or use net/os/user whose behaviour changes.",
    run,
)
