"""How the supervised command ended: exit status, signals, and the seccomp / OOM causes.

Exit status and signals come from the go command itself; the fate of its children
(a `go run` program, a test binary) is read from what the go command prints about
them (`signal: killed`, `exit status 3`), which is the only place it is reported.
"""

from __future__ import annotations

import re
import signal
from typing import Any

from godiag.model.findings import Evidence, Finding, Severity
from godiag.toolchain.supervise.record import RunRecord
from godiag.toolchain.supervise.stallfind import status_lines

CHILD_SIGNAL = re.compile(r"^signal: (.+?)( \(core dumped\))?$", re.M)
EXIT_STATUS = re.compile(r"^exit status (\d+)$", re.M)
THREAD_EPERM = re.compile(r"^runtime: failed to create new OS thread.*errno=1\b.*$", re.M)
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


def exit_info(rec: RunRecord) -> dict[str, Any]:
    """The go command's own exit, and what it said about its child's."""
    code = rec.returncode
    sig = None
    if code is not None and code < 0:
        try:
            sig = signal.Signals(-code).name
        except ValueError:
            sig = f"signal {-code}"
    text = rec.output_text()
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
    text = rec.output_text()
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
    grown = {f: e for f, e in rec.memcgs.items() if e["after"] > e["before"]}
    own = rec.oom_after > rec.oom_before
    oom = sig == "SIGKILL" and bool(grown or own)
    who = "the go command" if info["signal"] else "the program run by the go command"
    ev = [Evidence(command="exit status", output=f"{who} ended by {sig}")]
    if oom:
        for f, e in sorted(grown.items()):
            pids = ", ".join(map(str, e["pids"]))
            ev.append(
                Evidence(
                    command=f"grep oom_kill {f}",
                    output=f"oom_kill {e['before']} -> {e['after']} (cgroup of pid {pids})",
                )
            )
        if own and not grown:
            ev.append(
                Evidence(
                    command="memory cgroup oom_kill counter (godiag's cgroup)",
                    output=f"{rec.oom_before} -> {rec.oom_after}",
                )
            )
    out.append(
        Finding(
            id="killed-by-signal",
            severity=Severity.ERROR,
            title=f"{who} was killed by {sig}" + (" (out of memory)" if oom else ""),
            detail=(
                "The kernel's OOM killer ended it: the oom_kill counter of the memory cgroup "
                f"{' and '.join(sorted(grown)) or 'of godiag'} grew while the command ran "
                "(the cgroup's memory limit was reached)."
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
                out.append((f"grep Seccomp /proc/{p['pid']}/status", status_lines(p, keys)))
    return out[:3]
