"""Findings about what a stalled tree waits for, from its snapshot and dumps."""

from __future__ import annotations

import platform
from typing import Any
from urllib.parse import urlsplit

from godiag.model.findings import Evidence, Finding, Severity
from godiag.toolchain.supervise.record import RunRecord
from godiag.toolchain.supervise.system import frozen

READ_SYSCALL = {"x86_64": 0, "aarch64": 63, "arm64": 63, "riscv64": 63}.get(platform.machine(), 0)
PROMPTERS = ("git", "ssh", "credential", "askpass")
# Dump categories in order of how telling they are about a hang.
BLOCKING = ["lock", "waitgroup", "cond", "channel", "select", "io", "syscall", "sleep", "other"]


def _cmd(p: dict[str, Any]) -> str:
    return " ".join(p["cmdline"]) or p["comm"]


def status_lines(p: dict[str, Any], keys: tuple[str, ...]) -> str:
    return "\n".join(f"{k}:\t{p['status'][k]}" for k in keys if k in p["status"])


def prompt_findings(snap: dict[str, Any]) -> list[Finding]:
    out = []
    for p in snap["processes"]:
        name = (p["comm"] + " " + _cmd(p)).lower()
        if not any(w in name for w in PROMPTERS):
            continue
        fds = p["fds"]
        parts = p["syscall"].split()
        reading_fd = None
        if len(parts) > 1 and parts[0] == str(READ_SYSCALL):
            try:
                reading_fd = str(int(parts[1], 16))
            except ValueError:
                reading_fd = None
        tty = fds.get(reading_fd or "", "")
        if not tty.startswith(("/dev/tty", "/dev/pts/")):
            continue
        out.append(
            Finding(
                id="credential-prompt",
                severity=Severity.ERROR,
                title=f"{p['comm']} (pid {p['pid']}) waits on the terminal for credentials",
                detail=(
                    f"`{_cmd(p)}` is blocked reading {tty}: it is asking for a username, "
                    "password or passphrase that nobody will type in CI."
                ),
                evidence=(
                    Evidence(command=f"cat /proc/{p['pid']}/syscall", output=p["syscall"]),
                    Evidence(command=f"readlink /proc/{p['pid']}/fd/{reading_fd}", output=tty),
                    Evidence(command=f"cat /proc/{p['pid']}/wchan", output=p["wchan"]),
                ),
                fix=(
                    "Give git credentials non-interactively (a credential helper, ~/.netrc or "
                    "GOAUTH), or use an ssh key without passphrase/ssh-agent; keep "
                    "GIT_TERMINAL_PROMPT=0 in CI so it fails fast instead of hanging."
                ),
            )
        )
    return out


def state_findings(snap: dict[str, Any]) -> list[Finding]:
    out = []
    for p in snap["processes"]:
        proof = frozen(p["cgroup_state"])
        st = status_lines(p, ("Name", "State"))
        if proof:
            out.append(
                Finding(
                    id="process-stopped",
                    severity=Severity.ERROR,
                    title=f"{p['comm']} (pid {p['pid']}) sits in a frozen cgroup",
                    detail=f"`{_cmd(p)}` cannot run: its cgroup is frozen ({proof}).",
                    evidence=(
                        Evidence(command=f"grep freezer /proc/{p['pid']}/cgroup", output=proof),
                        Evidence(command=f"grep State /proc/{p['pid']}/status", output=st),
                    ),
                    fix="Thaw the cgroup (freezer.state THAWED / cgroup.freeze 0) or find "
                    "who froze it (a container pause, a checkpoint tool).",
                )
            )
        elif p["state"] in ("T", "t"):
            out.append(
                Finding(
                    id="process-stopped",
                    severity=Severity.ERROR,
                    title=f"{p['comm']} (pid {p['pid']}) is stopped (State {p['state']})",
                    detail=f"`{_cmd(p)}` received a stop signal (SIGSTOP/SIGTSTP/SIGTTIN/"
                    "SIGTTOU) or is held by a debugger, and the tree waits for it.",
                    evidence=(Evidence(command=f"grep State /proc/{p['pid']}/status", output=st),),
                    fix="Send SIGCONT (`kill -CONT PID`) or detach the tracer; a background job "
                    "reading the terminal gets SIGTTIN.",
                )
            )
        elif p["state"] == "D":
            out.append(_d_state(p, snap))
    return out


VFORK_WAIT = ("vfork", "kernel_clone", "do_fork", "_do_fork")


def _d_state(p: dict[str, Any], snap: dict[str, Any]) -> Finding:
    """State D: name where the kernel holds the task (wchan, stack) and a likely cause."""
    st = status_lines(p, ("Name", "State"))
    stack = p.get("stack", "")
    where = p["wchan"] or (stack.splitlines()[0].split("+")[0] if stack else "?")
    ev = [
        Evidence(command=f"grep State /proc/{p['pid']}/status", output=st),
        Evidence(command=f"cat /proc/{p['pid']}/wchan", output=p["wchan"] or "(unreadable)"),
    ]
    if stack:
        ev.append(Evidence(command=f"cat /proc/{p['pid']}/stack", output=stack))
    # A vfork() parent sleeps (killable, shown as D) until its child execs or exits: the
    # real culprit is that child, not a filesystem.
    if any(w in f"{p['wchan']}\n{stack}" for w in VFORK_WAIT):
        kids = [c for c in snap["processes"] if c["ppid"] == p["pid"]]
        kid = f"pid {kids[0]['pid']} ({_cmd(kids[0])}, State {kids[0]['state']})" if kids else ""
        detail = (
            f"`{_cmd(p)}` called vfork() and the kernel holds it at {where} until the child "
            f"{kid or 'it created'} calls exec or exits; the child has not done so."
        )
        fix = "Find why the vfork child does not exec (it sleeps, waits for input or is stuck); "
        fix += "a launcher or wrapper using vfork/posix_spawn should exec at once."
    else:
        detail = (
            f"`{_cmd(p)}` waits in the kernel at {where} and ignores signals meanwhile; usually "
            "a network filesystem (NFS, FUSE) or a failing disk."
        )
        fix = "Check the filesystems of GOCACHE, GOMODCACHE and the sources."
    return Finding(
        id="uninterruptible-io",
        severity=Severity.ERROR,
        title=f"{p['comm']} (pid {p['pid']}) is in uninterruptible wait (State D) at {where}",
        detail=detail,
        evidence=tuple(ev),
        fix=fix,
    )


