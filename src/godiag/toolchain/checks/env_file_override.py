"""env-file-override: settings persisted in the GOENV file or $GOROOT/go.env."""

from __future__ import annotations

from godiag.model.findings import Evidence, Finding, Location, Severity
from godiag.toolchain.checks.base import ENV_SECTION, Check, Context, finding


def run(ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    for s in sorted(ctx.env.from_files(), key=lambda s: (s.source, s.name)):
        if ctx.env.is_official_default(s.name):
            continue
        from_goenv = s.source == "goenv-file"
        out.append(
            finding(
                CHECK,
                f"{s.name}={s.shown} is set in the {s.where.split(' /')[0]}",
                detail=(
                    f"{s.name} comes from {s.where}, not from the environment: it applies to "
                    "every go command of this user and is easy to forget"
                    if from_goenv
                    else f"{s.name} comes from {s.where}: this Go distribution ships a value "
                    "that differs from the official default"
                )
                + ".",
                evidence=[
                    Evidence(command=f"go env {s.name}", output=s.shown),
                    Evidence(file=s.file, line=s.line, output=f"{s.name}={s.shown}"),
                ],
                location=Location(s.file, s.line) if s.file else None,
                severity=Severity.WARNING if from_goenv else Severity.INFO,
                fix=f"`go env -u {s.name}` if it was not meant to be permanent."
                if from_goenv
                else f"Set {s.name} explicitly where it matters (CI, Dockerfile) so builds do "
                "not depend on how Go was installed.",
            )
        )
    return out


CHECK = Check(
    "env-file-override",
    ENV_SECTION,
    Severity.WARNING,
    "Settings persisted in the GOENV file or `$GOROOT/go.env` that differ from defaults "
    "(source shown per setting).",
    run,
)
