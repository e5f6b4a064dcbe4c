"""Did the supervised command do its job: outputs written, binary installed, tests run."""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from pathlib import Path

from godiag.model.findings import Evidence, Finding, Severity
from godiag.toolchain.supervise.record import RunRecord
from godiag.toolchain.supervise.testsran import unrun_findings

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
        text = rec.output_text()
        for m in NO_TEST_FILES.finditer(text):
            out.append(
                _post(
                    f"{m.group(1)} has no test files",
                    "",
                    "go test output",
                    m.group(0),
                    Severity.WARNING,
                )
            )
        for m in NO_TESTS_RUN.finditer(text):
            out.append(
                _post(
                    "no tests ran (the -run pattern matched nothing?)",
                    "",
                    "go test output",
                    m.group(0),
                    Severity.WARNING,
                )
            )
    return out


def _post(
    title: str, detail: str, cmd: str, output: str, sev: Severity = Severity.ERROR
) -> Finding:
    return Finding(
        id="postcondition-failed",
        severity=sev,
        title=title,
        detail=detail or title,
        evidence=(Evidence(command=cmd, output=output),),
        fix="Check -o, the packages named (non-main packages produce no binary) and the "
        "command's messages above.",
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
    try:
        res = subprocess.run(
            [go, "list", "-e", "-f", '{{if eq .Name "main"}}{{.Target}}{{end}}', *pkgs],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    return [t for t in res.stdout.split("\n") if t]


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
