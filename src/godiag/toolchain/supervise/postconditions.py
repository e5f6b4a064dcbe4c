"""Did the supervised command do its job: outputs written, binary installed, tests run."""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from pathlib import Path

from godiag.model.findings import Evidence, Finding, Severity
from godiag.toolchain.supervise.record import RunRecord
from godiag.toolchain.supervise.testsran import PATTERNS, unrun_findings

NO_TEST_FILES = re.compile(r"^\?\s+(\S+)\s+\[no test files\]$", re.M)
NO_TESTS_RUN = re.compile(
    r"^(ok\s+(\S+)\s+.*\[no tests to run\]|testing: warning: no tests to run)$", re.M
)


def postcondition_findings(
    rec: RunRecord, before: dict[str, float | None], go: str, env: dict[str, str], cwd: str
) -> list[Finding]:
    out = []
    # Where go install puts binaries (go list .Target): asked once, used twice.
    targets = _install_targets(rec, go, env, cwd) if rec.args.sub == "install" else []
    for path, mtime in before.items():
        p = Path(path)
        try:
            now = p.stat().st_mtime
        except OSError:
            now = None
        if p.is_dir() and now is not None:
            newest = max((c.stat().st_mtime for c in p.iterdir() if c.is_file()), default=None)
            ok = newest is not None and newest >= rec.started_at - 1
        else:
            ok = now is not None and (mtime is None or now > mtime)
        if not ok:
            why = "was not created" if now is None else "was not rewritten by this run"
            f = _post(f"{path} {why}", f"expected output {path} {why}", f"ls -l {path}", why)
            elsewhere = [t for t in targets if t != path]
            if elsewhere:
                # The usual surprise: GOBIN (or GOPATH) sends the binary somewhere else.
                gobin = env.get("GOBIN") or _go_env(go, env, cwd, "GOBIN")
                gopath = env.get("GOPATH") or _go_env(go, env, cwd, "GOPATH")
                f = replace(
                    f,
                    detail=f"expected output {path} {why}: go install puts the binary at "
                    f"{', '.join(elsewhere)} (GOBIN={gobin or '(unset)'}, GOPATH={gopath}).",
                    evidence=(
                        *f.evidence,
                        Evidence(command="go list -f {{.Target}}", output="\n".join(elsewhere)),
                        Evidence(command="go env GOBIN GOPATH", output=f"{gobin}\n{gopath}"),
                    ),
                    fix="Set GOBIN to the directory you expect (or drop it to use GOPATH/bin), "
                    "or look for the binary where go list says.",
                )
            out.append(f)
    if rec.args.sub == "install":
        # Also after a failed install: the binary not landing is what the user sees.
        out += _install_check(rec, targets, before)
    if rec.returncode == 0 and rec.args.sub == "test":
        # a package that passed without running the tests it declares
        out += unrun_findings(rec, go, env, cwd)
        out += _test_run_findings(rec, go, env, cwd)
    return out


def _test_run_findings(rec: RunRecord, go: str, env: dict[str, str], cwd: str) -> list[Finding]:
    """`[no test files]` and `[no tests to run]` where they are a surprise.

    A wildcard (`./...`) takes in every package, those without tests too: x/tools'
    `go test ./...` printed a warning per package without test files. So these are
    warnings only for a package the command names itself, or, for `[no tests to run]`,
    when a -run/-skip pattern chose the tests (it may have matched none)."""
    text = rec.output_text()
    selects = _selects_tests(rec.args.flags + rec.args.packages, env.get("GOFLAGS", ""))
    lines = [(m.group(1), m.group(0), False) for m in NO_TEST_FILES.finditer(text)]
    runs = [(m.group(2), m.group(0), True) for m in NO_TESTS_RUN.finditer(text)]
    # -v prints the test binary's own warning before the package's result line: one finding
    lines += [r for r in runs if r[0]] or runs[:1]
    if not lines:
        return []
    named = _named_packages(rec, go, env, cwd)
    out = []
    for pkg, line, no_tests in lines:
        if no_tests and selects:
            title = f"{pkg or 'a package'}: no tests ran (the -run/-skip pattern matched none)"
            fix = "Check the -run/-skip pattern against the test names (go test -list .)."
        elif pkg is not None and (named is None or pkg in named):
            if no_tests:
                title = f"{pkg} has test files but no tests to run"
                fix = "Its _test.go files declare no Test functions (only benchmarks, fuzz "
                fix += "targets or examples without output): add tests, or -bench/-fuzz."
            else:
                title, fix = f"{pkg} has no test files", "Name a package that has tests."
        else:
            continue  # taken in by a wildcard pattern: expected
        out.append(_post(title, "", "go test output", line, Severity.WARNING, fix))
    return out


