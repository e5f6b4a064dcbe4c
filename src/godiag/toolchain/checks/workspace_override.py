"""workspace-override: a go.work decides which module copies are built.

The finding names each module the workspace swaps in: its path, the version this
module's go.mod requires (what CI without the go.work builds), and the directory
the workspace builds instead; and each go.work replace with both sides. A go.work
that uses only this module and replaces nothing (`go work init .`) changes no
module or version, so it is no warning; but its go line (the toolchain's version, as
`go work init` writes it) sets the GODEBUG defaults of every binary in workspace mode,
which is said as info when `go list` reports other defaults than with GOWORK=off.
"""

from __future__ import annotations

import re
from pathlib import Path

from godiag.model.findings import Evidence, Finding, Location, Severity
from godiag.toolchain.checks.base import (
    ENV_SECTION,
    NO_NETWORK,
    Check,
    Context,
    ev,
    file_line,
    finding,
)
from godiag.toolchain.gocmd import GoResult


def _directives(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every use/replace directive, including those inside blocks."""
    out: list[tuple[int, str]] = []
    block = ""
    for n, raw in enumerate(path.read_text(errors="replace").splitlines(), start=1):
        line = raw.split("//")[0].strip()
        if not line:
            continue
        if block:
            if line == ")":
                block = ""
            else:
                out.append((n, f"{block} {line}"))
            continue
        m = re.match(r"^(use|replace)\s*\($", line)
        if m:
            block = m.group(1)
        elif re.match(r"^(use|replace)\s", line):
            out.append((n, line))
    return out


_MODULE = re.compile(r"^module\s+\"?([^\s\"]+)", re.M)


def _module_path(directory: Path) -> str | None:
    try:
        m = _MODULE.search((directory / "go.mod").read_text(errors="replace"))
    except OSError:
        return None
    return m.group(1) if m else None


def swaps(ctx: Context, work: Path, dirs: list[tuple[int, str]]) -> list[str]:
    """One line per module the workspace swaps: path, go.mod's version, the workspace copy."""
    required = {
        str(r["Path"]): str(r.get("Version", ""))
        for r in (ctx.mod_edit or {}).get("Require") or []
        if r.get("Path")
    }
    out: list[str] = []
    for n, text in dirs:
        kind, _, arg = text.partition(" ")
        arg = arg.strip().strip('"')
        if kind == "use":
            target = (work.parent / arg).resolve()
            if ctx.modroot is not None and target == ctx.modroot.resolve():
                continue  # this module itself
            mod = _module_path(target) or "?"
            if mod in required:
                out.append(
                    f"{mod}: go.mod requires {required[mod]}; go.work:{n} builds {target} "
                    f"(`use {arg}`) instead"
                )
            else:
                out.append(f"{mod}: not required by this module; go.work:{n} adds {target}")
        else:
            old, _, new = arg.partition("=>")
            mod = old.split()[0] if old.split() else "?"
            was = required.get(mod, "not required by this module")
            out.append(f"{mod}: go.mod {was}; go.work:{n} replaces it with {new.strip()}")
    return out


def run(ctx: Context) -> list[Finding]:
    gowork = ctx.gowork
    if not gowork or gowork == "off":
        return []
    path = Path(gowork)
    setting = ctx.env.setting("GOWORK")
    how = (
        f"GOWORK={gowork} ({setting.where})"
        if setting.source != "default"
        else f"found by searching upward from {ctx.dir}"
    )
    try:
        dirs = _directives(path)
    except OSError:
        dirs = []
    evidence = [Evidence(command="go env GOWORK", output=gowork)]
    evidence += [Evidence(file=str(path), line=n, output=text) for n, text in dirs]
    inside = ctx.modroot is not None and path.parent in (ctx.modroot, *ctx.modroot.parents)
    uses = [t for _, t in dirs if t.startswith("use")]
    reps = [t for _, t in dirs if t.startswith("replace")]
    swapped = swaps(ctx, path, dirs)
    context = _godebug_change(ctx, path)
    if not swapped:
        # `go work init .`: the workspace holds only this module and replaces nothing, so
        # every module and version is the one go.mod selects.
        return context
    evidence += [Evidence(file=str(path), output=s) for s in swapped]
    names = [s.split(":")[0] for s in swapped]
    return [
        *context,
        finding(
            CHECK,
            f"go.work at {path} swaps {len(swapped)} module(s): {', '.join(names[:3])}"
            + ("…" if len(names) > 3 else ""),
            detail=f"Workspace mode is on ({how}). Modules listed by `use` are built from "
            f"those directories instead of the versions in go.mod ({len(uses)} use, "
            f"{len(reps)} replace). CI that checks out only this module builds something else."
            + ("" if inside else " The go.work lives outside this module's directory.")
            + "".join(f"\n- {s}" for s in swapped),
            evidence=evidence,
            location=Location(str(path), dirs[0][0] if dirs else None),
            fix="Run with GOWORK=off to build as go.mod says, or remove/commit the go.work "
            "deliberately (and add it to .gitignore if it is a local convenience).",
        ),
    ]


# Main packages (programs and test binaries) and the GODEBUG defaults linked into them.
_GODEBUG_FORMAT = '{{if eq .Name "main"}}{{.ImportPath}}\t{{.DefaultGODEBUG}}{{end}}'


def _godebug_by_binary(ctx: Context, gowork: str | None) -> tuple[GoResult, dict[str, str]]:
    over: dict[str, str | None] = {**NO_NETWORK}
    if gowork is not None:
        over["GOWORK"] = gowork
    res = ctx.runner.run(
        "list", "-e", "-test", "-f", _GODEBUG_FORMAT, *ctx.list_flags(), "./...", env_over=over
    )
    rows = (line.partition("\t") for line in res.stdout.splitlines() if line.strip())
    return res, {ip: value for ip, _, value in rows}


def _listed(settings: list[str]) -> str:
    if not settings:
        return "none of them"
    more = f" and {len(settings) - 6} more" if len(settings) > 6 else ""
    return ", ".join(settings[:6]) + more


def _godebug_change(ctx: Context, path: Path) -> list[Finding]:
    """In workspace mode the go.work's go and godebug lines, not go.mod's, set the
    GODEBUG defaults of every binary (`go work init` writes the toolchain's version):
    shown, as context, when the go command reports different defaults with GOWORK=off."""
    res_on, on = _godebug_by_binary(ctx, None)
    res_off, off = _godebug_by_binary(ctx, "off")
    if not (res_on.ok and res_off.ok):
        return []
    changed = sorted(ip for ip in on.keys() & off.keys() if on[ip] != off[ip])
    if not changed:
        return []
    ip = changed[0]
    was, now = set(filter(None, off[ip].split(","))), set(filter(None, on[ip].split(",")))
    only_off, only_on = sorted(was - now), sorted(now - was)
    return [
        finding(
            CHECK,
            f"go.work at {path} changes the GODEBUG defaults of {len(changed)} binaries",
            detail="In workspace mode the go.work's go line (and godebug lines) set the "
            "GODEBUG defaults built into programs and test binaries, instead of go.mod's. "
            f"{ip}, built with GOWORK=off, has {_listed(only_off)}; in the workspace it has "
            f"{_listed(only_on)}. Behaviour these guard (TLS, x509, HTTP parsing, timers) "
            "differs between this checkout and CI that builds without the go.work.",
            evidence=[
                ev(res_off, f"{ip}\t{off[ip] or '(none)'}"),
                ev(res_on, f"{ip}\t{on[ip] or '(none)'}"),
            ],
            location=Location(str(path), file_line(path, r"^\s*go\s")),
            severity=Severity.INFO,
            fix="Give go.work the same go line as go.mod (`go work edit -go=VERSION`), or "
            "build with GOWORK=off.",
        )
    ]


CHECK = Check(
    "workspace-override",
    ENV_SECTION,
    Severity.WARNING,
    "A go.work (found upward or via GOWORK) builds other module copies than go.mod "
    "selects: names each `use` of another module and each `replace`; a go.work of this "
    "module alone (`go work init .`) is no warning. Info when its go line changes the "
    "GODEBUG defaults of the binaries (go list with and without it).",
    run,
)