def lock_findings(snap: dict[str, Any], rec: RunRecord) -> list[Finding]:
    out = []
    for lk in snap["locks"]:
        if lk["state"] != "awaited":
            continue
        holder = lk["holder_pid"]
        flock_frame = _frame_matching(rec, ("syscall.Flock", "lockedfile", "filelock"))
        ev = [Evidence(command="cat /proc/locks", output=f"{lk['holder_line']}\n{lk['line']}")]
        if flock_frame:
            ev.append(Evidence(command="goroutine dump (SIGQUIT)", output=flock_frame))
        what = lk["file"] or f"inode {lk['inode']}"
        out.append(
            Finding(
                id="file-lock-wait",
                severity=Severity.ERROR,
                title=f"pid {lk['pid']} waits for a lock on {what}"
                + (f" held by pid {holder}" if holder else ""),
                detail=(
                    f"A {lk['kind']} {lk['mode']} lock is awaited; the holder is pid {holder}. "
                    "The go command serialises module downloads and cache writes with such "
                    "locks, so another go process (or a tool copying the cache) blocks this one."
                ),
                evidence=tuple(ev),
                location=None,
                fix=f"Let pid {holder} finish or stop it; do not share GOMODCACHE/GOCACHE "
                "with a process that keeps them locked.",
            )
        )
    return out


def fetch_findings(snap: dict[str, Any] | None, rec: RunRecord) -> list[Finding]:
    out = []
    for url, started in sorted(rec.pending_gets.items()):
        host = urlsplit(url).netloc
        conns = []
        if snap is not None:
            for c in snap["connections"]:
                port = host.rsplit(":", 1)[-1] if ":" in host else ""
                if port and str(c["remote"]).endswith(":" + port):
                    conns.append(f"pid {c['pid']} {c['local']} -> {c['remote']} {c['state']}")
        ev = [Evidence(command="go -x output", output=f"# get {url}")]
        if conns:
            ev.append(Evidence(command="/proc/PID/net/tcp", output="\n".join(conns)))
        frame = _frame_matching(rec, ("modfetch", "net/http", "internal/poll"))
        if frame:
            ev.append(Evidence(command="goroutine dump (SIGQUIT)", output=frame))
        waited = round(rec.duration - started, 1)
        out.append(
            Finding(
                id="stalled-network-fetch",
                severity=Severity.ERROR,
                title=f"fetch of {url} started and never completed",
                detail=f"The go command asked {host} for {url} and got no answer in {waited}s.",
                evidence=tuple(ev),
                fix="Check the module proxy / VCS server (GOPROXY, GOPRIVATE, proxies, "
                "firewalls); a proxy that accepts connections but never answers hangs go.",
            )
        )
    return out


def _frame_matching(rec: RunRecord, words: tuple[str, ...]) -> str | None:
    for d in rec.dumps:
        for g in d["analysis"].get("groups", []):
            for f in g.get("frames", []):
                if any(w in str(f.get("function")) for w in words):
                    return f"[{g['state']}] {f['function']} {f.get('file')}:{f.get('line')}"
    return None


def dump_findings(rec: RunRecord, explained: bool) -> list[Finding]:
    out = []
    for d in rec.dumps:
        if d["reason"] != "SIGQUIT":
            continue
        groups = [
            g
            for g in d["analysis"].get("groups", [])
            if g.get("category") in BLOCKING
            and g.get("user_frame")
            and not str(g["user_frame"]["function"]).startswith(("testing.", "main.main"))
        ]
        if not groups:
            continue
        if explained and d["pids"] == [rec.root_pid]:
            continue  # the go command's own wait is what the specific finding explains
        groups.sort(key=lambda g: BLOCKING.index(g["category"]))
        top = groups[0]
        uf = top["user_frame"]
        shown = top["frames"]
        first = next((i for i, f in enumerate(shown) if f is uf or f == uf), 0)
        start = max(0, first - 2)  # the wait itself, then the user's code that waits
        frames = "\n".join(
            f"{f['function']}\n\t{f.get('file')}:{f.get('line')}" for f in shown[start : start + 6]
        )
        out.append(
            Finding(
                id="blocked-in-go-code",
                severity=Severity.ERROR,
                title=f"blocked in {uf['function']} ({top['state']})",
                detail=(
                    f"{top['count']} goroutine(s) wait in state `{top['state']}` at "
                    f"{uf['function']} ({uf.get('file')}:{uf.get('line')}); the process makes "
                    "no progress."
                ),
                evidence=(Evidence(command=f"goroutine dump ({d['stream']})", output=frames),),
                location=None,
                fix="Look at what should release this wait (lock holder, channel peer, "
                "WaitGroup.Done) in the frames above.",
            )
        )
    return out
