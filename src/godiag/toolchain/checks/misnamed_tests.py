"""misnamed-tests: test functions `go test` silently never runs.

The rule follows what `go test` does with a parsed declaration (cmd/go's test loader and
vet's `tests` pass), read through go/ast (`godiag.toolchain.gotests`), never by regex:

- In a _test.go file of the package's test build, a top-level function taking one
  *testing.T/B/F and returning nothing is skipped without a word when the letter after
  Test/Benchmark/Fuzz is lower-case (`Testadd`), or when it has type parameters.
  A well-named TestXxx with a wrong signature is not reported: `go test` refuses to build
  it ("wrong signature for TestXxx"), which is loud.
- In a non-test file, a function that would be a test in a _test.go file is never run.
  Exported TestXxx/BenchmarkXxx functions there are usually helpers for other packages'
  tests (x/tools' `analysistest`-style suites): one that anything in the module refers to,
  or whose signature is not a test's, is a helper and not reported.
"""

from __future__ import annotations

from pathlib import Path

from godiag.errors import GoCommandError
from godiag.model.findings import Evidence, Finding, Location, Severity
from godiag.toolchain import gotests
from godiag.toolchain.checks.base import FILES_SECTION, Check, Context, Skipped, finding, rel

_PREFIXES = ("Test", "Benchmark", "Fuzz")
_KIND = {"Test": "T", "Benchmark": "B", "Fuzz": "F"}


def _prefix(name: str) -> str:
    return next(p for p in _PREFIXES if name.startswith(p))


def _well_named(name: str, prefix: str) -> bool:
    """cmd/go's isTest: the prefix alone, or followed by a non-lower-case letter."""
    rest = name[len(prefix) :]
    return not rest or not rest[0].islower()


def _problem(f: gotests.Func, refs: frozenset[str]) -> str | None:
    prefix = _prefix(f.name)
    if f.method or f.results or f.type_params or f.param != _KIND[prefix] or f.name == "TestMain":
        return None  # not test-shaped: a helper, or a loud `go test` error
    if f.test_file:
        if not _well_named(f.name, prefix):
            return (
                f"the letter after {prefix} is lower-case, so `go test` treats it as a plain "
                "function"
            )
        return None
    if _well_named(f.name, prefix) and f.name not in refs:
        return (
            "it is in a file not ending in _test.go, so `go test` never sees it (and nothing "
            "in the module calls it, so it is not a helper)"
        )
    return None


def _files(ctx: Context) -> list[tuple[Path, bool]]:
    _, pkgs = ctx.packages()
    out: list[tuple[Path, bool]] = []
    for p in pkgs:
        d = Path(p.get("Dir", ""))
        for key, test in (
            ("TestGoFiles", True),
            ("XTestGoFiles", True),
            ("GoFiles", False),
            ("CgoFiles", False),
        ):
            out += [(d / f, test) for f in p.get(key) or []]
    return out


def run(ctx: Context) -> list[Finding]:
    files = _files(ctx)
    if not files:
        return []
    try:
        found = gotests.scan(files)
    except GoCommandError as exc:
        raise Skipped(str(exc)) from None
    out: list[Finding] = []
    for f in found.funcs:
        why = _problem(f, found.refs)
        if why is None:
            continue
        prefix = _prefix(f.name)
        where = rel(ctx, f.file)
        out.append(
            finding(
                CHECK,
                f"{where}:{f.line}: {f.name} never runs",
                detail=f"{f.name}: {why}. `go test` passes without running it.",
                evidence=[
                    Evidence(
                        file=where,
                        line=f.line,
                        output=f"func {f.name}(*testing.{f.param}) (parsed with go/ast)",
                    )
                ],
                location=Location(where, f.line),
                fix=f"Name it {prefix}Xxx with an upper-case letter after {prefix} and keep it "
                "in a _test.go file.",
            )
        )
    return out


CHECK = Check(
    "misnamed-tests",
    FILES_SECTION,
    Severity.WARNING,
    "Test functions `go test` silently never runs (Testfoo, or a test in a non-_test file "
    "that nothing calls), found by parsing the Go files.",
    run,
)
