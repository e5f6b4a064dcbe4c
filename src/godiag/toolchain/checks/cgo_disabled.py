"""cgo-disabled: cgo is off while packages of the build graph have cgo files, or programs
use net/os/user.

A package with cgo files builds from another file set when cgo is off: its `//go:build
!cgo` fallback (a pure-Go implementation, or a stub such as go-sqlite3's that fails every
call at run time), and go build says nothing. Which files each side compiles is asked of
the go command itself: the build graph (`go list -deps -test`, only when cgo is off) as
the user builds it, then `CGO_ENABLED=1 go list` of the packages that left files out.
The module's own packages are errors; dependencies are warnings (their fallback may be
deliberate, and only running it tells).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from godiag.model.findings import Evidence, Finding, Location, Severity
from godiag.toolchain.checks.base import (
    ENV_SECTION,
    NO_NETWORK,
    Check,
    Context,
    ev,
    finding,
    rel,
)
from godiag.toolchain.gocmd import GoResult

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


def _plain(import_path: str) -> str:
    """`p [q.test]` (a package recompiled for q's tests) -> `p`."""
    return import_path.split(" [", 1)[0]


def _off_file_sets(graph: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Packages of the graph (not the standard library) that leave Go files out with
    cgo off, one entry per package (its plain variant when go list printed several)."""
    out: dict[str, dict[str, Any]] = {}
    for p in graph:
        ip = str(p.get("ImportPath", ""))
        if p.get("Standard") or not p.get("Dir") or not p.get("IgnoredGoFiles"):
            continue
        if ip.endswith(".test") or (p.get("ForTest") and _plain(ip).endswith("_test")):
            continue  # test mains and external test packages: no import path to list
        if _plain(ip) not in out or " [" not in ip:
            out[_plain(ip)] = p
    return out


def _dropped(
    ctx: Context,
) -> tuple[GoResult, GoResult, list[tuple[dict[str, Any], dict[str, Any]]]]:
    """(off listing, on listing, [(off, on)]) for each package that has cgo files with
    cgo on: go list itself says which files it compiles either way, constraints, -tags
    and `ignore` files included."""
    res_off, graph = ctx.graph()
    off = _off_file_sets(graph)
    if not off:
        return res_off, res_off, []
    res_on, listed = ctx.runner.json(
        "list",
        "-e",
        "-json=ImportPath,Dir,GoFiles,CgoFiles",
        *ctx.list_flags(),
        *sorted(off),
        env_over={"CGO_ENABLED": "1", **NO_NETWORK},
    )
    pairs = [
        (off[str(q["ImportPath"])], q)
        for q in listed
        if q.get("CgoFiles") and str(q.get("ImportPath")) in off
    ]
    return res_off, res_on, pairs


def _files(p: dict[str, Any], key: str) -> list[str]:
    return [str(f) for f in p.get(key) or []]


def _dropped_finding(
    ctx: Context,
    why: str,
    cgo_ev: Evidence,
    res_off: GoResult,
    res_on: GoResult,
    off: dict[str, Any],
    on: dict[str, Any],
    own: set[str],
) -> Finding:
    ip = str(on["ImportPath"])
    d = Path(str(on.get("Dir") or off.get("Dir")))
    cgo_files = _files(on, "CgoFiles")
    dropped = sorted(set(cgo_files) | (set(_files(on, "GoFiles")) - set(_files(off, "GoFiles"))))
    fallback = sorted(set(_files(off, "GoFiles")) - set(_files(on, "GoFiles")))
    lines = [(f, _import_c_line(d / f)) for f in cgo_files[:5]]
    first, first_line = lines[0]
    mine = ip in own
    instead = (
        f"; it builds from {', '.join(fallback[:5])} instead (a pure-Go fallback or a stub "
        "that fails at run time: the build does not say which)"
        if fallback
        else ""
    )
    return finding(
        CHECK,
        f"{ip}: {len(cgo_files)} cgo file(s) left out of the build"
        if mine
        else f"dependency {ip} builds without its {len(cgo_files)} cgo file(s)"
        + (f", from {', '.join(fallback[:3])}" if fallback else ""),
        detail=f"{why}. With cgo on, {ip} compiles {', '.join(cgo_files[:5])}"
        + ("…" if len(cgo_files) > 5 else "")
        + f"; with cgo off the go command silently leaves out {len(dropped)} file(s)"
        + instead
        + ". The binary (and its tests) get that code, with no warning from go build.",
        evidence=[
            cgo_ev,
            ev(
                res_off,
                f"{off.get('ImportPath')}: GoFiles {' '.join(_files(off, 'GoFiles'))}; "
                f"left out: {' '.join(dropped)}",
            ),
            ev(
                res_on,
                f"{ip}: GoFiles {' '.join(_files(on, 'GoFiles'))}; CgoFiles {' '.join(cgo_files)}",
            ),
            *(Evidence(file=rel(ctx, d / f), line=ln, output='import "C"') for f, ln in lines),
        ],
        location=Location(rel(ctx, d / first), first_line),
        severity=Severity.ERROR if mine else Severity.WARNING,
        fix="Install a C compiler and set CGO_ENABLED=1, or give the package a pure-Go "
        "fallback file guarded by `//go:build !cgo`."
        if mine
        else f"Build with CGO_ENABLED=1 (and a C compiler), or make sure {ip} is meant to "
        "work without cgo: run the program's tests with CGO_ENABLED=0, or pick a pure-Go "
        "alternative.",
    )


def run(ctx: Context) -> list[Finding]:
    if ctx.env.get("CGO_ENABLED") != "0":
        return []
    why = _why_off(ctx)
    _, pkgs = ctx.packages()
    cgo_ev = Evidence(command="go env CGO_ENABLED", output="0")
    own = {str(p.get("ImportPath")) for p in pkgs}
    res_off, res_on, pairs = _dropped(ctx)
    out = [_dropped_finding(ctx, why, cgo_ev, res_off, res_on, off, on, own) for off, on in pairs]
    sensitive: list[str] = []
    for p in pkgs:
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
    "cgo is off (explicitly, or no C compiler, or cross-compiling) while packages of the "
    "build graph have cgo files: DIR's own (error) or dependencies that then build from a "
    "`!cgo` fallback or stub (warning, e.g. go-sqlite3); or programs use net/os/user.",
    run,
)
