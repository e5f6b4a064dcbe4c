"""gopath-mode: module mode is off, so go.mod (if any) is ignored."""

from __future__ import annotations

from godiag.model.findings import Evidence, Finding, Severity
from godiag.toolchain.checks.base import ENV_SECTION, Check, Context, finding


def run(ctx: Context) -> list[Finding]:
    if ctx.gomod:
        return []
    g111 = ctx.env.setting("GO111MODULE")
    why = (
        f"GO111MODULE={g111.value} ({g111.where})"
        if g111.value == "off"
        else "no go.mod in DIR or any parent, and GO111MODULE is not `on`"
    )
    return [
        finding(
            CHECK,
            "the go command runs in GOPATH mode here",
            detail=f"`go env GOMOD` is empty: {why}. Dependencies come from GOPATH, go.mod "
            "is ignored, and commands like `go get` behave differently or fail.",
            evidence=[
                Evidence(command="go env GOMOD", output=""),
                Evidence(command="go env GO111MODULE", output=f"{g111.shown} ({g111.where})"),
            ],
            fix="Create go.mod (`go mod init MODULE`) or unset GO111MODULE=off "
            "(`go env -u GO111MODULE` if it was set with `go env -w`).",
        )
    ]


CHECK = Check(
    "gopath-mode",
    ENV_SECTION,
    Severity.WARNING,
    "Module mode is off (GO111MODULE=off, or no go.mod above DIR): `go env GOMOD` is empty.",
    run,
)
