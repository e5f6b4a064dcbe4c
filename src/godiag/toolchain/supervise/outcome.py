"""Findings of a finished run: how it ended, what it printed, whether it did its job.

`findings` puts together the stall findings (stallfind.py), the exit and signal ones
(exits.py), the postconditions (postconditions.py) and those read from the output
here: panics with their goroutine dump, checksum mismatches, refused git prompts.
"""

from __future__ import annotations

import re
from typing import Any

from godiag.formats.goroutine_header import crash_title
from godiag.model.findings import Evidence, Finding, Severity
from godiag.toolchain.supervise import dumps, stallfind
from godiag.toolchain.supervise.exits import exit_info, signal_findings
from godiag.toolchain.supervise.postconditions import postcondition_findings
from godiag.toolchain.supervise.record import RunRecord

__all__ = ["exit_info", "findings"]

PANIC = re.compile(r"^(panic: .*|fatal error: .*)$", re.M)
TEST_TIMEOUT = re.compile(r"^panic: test timed out after (\S+)")
CHECKSUM = re.compile(
    r"verifying (?P<mod>\S+): checksum mismatch\s*\n\s*downloaded: (?P<dl>\S+)\s*\n\s*"
    r"(?P<kind>go\.sum|sum\.golang\.org|\S+):\s+(?P<want>\S+)"
)
GIT_PROMPT_FAIL = re.compile(
    r"^.*(terminal prompts disabled|could not read (Username|Password) for .*)$", re.M
)


MAX_CRASH_LINES = 20  # of a crash's own lines kept in its finding
FIRST_ID = re.compile(r"^goroutine (\d+) ", re.M)


def _culprits(analysis: dict[str, Any] | None, text: str, hung: bool) -> list[dict[str, Any]]:
    """The groups a crash or a timeout is about, in the user's code, never the harness.

    A panic is about the goroutine that printed it, the first of the dump. A timeout or
    a deadlock is about the goroutines parked in user code (stallfind.stuck_groups);
    `main.main` of _testmain.go waits there in every test binary and is never the answer.
    """
    if not analysis:
        return []
    groups = analysis.get("groups", [])
    first = FIRST_ID.search(text)
    if first and not hung:
        gid = int(first.group(1))
        own = [g for g in groups if gid in g.get("ids", []) and g.get("user_frame")]
        if own and not stallfind.is_harness(own[0]["user_frame"]):
            return own
    stuck = stallfind.stuck_groups(analysis)
    if stuck:
        return stuck
    return [g for g in groups if g.get("user_frame") and not stallfind.is_harness(g["user_frame"])]


def _crash_lines(text: str, start: int) -> str:
    """The crash's own lines from `start`: a chain of panics and a multi-line value go on,
    tab-indented, up to the blank line before the goroutines (at most MAX_CRASH_LINES)."""
    end = text.find("\n\n", start, start + 65536)
    lines = text[start : start + 65536 if end < 0 else end].rstrip().splitlines()
    return "\n".join(lines[:MAX_CRASH_LINES])


def panic_findings(rec: RunRecord) -> list[Finding]:
    out = []
    text = rec.output_text()
    for m in PANIC.finditer(text):
        line = m.group(1)
        timeout = TEST_TIMEOUT.match(line)
        hung = bool(timeout) or "all goroutines are asleep" in line
        found, warnings = dumps.find(dumps.pieces(text[m.start() :])[0], "panic output")
        rec.warnings.extend(warnings)
        analysis = found[0].analysis if found else None
        for dump in found:
            rec.dumps.append(
                {
                    "pids": [],
                    "stream": "output",
                    "reason": "panic",
                    "text": dump.text,
                    "analysis": dump.analysis,
                }
            )
        culprits = _culprits(analysis, found[0].text if found else "", hung)
        # a test stuck on a peer that never answers needs a bound on the call, not more
        # -timeout: its network wait leads, whatever it parks in (select, IO wait)
        net = [g for g in culprits if stallfind.network_wait(g)] if timeout else []
        culprits = net + [g for g in culprits if g not in net]
        where = ""
        if culprits:
            uf = culprits[0]["user_frame"]
            where = f"{uf.get('function')} ({uf.get('file')}:{uf.get('line')})"
        if net:
            where += f", waiting on the network ({stallfind.network_wait(net[0])})"
        printed = line if timeout else _crash_lines(text, m.start())
        said = "; ".join(x.strip() for x in printed.splitlines())
        ev = [Evidence(command="output", output=printed)]
        for g in culprits[: stallfind.MAX_SIDES]:
            ev.append(Evidence(command="goroutine dump", output=stallfind.user_frames_text(g)))
        running = re.search(r"running tests:\n((?:\t\t.*\n)+)", text[m.start() :])
        if timeout and running:
            ev.append(Evidence(command="output", output=running.group(1).strip()))
        out.append(
            Finding(
                id="go-panic",
                severity=Severity.ERROR,
                title=crash_title(printed.splitlines()) or line
                if not timeout
                else f"test timed out after {timeout.group(1)}",
                detail=f"The program printed `{said}`"
                + (f"; top user frame {where}." if where else "."),
                evidence=tuple(ev),
                fix=stallfind.NETWORK_FIX
                if net
                else "Raise -timeout only if the test is slow, not stuck; otherwise fix the wait "
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
    for m in CHECKSUM.finditer(rec.output_text()):
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
    m = GIT_PROMPT_FAIL.search(rec.output_text())
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
