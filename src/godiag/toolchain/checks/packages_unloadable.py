"""packages-unloadable: `go list ./...` fails for DIR, so nothing in it builds or tests.

Every check that reads the package list (cgo, build constraints, embeds, test names,
skipped folders) reads an empty one then, and would pass in silence: a go.mod that needs
updating (a replaced module asking for a newer go line), inconsistent vendoring after a
go.mod edit, or no go.mod above DIR in module mode. The go command's own message is the
proof, and its first line names the fix.
"""

from __future__ import annotations

from godiag.model.findings import Finding, Severity
from godiag.toolchain.checks.base import ENV_SECTION, Check, Context, ev, finding

# the checks whose input is `go list ./...` (named in the finding: they found nothing)
READERS = ("cgo-disabled", "constraint-excluded-files", "embed-hidden-files",
           "misnamed-tests", "skipped-test-dirs")  # fmt: skip


def run(ctx: Context) -> list[Finding]:
    res, pkgs = ctx.packages()
    if any(p.get("Name") or p.get("Dir") for p in pkgs):
        # -e keeps per-package errors inside the packages (other checks' business)
        return []
    # the go command's own words: its stderr, or the error of the pattern itself
    # (`./...` outside any module comes back as a pseudo-package with only an Error)
    pattern = "\n".join(str((p.get("Error") or {}).get("Err", "")) for p in pkgs)
    if res.ok and not pattern.strip():
        return []  # "matched no packages" is a warning, and a folder may hold none
    said = (res.stderr.strip() if not res.ok else "") or pattern
    lines = [ln.strip() for ln in said.splitlines() if ln.strip()]
    if not lines:
        return []
    first = lines[0].removeprefix("go: ")
    if first.endswith(":") and len(lines) > 1:  # "...; to update it:" then the command
        first += " " + lines[1]
    return [
        finding(
            CHECK,
            f"the go command cannot load the packages here: {first}",
            detail=f"`{res.command}` fails before listing a package, so `go build ./...` "
            "and `go test ./...` fail the same way, and the checks that read the package "
            f"list ({', '.join(READERS)}) had nothing to look at.",
            evidence=[ev(res, said)],
            fix="Run the command the go command names (often `go mod tidy`, `go mod vendor` "
            "or `go mod init`) and commit what it changes; run doctor again after.",
        )
    ]


CHECK = Check(
    "packages-unloadable",
    ENV_SECTION,
    Severity.ERROR,
    "`go list ./...` fails in DIR (go.mod needs updating, inconsistent vendoring, no go.mod "
    "above DIR): nothing builds, and the checks that read packages have none.",
    run,
)