def _selects_tests(words: list[str], goflags: str) -> bool:
    """-run or -skip given (before or after the packages, or in GOFLAGS)."""
    for w in [*goflags.split(), *words]:
        key = w.lstrip("-").partition("=")[0]
        if w.startswith("-") and key in ("run", "skip", "test.run", "test.skip"):
            return True
    return False


def _named_packages(rec: RunRecord, go: str, env: dict[str, str], cwd: str) -> set[str] | None:
    """Import paths of the packages named one by one; None when no wildcard is given
    (then every package was named)."""
    args = rec.args.patterns()
    wild = [a for a in args if "..." in a or a in PATTERNS]
    if not wild:
        return None
    plain = [a for a in args if a not in wild]
    if not plain:
        return set()
    listed = _go_list(go, env, cwd, "{{.ImportPath}}", plain)
    return None if listed is None else set(listed)  # None: cannot tell, keep the warnings


def _post(
    title: str,
    detail: str,
    cmd: str,
    output: str,
    sev: Severity = Severity.ERROR,
    fix: str = "Check -o, the packages named (non-main packages produce no binary) and the "
    "command's messages above.",
) -> Finding:
    return Finding(
        id="postcondition-failed",
        severity=sev,
        title=title,
        detail=detail or title,
        evidence=(Evidence(command=cmd, output=output),),
        fix=fix,
    )


def _go_env(go: str, env: dict[str, str], cwd: str, key: str) -> str:
    try:
        res = subprocess.run(
            [go, "env", key], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return res.stdout.strip()


def _install_targets(rec: RunRecord, go: str, env: dict[str, str], cwd: str) -> list[str]:
    """The paths go list says go install writes the named main packages to."""
    if any("@" in p for p in rec.args.packages):
        return []  # pkg@version installs outside the main module: go list cannot tell
    pkgs = list(rec.args.packages) or ["."]
    return _go_list(go, env, cwd, '{{if eq .Name "main"}}{{.Target}}{{end}}', pkgs) or []


def _go_list(go: str, env: dict[str, str], cwd: str, fmt: str, pkgs: list[str]) -> list[str] | None:
    """The non-empty lines `go list -e -f FMT PKGS` prints; None when it could not run."""
    try:
        res = subprocess.run(
            [go, "list", "-e", "-f", fmt, *pkgs],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return [line for line in res.stdout.split("\n") if line]


def _install_check(
    rec: RunRecord, targets: list[str], before: dict[str, float | None]
) -> list[Finding]:
    out = []
    for target in targets:
        if target in before:
            continue  # already checked as an expected output
        p = Path(target)
        if p.is_file() and p.stat().st_mtime >= rec.started_at - 1:
            continue
        if p.exists() and not p.is_file():
            state = "not a regular file"
        else:
            state = "missing" if not p.exists() else "older than this run"
        parent = p.parent
        blocker = next((a for a in [parent, *parent.parents] if a.exists()), parent)
        if not blocker.is_dir():
            state += f"; {blocker} is not a directory, so GOBIN/GOPATH/bin cannot hold it"
        detail = f"`go list` says the binary belongs at {target} (GOBIN/GOPATH): {state}."
        ev = f"{target}\n{state}"
        out.append(_post(f"go install did not update {target}", detail, "go list", ev))
    return out
