"""Did `go test` run the tests of the packages it called ok?

A test binary that exits 0 without running its tests passes: a TestMain that calls
os.Exit(0) or returns before m.Run, or never calls it (cmd/go prints `ok` whenever the
binary exits 0; golang.org/issue/29062). Nothing in `go test`'s default output tells
such a package from one whose tests passed. The output can tell when it lists the
tests (`-v`: `=== RUN` lines; `-json`: events with a Test), and `[no tests to run]`
marks a -run/-skip pattern that matched nothing (the user's choice, a warning only).
So, per package that passed and declares Test or Fuzz functions:

- output that lists tests shows none of them: no test ran (error);
- default output: the package's TestMain, read with go/ast, never calls m.Run and does
  not hand m to anything that could: no test can have run (error); it can end with
  status 0 before its m.Run (os.Exit(0), a return): not sure, a warning saying so;
- a cached result never counts: cmd/go caches only after m.Run wrote the test log;
- an exit under `if os.Getenv("X") != ""` (or `== "v"`) that this run's environment does
  not take is a helper process's branch (the binary re-run by its own tests): not counted.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field, replace
from pathlib import Path

from godiag.errors import GoCommandError
from godiag.model.findings import Evidence, Finding, Location, Severity
from godiag.toolchain import gotests
from godiag.toolchain.gocmd import decode_json_stream
from godiag.toolchain.supervise.record import RunRecord

# cmd/go's result lines, exactly: "ok  \tPKG\tTIME…", "FAIL\tPKG…", "?   \tPKG\t[no test files]"
# (a test's own "ok  fine" log line under -v must not end a package's block)
RESULT = re.compile(r"^(ok  |FAIL|\?   )\t(\S+)(?:\t(.*)|\s.*)?$")
# go list patterns, never the import path of a result line: not to be expanded
PATTERNS = ("all", "std", "cmd", "tool", "work")
# What -v prints for a test, subtest, example, fuzz seed or benchmark that ran.
RAN = re.compile(r"^\s*(=== (RUN|PAUSE|CONT|NAME)|--- (PASS|FAIL|SKIP)|Benchmark\S+\s+\d)")
NO_TESTS = ("[no tests to run]", "testing: warning: no tests to run", "[no fuzz tests to fuzz]")
# Flags that run no tests on purpose: listing them, or fuzzing one target.
NOT_RUNNING = ("-list", "-fuzz")
MAX_NAMED = 8  # test functions named in one finding
FIX = (
    "Make TestMain call m.Run on every path that should run the tests and exit with its "
    "result (`os.Exit(m.Run())`, or return after it); to skip a package's tests, call "
    "t.Skip in them (go test then says SKIP), not os.Exit(0) in TestMain."
)


@dataclass
class Pkg:
    line: str  # go test's result line for the package
    ran: bool | None = None  # None: the output does not list tests
    no_tests: bool = False
    cached: bool = False
    events: list[str] = field(default_factory=list)


def _flag(words: list[str], name: str) -> bool:
    """`-name`, `--name` or `-name=VALUE` other than false among the words."""
    for w in words:
        key, _, value = w.lstrip("-").partition("=")
        if w.startswith("-") and key == name.lstrip("-") and value not in ("false", "0"):
            return True
    return False


def _pattern(argv: list[str], goflags: str) -> str | None:
    """The -run pattern given (its top-level part, before any '/'), None without one."""
    words = [*goflags.split(), *argv]
    found = None
    for i, w in enumerate(words):
        key, eq, value = w.lstrip("-").partition("=")
        if w.startswith("-") and key in ("run", "test.run"):
            found = value if eq else (words[i + 1] if i + 1 < len(words) else "")
    return None if found is None else found.split("/")[0]


def _selected(tests: list[gotests.Func], pattern: str | None) -> list[gotests.Func] | None:
    """The tests -run selects (all without -run); None when Python cannot read the
    pattern (RE2 and Python's re differ at the edges): then it is not known."""
    if pattern is None or pattern == "":
        return tests
    try:
        rx = re.compile(pattern)
    except re.error:
        return None
    return [f for f in tests if rx.search(f.name)]


def _from_text(text: str, verbose: bool) -> dict[str, Pkg]:
    """Packages go test called ok, from its text output. With -v a package's lines come
    together before its result line (streamed for one package or -p 1, else buffered)."""
    out: dict[str, Pkg] = {}
    ran = False
    for line in text.splitlines():
        m = RESULT.match(line)
        if m is None:
            ran = ran or bool(RAN.match(line))
            continue
        if m.group(1) == "ok  " and m.group(2) not in PATTERNS and "..." not in m.group(2):
            rest = m.group(3) or ""
            out[m.group(2)] = Pkg(
                line=line,
                ran=ran if verbose else None,
                no_tests=any(n in rest for n in NO_TESTS),
                cached="(cached)" in rest,
            )
        ran = False
    return out


def _from_json(text: str) -> dict[str, Pkg]:
    """Packages that passed, from `go test -json` events: a test ran when an event names it."""
    seen: dict[str, Pkg] = {}
    for line in text.splitlines():
        if not line.startswith("{"):
            continue
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        pkg = ev.get("Package") if isinstance(ev, dict) else None
        if not isinstance(pkg, str):
            continue
        p = seen.setdefault(pkg, Pkg(line="", ran=False))
        if ev.get("Test"):
            p.ran = True
        output = str(ev.get("Output") or "")
        if any(n in output for n in NO_TESTS):
            p.no_tests = True
        if output.startswith("ok"):
            p.line = output.rstrip("\n")
            p.cached = "(cached)" in output
        if ev.get("Action") == "pass" and not ev.get("Test"):
            p.events.append(line)
    return {k: v for k, v in seen.items() if v.events}


def _suspects(rec: RunRecord, goflags: str) -> dict[str, Pkg]:
    """Packages that passed with nothing in the output showing that their tests ran."""
    # test flags may also follow the packages, and GOFLAGS may carry -v or -json
    words = [*rec.args.flags, *(w for w in rec.args.packages if w.startswith("-"))]
    words += goflags.split()
    if any(_flag(words, f) for f in NOT_RUNNING):
        return {}
    text = rec.output_text()
    if _flag(words, "-json"):
        pkgs = _from_json(text)
    else:
        verbose = any(_flag(words, f) for f in ("-v", "-test.v"))
        pkgs = _from_text(text, verbose)
    return {k: p for k, p in pkgs.items() if not p.ran and not p.no_tests and not p.cached}


def _test_files(pkgs: list[str], go: str, env: dict[str, str], cwd: str) -> dict[str, list[Path]]:
    """The _test.go files of each package, from go list (the build constraints applied)."""
    try:
        res = subprocess.run(
            [go, "list", "-e", "-json=ImportPath,Dir,TestGoFiles,XTestGoFiles", *pkgs],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=120,
        )
        listed = decode_json_stream(res.stdout, "go list")
    except (OSError, subprocess.SubprocessError, GoCommandError):
        return {}
    out: dict[str, list[Path]] = {}
    for p in listed:
        d = Path(str(p.get("Dir", "")))
        files = [*(p.get("TestGoFiles") or []), *(p.get("XTestGoFiles") or [])]
        out[str(p.get("ImportPath"))] = [d / f for f in files]
    return out


def _is_test(f: gotests.Func) -> bool:
    """A function go test runs as a test (or a fuzz target's seed corpus)."""
    if not f.test_file or f.method or f.results or f.type_params or f.name == "TestMain":
        return False
    for prefix, param in (("Test", "T"), ("Fuzz", "F")):
        rest = f.name.removeprefix(prefix)
        if f.name.startswith(prefix) and f.param == param and not (rest and rest[0].islower()):
            return True
    return False


def unrun_findings(rec: RunRecord, go: str, env: dict[str, str], cwd: str) -> list[Finding]:
    """Packages go test called ok whose declared tests did not (or may not) run."""
    if rec.args.sub != "test" or rec.returncode != 0:
        return []
    suspects = _suspects(rec, env.get("GOFLAGS", ""))
    if not suspects:
        return []
    declared = _declared(_test_files(sorted(suspects), go, env, cwd))
    pattern = _pattern(rec.args.argv[1:], env.get("GOFLAGS", ""))
    out = []
    for pkg, p in sorted(suspects.items()):
        tests, main = declared.get(pkg, ([], None))
        if main is not None and _helper_only(main, env):
            main = replace(main, main_exit0=0, main_exit0_always=False)
        selected = _selected(tests, pattern)
        if not tests or selected == []:
            continue  # nothing declared, or -run selects none of it: nothing was to run
        found = _finding(pkg, p, selected or tests, main, selected is None)
        if found is not None and selected is not None and len(selected) < len(tests):
            found = replace(found, detail=found.detail + " (Only those -run selects.)")
        if found is not None:
            out.append(found)
    return out


def _helper_only(main: gotests.Func, env: dict[str, str]) -> bool:
    """Every exit of TestMain before m.Run is under an `os.Getenv` test that this run's
    environment does not pass: the branch of a test binary re-run as a helper process (the
    parent sets the variable for its children: x/tools' cmd/stringer, cmd/file2fuzz), not
    a way this run can end."""
    guards = main.main_exit0_guards
    return bool(guards) and all(g.taken(env) is False for g in guards)


def _declared(
    files: dict[str, list[Path]],
) -> dict[str, tuple[list[gotests.Func], gotests.Func | None]]:
    """Each package's test functions and TestMain, all files parsed in one go."""
    owner = {str(f): pkg for pkg, paths in files.items() for f in paths}
    if not owner:
        return {}
    try:
        scan = gotests.scan([(Path(f), True) for f in owner])
    except GoCommandError:
        return {}  # no parser, no claim
    out: dict[str, tuple[list[gotests.Func], gotests.Func | None]] = {
        pkg: ([], None) for pkg in files
    }
    for f in scan.funcs:
        pkg = owner.get(f.file)
        if pkg is None:
            continue
        tests = out[pkg][0]
        if _is_test(f):
            tests.append(f)
        elif f.name == "TestMain" and f.test_file and not f.method:
            out[pkg] = (tests, f)
    return out


def _finding(
    pkg: str, p: Pkg, tests: list[gotests.Func], main: gotests.Func | None, unread: bool
) -> Finding | None:
    """The finding for a package whose output shows no test run; `unread`: the -run
    pattern could not be read, so whether it selected any of `tests` is not known."""
    found = _claim(pkg, p, tests, main)
    if found is None or not unread or found.severity != Severity.ERROR:
        return found
    return replace(
        found,
        severity=Severity.WARNING,
        title=f"not sure: {found.title}",
        detail=found.detail + " (Not sure: godiag cannot read the -run pattern to tell "
        "whether it selects any of them.)",
    )


def _claim(
    pkg: str, p: Pkg, tests: list[gotests.Func], main: gotests.Func | None
) -> Finding | None:
    named = ", ".join(f.name for f in tests[:MAX_NAMED])
    if len(tests) > MAX_NAMED:
        named += f" and {len(tests) - MAX_NAMED} more"
    listing = "\n".join(f"{f.file}:{f.line}: func {f.name}" for f in tests[:MAX_NAMED])
    printed = p.line or (p.events[-1] if p.events else "")
    ev = [Evidence(command="go test output", output=printed)]
    ev.append(Evidence(command="test functions (parsed with go/ast)", output=listing))
    where = None
    why = ""
    if main is not None:
        where = Location(file=main.file, line=main.main_exit0 or main.line)
        ev.append(Evidence(file=main.file, line=main.line, output=_main_text(main)))
        why = " " + _main_text(main)
    if p.ran is False:
        shown = "no test event" if p.events else "no `=== RUN` line"
        return _unrun(
            pkg,
            f"{pkg} passed but none of its {len(tests)} test(s) ran",
            f"go test printed `{printed.strip()}` and {shown} for the package, which "
            f"declares {named}: the test binary exited 0 without running them.{why}",
            ev,
            where,
            Severity.ERROR,
        )
    if main is None:
        return None  # go test's own TestMain always calls m.Run
    if main.main_exit0_always:
        return _unrun(
            pkg,
            f"{pkg} passed but none of its {len(tests)} test(s) can have run",
            f"go test printed `{printed.strip()}`; the package declares {named}, and its "
            f"TestMain always ends at {main.file}:{main.main_exit0}, before m.Run.",
            ev,
            where,
            Severity.ERROR,
        )
    if not main.main_run and not main.main_other_uses:
        return _unrun(
            pkg,
            f"{pkg} passed but none of its {len(tests)} test(s) can have run",
            f"go test printed `{printed.strip()}`; the package declares {named}, and its "
            f"TestMain never calls m.Run nor hands m to anything that could.",
            ev,
            where,
            Severity.ERROR,
        )
    if main.main_exit0:
        return _unrun(
            pkg,
            f"not sure whether the tests of {pkg} ran",
            f"go test printed `{printed.strip()}`, which it prints as well when the test "
            f"binary exits 0 before running any test; the package declares {named} and its "
            f"TestMain can end with status 0 before m.Run ({main.file}:{main.main_exit0}). "
            "Run with -v or -json to know: they list the tests that ran.",
            ev,
            where,
            Severity.WARNING,
        )
    return None


def _main_text(main: gotests.Func) -> str:
    run = f"m.Run at line {main.main_run}" if main.main_run else "no m.Run call"
    parts = [f"TestMain at {main.file}:{main.line}: {run}"]
    if main.main_exit0:
        parts.append(f"os.Exit(0) or return at line {main.main_exit0} before it")
    if main.main_other_uses:
        parts.append(f"m handed on {main.main_other_uses} time(s)")
    return "; ".join(parts) + "."


def _unrun(
    pkg: str,
    title: str,
    detail: str,
    ev: list[Evidence],
    where: Location | None,
    sev: Severity,
) -> Finding:
    return Finding(
        id="postcondition-failed",
        severity=sev,
        title=title,
        detail=detail,
        evidence=tuple(ev),
        location=where,
        fix=FIX,
    )
