"""replace-directives: replace directives in effect; missing local targets are errors.

A replace only matters for a module in the build's module graph: multi-module
repositories (etcd) park `replace go.etcd.io/etcd => ./FORBIDDEN_DEPENDENCY` lines to
keep a module out of the graph on purpose. A missing target for a module the graph
does not contain breaks nothing, so it is info, not an error.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from godiag.model.findings import Evidence, Finding, Location, Severity
from godiag.toolchain.checks.base import ENV_SECTION, Check, Context, file_line, finding
from godiag.toolchain.gocmd import decode_json_stream


def _replaces(ctx: Context) -> list[tuple[Path, dict[str, Any]]]:
    """(file that declares it, replace entry) from go.mod and the active go.work."""
    out: list[tuple[Path, dict[str, Any]]] = []
    if ctx.modroot is not None:
        out += [(ctx.modroot / "go.mod", r) for r in (ctx.mod_edit or {}).get("Replace") or []]
    gowork = ctx.gowork
    if gowork and gowork != "off":
        res = ctx.runner.run("work", "edit", "-json", gowork)
        if res.ok:
            objs = decode_json_stream(res.stdout, "go work edit -json")
            if objs:
                out += [(Path(gowork), r) for r in objs[0].get("Replace") or []]
    return out


def _graph(ctx: Context) -> tuple[str, set[str] | None]:
    """Module paths of the build list (offline), or None when the go command cannot say."""
    res, mods = ctx.runner.list_modules(env_over={"GOPROXY": "off", "GOFLAGS": "-mod=readonly"})
    if not mods:
        return res.command, None
    return res.command, {str(m.get("Path")) for m in mods if m.get("Path")}


def run(ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    graph: tuple[str, set[str] | None] | None = None
    for declared_in, r in _replaces(ctx):
        old, new = r.get("Old") or {}, r.get("New") or {}
        old_s = old.get("Path", "") + (f"@{old['Version']}" if old.get("Version") else "")
        local = not new.get("Version")
        new_s = new.get("Path", "") + (f"@{new['Version']}" if not local else "")
        line = file_line(declared_in, re.escape(old.get("Path", "")) + r"[^\n]*=>") or file_line(
            declared_in, r"=>\s*" + re.escape(new.get("Path", ""))
        )
        loc = Location(str(declared_in), line)
        text = f"replace {old_s} => {new_s}"
        evidence = [Evidence(file=str(declared_in), line=line, output=text)]
        if local:
            target = (declared_in.parent / new.get("Path", "")).resolve()
            if not (target / "go.mod").is_file():
                what = "does not exist" if not target.exists() else "has no go.mod"
                evidence.append(
                    Evidence(command=f"test -f {target}/go.mod", output=f"{target} {what}")
                )
                graph = graph or _graph(ctx)
                command, paths = graph
                if paths is not None and old.get("Path") not in paths:
                    evidence.append(
                        Evidence(command=command, output=f"{old.get('Path')} not in the build list")
                    )
                    out.append(
                        finding(
                            CHECK,
                            f"replace of {old.get('Path')} (not in the build) points to "
                            f"{new.get('Path')}, which {what}",
                            detail=f"{text} in {declared_in.name}: {old.get('Path')} is not in "
                            "the module graph, so the replace is inert; a dependency on it "
                            "would fail to build (often deliberate: it keeps the module out).",
                            evidence=evidence,
                            location=loc,
                            severity=Severity.INFO,
                            fix="Nothing to do if it is a guard; otherwise drop the line.",
                        )
                    )
                    continue
                out.append(
                    finding(
                        CHECK,
                        f"replace of {old.get('Path')} points to {new.get('Path')}, which {what}",
                        detail=f"{text} in {declared_in.name}: the directory {target} {what}, so "
                        f"every build that needs {old.get('Path')} fails (`replacement directory "
                        f"{new.get('Path')} does not exist`), or works only on the machine "
                        "that has it.",
                        evidence=evidence,
                        location=loc,
                        severity=Severity.ERROR,
                        fix="Add the directory to the repository, fix the relative path, or drop "
                        "the replace and require a published version.",
                    )
                )
                continue
        out.append(
            finding(
                CHECK,
                f"{old.get('Path')} is replaced by {new_s}",
                detail=f"{text} in {declared_in.name}: this module builds "
                + ("a local directory" if local else "another version or fork")
                + f" instead of {old.get('Path')}; modules that depend on this one do not "
                "inherit the replace.",
                evidence=evidence,
                location=loc,
                severity=Severity.INFO,
                fix="Keep only deliberate replaces; publish and require a version when done.",
            )
        )
    return out


CHECK = Check(
    "replace-directives",
    ENV_SECTION,
    Severity.ERROR,
    "Replace directives in effect; local targets that do not exist are errors.",
    run,
)
