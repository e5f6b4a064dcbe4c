"""How the supervised command ended, and whether it did its job.

Exit status and signals come from the go command itself; the fate of its children
(a `go run` program, a test binary) is read from what the go command prints about
them (`signal: killed`, `exit status 3`), which is the only place it is reported.
"""

from __future__ import annotations

import re
import signal
import subprocess
from pathlib import Path
from typing import Any

from godiag.model.findings import Evidence, Finding, Severity
from godiag.toolchain.supervise import dumps, stallfind
from godiag.toolchain.supervise.runner import RunRecord

CHILD_SIGNAL = re.compile(r"^signal: (.+?)( \(core dumped\))?$", re.M)
EXIT_STATUS = re.compile(r"^exit status (\d+)$", re.M)
PANIC = re.compile(r"^(panic: .*|fatal error: .*)$", re.M)
TEST_TIMEOUT = re.compile(r"^panic: test timed out after (\S+)")
CHECKSUM = re.compile(
    r"verifying (?P<mod>\S+): checksum mismatch\s*\n\s*downloaded: (?P<dl>\S+)\s*\n\s*"
    r"(?P<kind>go\.sum|sum\.golang\.org|\S+):\s+(?P<want>\S+)"
)
THREAD_EPERM = re.compile(r"^runtime: failed to create new OS thread.*errno=1\b.*$", re.M)
NO_TEST_FILES = re.compile(r"^\?\s+(\S+)\s+\[no test files\]$", re.M)
NO_TESTS_RUN = re.compile(
    r"^(ok\s+(\S+)\s+.*\[no tests to run\]|testing: warning: no tests to run)$", re.M
)
GIT_PROMPT_FAIL = re.compile(
    r"^.*(terminal prompts disabled|could not read (Username|Password) for .*)$", re.M
)
SIGNAL_NAMES = {
    "killed": "SIGKILL",
    "segmentation fault": "SIGSEGV",
    "bad system call": "SIGSYS",
    "aborted": "SIGABRT",
    "terminated": "SIGTERM",
    "interrupt": "SIGINT",
    "quit": "SIGQUIT",
    "bus error": "SIGBUS",
    "floating point exception": "SIGFPE",
    "illegal instruction": "SIGILL",
}


def output_text(rec: RunRecord) -> str:
    return rec.recorder.text("stdout") + "\n" + rec.recorder.text("stderr")


def exit_info(rec: RunRecord) -> dict[str, Any]:
    """The go command's own exit, and what it said about its child's."""
    code = rec.returncode
    sig = None
    if code is not None and code < 0:
        try:
            sig = signal.Signals(-code).name
        except ValueError:
            sig = f"signal {-code}"
    text = output_text(rec)
    child_sig = CHILD_SIGNAL.findall(text)
    child_exit = EXIT_STATUS.findall(text)
    return {
        "code": code if code is not None and code >= 0 else None,
        "signal": sig,
        "ended_by": rec.ended_by,
        "child_signal": SIGNAL_NAMES.get(child_sig[-1][0], child_sig[-1][0]) if child_sig else None,
        "child_exit_status": int(child_exit[-1]) if child_exit else None,
    }


def signal_findings(rec: RunRecord, info: dict[str, Any]) -> list[Finding]:
    out = []
    text = output_text(rec)
    sig = info["signal"] or info["child_signal"]
    seccomp = _seccomp_lines(rec)
    if sig == "SIGSYS" or THREAD_EPERM.search(text):
        line = THREAD_EPERM.search(text)
        ev = [
            Evidence(command="output", output=line.group(0) if line else "signal: bad system call")
        ]
        ev += [Evidence(command=c, output=o) for c, o in seccomp]
        out.append(
            Finding(
                id="seccomp-filtered",
                severity=Severity.ERROR,
                title="a system call was refused by a seccomp filter"
                + (" (SIGSYS)" if sig == "SIGSYS" else " (EPERM on thread creation)"),
                detail="The process runs under a seccomp filter that rejects a call the Go "
                "runtime needs (clone/clone3 to start OS threads): the runtime cannot continue.",
                evidence=tuple(ev),
                fix="Allow clone/clone3 (and the calls in the error) in the container's seccomp "
                "profile, or update the runtime (old Docker/libseccomp refuse clone3 with EPERM).",
            )
        )
        return out
    if sig is None or rec.ended_by in ("stall", "timeout", "interrupted"):
        return out
    oom = rec.oom_after > rec.oom_before and sig == "SIGKILL"
    who = "the go command" if info["signal"] else "the program run by the go command"
    ev = [Evidence(command="exit status", output=f"{who} ended by {sig}")]
    if oom:
        ev.append(
            Evidence(
                command="memory cgroup oom_kill counter",
                output=f"{rec.oom_before} -> {rec.oom_after}",
            )
        )
    out.append(
        Finding(
            id="killed-by-signal",
            severity=Severity.ERROR,
            title=f"{who} was killed by {sig}" + (" (out of memory)" if oom else ""),
            detail=(
                "The memory cgroup recorded an OOM kill while the command ran."
                if oom
                else f"{sig} ended the process; nothing in Go printed a panic for it."
            ),
            evidence=tuple(ev),
            fix="Raise the memory limit or reduce -p / GOMAXPROCS parallelism."
            if oom
            else "Find who sends the signal (OOM killer, a CI timeout, a supervisor) or why the "
            "program faults.",
        )
    )
    return out


