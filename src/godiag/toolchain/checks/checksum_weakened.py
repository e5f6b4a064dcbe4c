"""checksum-verification-weakened: settings that let unverified module bits in."""

from __future__ import annotations

from godiag.model.findings import Evidence, Finding, Location, Severity
from godiag.toolchain.checks.base import ENV_SECTION, Check, Context, finding
from godiag.toolchain.envsnapshot import Setting


def _broad(patterns: str) -> list[str]:
    """Glob patterns that cover (nearly) everything: `*`, `*.*`, a bare TLD/host wildcard."""
    out = []
    for p in (x.strip() for x in patterns.split(",")):
        if not p:
            continue
        first = p.split("/")[0]
        if first in {"*", "*.*", "*.com", "*.org", "*.io", "*.net"} or p in {
            "github.com",
            "golang.org",
        }:
            out.append(p)
    return out


def _f(s: Setting, title: str, detail: str, fix: str, sev: Severity) -> Finding:
    evidence = [Evidence(command=f"go env {s.name}", output=f"{s.shown} ({s.where})")]
    loc = None
    if s.file:
        evidence.append(Evidence(file=s.file, line=s.line, output=f"{s.name}={s.shown}"))
        loc = Location(s.file, s.line)
    return finding(
        CHECK, title, detail=detail, evidence=evidence, location=loc, fix=fix, severity=sev
    )


def run(ctx: Context) -> list[Finding]:
    env = ctx.env
    out: list[Finding] = []
    sumdb = env.setting("GOSUMDB")
    if sumdb.value == "off":
        out.append(
            _f(
                sumdb,
                "GOSUMDB=off: downloaded modules are not checked against the checksum database",
                "The first download of every module is trusted as is and written to "
                "go.sum: a compromised proxy or VCS host goes unnoticed.",
                "Unset GOSUMDB (default sum.golang.org); list private modules in "
                "GOPRIVATE/GONOSUMDB instead.",
                Severity.ERROR,
            )
        )
    flags = env.setting("GOFLAGS")
    if "-insecure" in flags.value.split():
        out.append(
            _f(
                flags,
                "GOFLAGS contains -insecure",
                "-insecure skipped checksum and "
                "TLS verification (removed in Go 1.17; newer go commands reject it).",
                "Remove -insecure; use GOINSECURE for specific hosts if unavoidable.",
                Severity.ERROR,
            )
        )
    for name in ("GONOSUMDB", "GOPRIVATE", "GONOSUMCHECK", "GONOPROXY"):
        s = env.setting(name)
        broad = _broad(s.value)
        if broad:
            out.append(
                _f(
                    s,
                    f"{name}={s.shown} exempts (nearly) every module from checksum verification"
                    if name != "GONOPROXY"
                    else f"{name}={s.shown} sends (nearly) every module past the proxy",
                    f"The pattern(s) {', '.join(broad)} match public modules too, so "
                    "their checksums are never checked against sum.golang.org.",
                    f"Narrow {name} to your private hosts (e.g. git.corp.example/*).",
                    Severity.WARNING,
                )
            )
    ins = env.setting("GOINSECURE")
    if ins.value:
        out.append(
            _f(
                ins,
                f"GOINSECURE={ins.shown} allows plain HTTP and skips TLS checks",
                "Modules matching these patterns may be fetched over insecure connections.",
                "Serve those modules over HTTPS and unset GOINSECURE.",
                Severity.WARNING,
            )
        )
    proxy = env.setting("GOPROXY")
    if not env.is_official_default("GOPROXY"):
        entries = [e for e in proxy.value.replace("|", ",").split(",") if e]
        if entries[:1] == ["direct"]:
            out.append(
                _f(
                    proxy,
                    "GOPROXY=direct: modules come straight from VCS hosts",
                    "Without a proxy, a re-tagged or deleted version changes what you "
                    "build; only the checksum database stands between you and it.",
                    "Use a module proxy (https://proxy.golang.org or your own) before `direct`.",
                    Severity.WARNING,
                )
            )
        elif entries[:1] == ["off"] and proxy.source != "environment":
            out.append(
                _f(
                    proxy,
                    f"GOPROXY=off is persisted ({proxy.where})",
                    "Every download is refused; builds only work from a warm module "
                    "cache, and the failure looks like a missing module.",
                    "Set GOPROXY only where offline builds are intended.",
                    Severity.INFO,
                )
            )
    return out


CHECK = Check(
    "checksum-verification-weakened",
    ENV_SECTION,
    Severity.ERROR,
    "GOSUMDB=off, broad GONOSUMDB/GOPRIVATE/GONOPROXY patterns, GOINSECURE, "
    "GOPROXY=direct/off, distro go.env doing the same.",
    run,
)
