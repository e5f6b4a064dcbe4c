"""goflags-injection: GOFLAGS silently adds flags to every go command."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from godiag.model.findings import Evidence, Finding, Location, Severity
from godiag.toolchain.checks.base import ENV_SECTION, NO_NETWORK, Check, Context, finding, rel

# Flags that only change logging or scheduling: context, not a silent failure.
BENIGN = {"-buildvcs", "-v", "-x", "-p", "-n", "-json", "-count", "-modcacherw"}
# Flags that change which files are compiled.
FILE_SELECTING = {"-tags", "-mod", "-modfile", "-overlay"}


def _flag_names(goflags: str) -> list[str]:
    try:
        words = shlex.split(goflags)
    except ValueError:
        words = goflags.split()
    return ["-" + w.lstrip("-").split("=")[0] for w in words if w.startswith("-")]


def _files(pkgs: list[dict[str, Any]]) -> set[str]:
    out: set[str] = set()
    for p in pkgs:
        for key in ("GoFiles", "CgoFiles", "TestGoFiles", "XTestGoFiles"):
            out.update(str(Path(p.get("Dir", "")) / f) for f in p.get(key) or [])
    return out


def run(ctx: Context) -> list[Finding]:
    s = ctx.env.setting("GOFLAGS")
    if not s.value.strip():
        return []
    names = _flag_names(s.value)
    harmful = [n for n in names if n not in BENIGN]
    evidence = [Evidence(command="go env GOFLAGS", output=s.shown)]
    location = Location(s.file, s.line) if s.file else None
    if s.file:
        evidence.append(Evidence(file=s.file, line=s.line, output=f"GOFLAGS={s.shown}"))
    changed: list[str] = []
    if any(n in FILE_SELECTING for n in names):
        with_res, with_flags = ctx.packages()
        bare_res, bare = ctx.runner.list_packages(
            "./...", flags=ctx.list_flags(), env_over={**NO_NETWORK, "GOFLAGS": ""}
        )
        a, b = _files(with_flags), _files(bare)
        changed = [f"+ {rel(ctx, f)}" for f in sorted(a - b)]
        changed += [f"- {rel(ctx, f)}" for f in sorted(b - a)]
        if changed:
            evidence.append(
                Evidence(
                    command=f"{with_res.command}  vs  {bare_res.command}",
                    output="\n".join(changed[:50]),
                )
            )
    detail = (
        f"GOFLAGS={s.shown} comes from the {s.where} and applies to every go command "
        "(build, test, list, vet) without appearing on the command line."
    )
    if changed:
        detail += f" It changes the compiled file set: {len(changed)} file(s) differ."
    return [
        finding(
            CHECK,
            f"GOFLAGS adds {' '.join(names)} to every go command",
            detail=detail,
            evidence=evidence,
            location=location,
            severity=None if harmful else Severity.INFO,
            fix="Pass the flags explicitly where they are meant (Makefile, CI script) and "
            + (
                "remove the line from the GOENV file: `go env -u GOFLAGS`."
                if s.file
                else "unset GOFLAGS in the environment."
            ),
        )
    ]


CHECK = Check(
    "goflags-injection",
    ENV_SECTION,
    Severity.WARNING,
    "GOFLAGS (environment or `go env -w` file) adds flags (-mod, -tags, -trimpath…) to "
    "every command; says which files/packages change because of it.",
    run,
)