def _seccomp_lines(rec: RunRecord) -> list[tuple[str, str]]:
    out = []
    for snap in rec.snapshots:
        for p in snap["processes"]:
            if p["status"].get("Seccomp", "0") != "0":
                keys = ("Seccomp", "Seccomp_filters", "NoNewPrivs")
                out.append(
                    (f"grep Seccomp /proc/{p['pid']}/status", stallfind._status_lines(p, keys))
                )
    return out[:3]


def panic_findings(rec: RunRecord) -> list[Finding]:
    out = []
    text = output_text(rec)
    for m in PANIC.finditer(text):
        line = m.group(1)
        timeout = TEST_TIMEOUT.match(line)
        block = dumps.extract(text[m.start() :])
        analysis = dumps.analyze(block[0], "panic output") if block else None
        if analysis is not None:
            rec.dumps.append(
                {
                    "pids": [],
                    "stream": "output",
                    "reason": "panic",
                    "text": block[0][:200_000],
                    "analysis": analysis,
                }
            )
        where = ""
        if analysis and analysis["groups"]:
            uf = analysis["groups"][0].get("user_frame") or {}
            if uf:
                where = f"{uf.get('function')} ({uf.get('file')}:{uf.get('line')})"
        kind = (
            "test timeout" if timeout else ("fatal error" if line.startswith("fatal") else "panic")
        )
        if "all goroutines are asleep" in line:
            kind = "deadlock"
        ev = [Evidence(command="output", output=line)]
        if where:
            ev.append(Evidence(command="goroutine dump", output=where))
        running = re.search(r"running tests:\n((?:\t\t.*\n)+)", text[m.start() :])
        if timeout and running:
            ev.append(Evidence(command="output", output=running.group(1).strip()))
        out.append(
            Finding(
                id="go-panic",
                severity=Severity.ERROR,
                title=f"{kind}: {line}"
                if not timeout
                else f"test timed out after {timeout.group(1)}",
                detail=f"The program printed `{line}`"
                + (f"; top user frame {where}." if where else "."),
                evidence=tuple(ev),
                fix="Raise -timeout only if the test is slow, not stuck; otherwise fix the wait "
                "named in the dump."
                if timeout
                else "Fix the cause named in the panic message and frames.",
            )
        )
        if len(out) >= 5:
            break
    return out


def checksum_findings(rec: RunRecord, env: dict[str, str]) -> list[Finding]:
    out = []
    for m in CHECKSUM.finditer(output_text(rec)):
        mod = m.group("mod")
        proxy = env.get("GOPROXY", "")
        private = env.get("GOPRIVATE", "") or env.get("GONOSUMDB", "")
        if private and any(p and p.rstrip("/*") in mod for p in private.split(",")):
            cause = "a private module: no checksum database vouches for it, and its bits changed"
        elif proxy and "proxy.golang.org" not in proxy and proxy not in ("direct", "off"):
            cause = f"the proxy {proxy} serves other bits than those recorded in go.sum"
        else:
            cause = "the version was re-tagged upstream (same version, different content)"
        out.append(
            Finding(
                id="checksum-mismatch",
                severity=Severity.ERROR,
                title=f"checksum mismatch for {mod}",
                detail=f"Downloaded {m.group('dl')} but {m.group('kind')} says {m.group('want')}. "
                f"Likely cause: {cause}.",
                evidence=(Evidence(command="output", output=m.group(0).strip()),),
                fix="Do not just delete the go.sum line: find out which content is right; "
                "compare with `GOPROXY=https://proxy.golang.org go mod download -json MOD@VER`.",
            )
        )
    return out


def prompt_failure_findings(rec: RunRecord) -> list[Finding]:
    m = GIT_PROMPT_FAIL.search(output_text(rec))
    if not m:
        return []
    return [
        Finding(
            id="credential-prompt",
            severity=Severity.ERROR,
            title="git needed credentials and could not ask for them",
            detail="A git fetch required a username/password; prompting was disabled or no "
            "terminal was available, so it failed.",
            evidence=(Evidence(command="output", output=m.group(0).strip()),),
            fix="Configure a credential helper, ~/.netrc or GOAUTH for the host.",
        )
    ]


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
        text = output_text(rec)
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


def findings(
    rec: RunRecord, before: dict[str, float | None], go: str, env: dict[str, str], cwd: str
) -> list[Finding]:
    """All findings of a run, most specific first."""
    info = exit_info(rec)
    out: list[Finding] = []
    snap = rec.snapshots[-1] if rec.snapshots else None
    if snap is not None:
        out += stallfind.prompt_findings(snap)
        out += stallfind.state_findings(snap)
        out += stallfind.lock_findings(snap, rec)
    if rec.ended_by in ("stall", "timeout"):
        out += stallfind.fetch_findings(snap, rec)
    explained = bool(out)
    out += stallfind.dump_findings(rec, explained)
    if not any(f.id == "credential-prompt" for f in out):
        out += prompt_failure_findings(rec)
    out += checksum_findings(rec, env)
    out += signal_findings(rec, info)
    if not any(f.id == "seccomp-filtered" for f in out):
        out += panic_findings(rec)
    out += postcondition_findings(rec, before, go, env, cwd)
    return out
