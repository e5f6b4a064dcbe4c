"""Did the supervised command do its job: outputs written, binary installed, tests run."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from godiag.model.findings import Evidence, Finding, Severity
from godiag.toolchain.supervise.record import RunRecord

NO_TEST_FILES = re.compile(r"^\?\s+(\S+)\s+\[no test files\]$", re.M)
NO_TESTS_RUN = re.compile(
    r"^(ok\s+(\S+)\s+.*\[no tests to run\]|testing: warning: no tests to run)$", re.M
)


def postcondition_findings(
    rec: RunRecord, before: dict[str, float | None], go: str, env: dict[str, str], cwd: str
) -> list[Finding]:
    out = []
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
            out.append(
                _post(f"{path} {why}", f"expected output {path} {why}", f"ls -l {path}", why)
            )
    if rec.returncode == 0 and rec.args.sub == "install":
        out += _install_check(rec, go, env, cwd)
    if rec.returncode == 0 and rec.args.sub == "test":
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


def _install_check(rec: RunRecord, go: str, env: dict[str, str], cwd: str) -> list[Finding]:
    pkgs = [p for p in rec.args.packages] or ["."]
    try:
        res = subprocess.run(
            [go, "list", "-f", '{{if eq .Name "main"}}{{.Target}}{{end}}', *pkgs],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    out = []
    for target in filter(None, res.stdout.split("\n")):
        p = Path(target)
        if not p.exists() or p.stat().st_mtime < rec.started_at - 1:
            state = "missing" if not p.exists() else "older than this run"
            detail = f"`go list` says the binary belongs at {target} (GOBIN/GOPATH): {state}."
            out.append(_post(f"go install did not update {target}", detail, "go list", target))
    return out
