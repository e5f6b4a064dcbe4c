"""misnamed-tests: test functions `go test` will never run."""

from __future__ import annotations

import re
from pathlib import Path

from godiag.model.findings import Evidence, Finding, Location, Severity
from godiag.toolchain.checks.base import FILES_SECTION, Check, Context, finding, rel

_FUNC = re.compile(
    r"^func\s+(?P<kind>Test|Benchmark|Fuzz)(?P<rest>\w*)\s*\((?P<params>[^)]*)\)", re.M
)
_WANT = {"Test": "*testing.T", "Benchmark": "*testing.B", "Fuzz": "*testing.F"}


def _problem(kind: str, rest: str, params: str, in_test_file: bool) -> str | None:
    if kind == "Test" and rest == "Main":
        return None
    if not in_test_file:
        return "is in a file not ending in _test.go, so `go test` never sees it"
    if rest and not (rest[0].isupper() or rest[0].isdigit() or rest[0] == "_"):
        return (
            f"`{kind}{rest}`: the letter after {kind} is lower-case, so `go test` treats "
            "it as a plain function"
        )
    want = _WANT[kind]
    got = params.split()[-1] if params.split() else ""
    if params.count(",") or got != want:
        return f"takes ({params.strip()}) instead of one {want}, so it is not a {kind.lower()}"
    return None


def run(ctx: Context) -> list[Finding]:
    _, pkgs = ctx.packages()
    out: list[Finding] = []
    for p in pkgs:
        d = Path(p.get("Dir", ""))
        files = [(d / f, True) for k in ("TestGoFiles", "XTestGoFiles") for f in p.get(k) or []]
        files += [(d / f, False) for f in p.get("GoFiles") or []]
        for path, in_test in files:
            try:
                text = path.read_text(errors="replace")
            except OSError:
                continue
            if not in_test and '"testing"' not in text:
                continue
            for m in _FUNC.finditer(text):
                why = _problem(m["kind"], m["rest"], m["params"], in_test)
                if why is None:
                    continue
                line = text.count("\n", 0, m.start()) + 1
                name = m["kind"] + m["rest"]
                out.append(
                    finding(
                        CHECK,
                        f"{rel(ctx, path)}:{line}: {name} never runs",
                        detail=f"{name} {why}. `go test` passes without running it.",
                        evidence=[Evidence(file=rel(ctx, path), line=line, output=m.group(0))],
                        location=Location(rel(ctx, path), line),
                        fix=f"Name it {m['kind']}Xxx with an upper-case letter, take one "
                        f"{_WANT[m['kind']]}, and keep it in a _test.go file.",
                    )
                )
    return out


CHECK = Check(
    "misnamed-tests",
    FILES_SECTION,
    Severity.WARNING,
    "Test functions `go test` will never run (Testfoo, wrong signature, tests in non-_test files).",
    run,
)
