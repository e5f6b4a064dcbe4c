"""Findings about what a stalled tree waits for, from its snapshot and dumps."""

from __future__ import annotations

import platform
from typing import Any
from urllib.parse import urlsplit

from godiag.model.findings import Evidence, Finding, Location, Severity
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
        # both relative to the run's start (the recorder's times are, like the timeline)
        until = snap["t"] if snap is not None else rec.duration
        waited = round(max(0.0, until - started), 1)
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


def is_harness(loc: dict[str, Any] | None) -> bool:
    """The test harness's own frames: `main.main` of _testmain.go, the testing package."""
    if not loc:
        return True
    return str(loc.get("file", "")).endswith("_testmain.go") or str(
        loc.get("function", "")
    ).startswith("testing.")


def stuck_groups(analysis: dict[str, Any]) -> list[dict[str, Any]]:
    """Groups of a dump parked in user code, the most telling first (locks before
    channels before I/O), never the harness: every side of a cycle is in the list."""
    groups = [
        g
        for g in analysis.get("groups", [])
        if g.get("category") in BLOCKING and g.get("user_frame") and not is_harness(g["user_frame"])
    ]
    return sorted(groups, key=lambda g: (BLOCKING.index(g["category"]), -g["count"]))


def _same(f: dict[str, Any], loc: dict[str, Any]) -> bool:
    return (f.get("function"), f.get("file"), f.get("line")) == (
        loc.get("function"),
        loc.get("file"),
        loc.get("line"),
    )


def user_frames_text(g: dict[str, Any], limit: int = 5) -> str:
    """The group's wait in the user's frames: the call it waits in (e.g.
    sync.(*Mutex).Lock), then the user's code from the innermost user frame outwards;
    the runtime's own parking frames (gopark, semacquire1) are left out."""
    frames = g["frames"]
    uf = g["user_frame"]
    first = next((i for i, f in enumerate(frames) if _same(f, uf)), 0)
    # the outermost standard-library call just above the user's code is what it waits in
    waits_in = next(
        (f for f in reversed(frames[:first]) if not str(f["function"]).startswith("runtime.")),
        None,
    )
    lines = [f"[{g['state']}] {g['count']} goroutine(s)"]
    if waits_in is not None:
        lines.append(f"{waits_in['function']} (waits here)")
    for f in frames[first:]:
        if f.get("stdlib") or is_harness(f):
            continue
        lines.append(f"{f['function']}\n\t{f.get('file')}:{f.get('line')}")
        if len(lines) >= limit + 2:
            break
    if g.get("created_by"):
        cb = g["created_by"]
        lines.append(f"created by {cb['function']}\n\t{cb.get('file')}:{cb.get('line')}")
    return "\n".join(lines)


MAX_SIDES = 4  # groups named in one finding: both sides of a cycle and a little more

# What a goroutine waits for when the calls between its user frame and the runtime's
# parking are the network's: the first prefix matched names it. A client's round trip
# parks in a select (persistConn.roundTrip waits for its read loop), a raw read in the
# netpoller (IO wait): the state alone does not tell, the standard library's frames do.
NETWORK_WAITS = (
    (
        (
            "net/http.(*Client)",
            "net/http.(*Transport)",
            "net/http.(*persistConn)",
            "net/http.(*body)",
            "net/http.(*bodyEOFSignal)",
            "net/http.(*cancelTimerBody)",
            "net/http.send",
            "net/http.Get",
            "net/http.Head",
            "net/http.Post",
        ),
        "an HTTP client call waiting for the server",
    ),
    (("net.(*Resolver)", "net.Lookup"), "a DNS lookup"),
    (("net.(*Dialer)", "net.(*sysDialer)", "net.Dial", "net.(*netFD).connect"), "a dial"),
    (("crypto/tls.",), "a TLS connection waiting for its peer"),
    # the net package's connections; not all of net/ (http.Server.Shutdown polls idle
    # connections under the caller's context, it is not a call to a peer)
    (("net.",), "a read or write on a network connection"),
)
# A listener waiting for a connection is a server idling, not a call that needs a bound.
ACCEPT_WAITS = ("Accept", ".accept")
NETWORK_FIX = (
    "Nothing bounds the wait, so a peer that accepts and never answers (or a dropped "
    "packet) holds the call forever: give it a deadline (http.Client{Timeout: …}, since "
    "http.Get and http.DefaultClient have none; a context with a deadline through "
    "http.NewRequestWithContext or net.Dialer.DialContext; conn.SetReadDeadline or "
    "SetDeadline on a raw connection), then find out why the peer does not answer."
)


def network_wait(g: dict[str, Any]) -> str | None:
    """What network call the group waits in, from the frames inside its user frame, or
    None when it waits on something else (a lock, a channel, a file, a listener)."""
    uf = g.get("user_frame")
    if not uf:
        return None
    frames = g.get("frames", [])
    first = next((i for i, f in enumerate(frames) if _same(f, uf)), len(frames))
    # the callee side only: net/http frames *outside* the user frame are the server
    # that called a handler, which may be stuck on anything
    inner = [str(f.get("function", "")) for f in frames[:first]]
    if any(name.endswith(ACCEPT_WAITS) for name in inner):
        return None
    for prefixes, what in NETWORK_WAITS:
        if any(name.startswith(prefixes) for name in inner):
            return what
    return None


def _network_finding(
    d: dict[str, Any], net: list[dict[str, Any]], held: list[dict[str, Any]]
) -> Finding:
    """A hang whose goroutines wait on the network: the call made without a bound, at
    the user's frame that made it, then the goroutines waiting for that call's result."""
    top = net[0]
    uf = top["user_frame"]
    what = network_wait(top)
    sides = (net + [g for g in held if g not in net])[:MAX_SIDES]
    n = sum(g["count"] for g in net)
    return Finding(
        id="blocked-in-go-code",
        severity=Severity.ERROR,
        title=f"waiting on the network in {uf['function']}: {what}",
        detail=f"{n} goroutine(s) wait in network I/O ({what}) called from {uf['function']} "
        f"({uf.get('file')}:{uf.get('line')}); it still waited when godiag asked for the "
        "dump: the peer does not answer and nothing ends the wait.",
        evidence=tuple(
            Evidence(command=f"goroutine dump ({d['stream']})", output=user_frames_text(g))
            for g in sides
        ),
        location=Location(file=str(uf.get("file")), line=uf.get("line")),
        fix=NETWORK_FIX,
    )


def dump_findings(rec: RunRecord, explained: bool) -> list[Finding]:
    out = []
    for d in rec.dumps:
        if d["reason"] != "SIGQUIT":
            continue
        groups = stuck_groups(d["analysis"])
        if not groups:
            continue
        if explained and d["pids"] == [rec.root_pid]:
            continue  # the go command's own wait is what the specific finding explains
        top = groups[0]
        uf = top["user_frame"]
        # every goroutine held by a lock, WaitGroup, Cond or channel is a side of the
        # hang; a select or a sleep beside them is usually a loop that still ticks
        tier = max(BLOCKING.index(top["category"]), BLOCKING.index("channel"))
        held = [g for g in groups if BLOCKING.index(g["category"]) <= tier]
        # A goroutine in a network call is the hang's root whatever tier it parks in
        # (select for an HTTP round trip, io for a read): the others wait for its result.
        net = [g for g in groups if network_wait(g)]
        if net:
            out.append(_network_finding(d, net, held))
            continue
        sides = held[:MAX_SIDES]
        others = f" and {len(held) - 1} other place(s)" if len(held) > 1 else ""
        n = sum(g["count"] for g in held)
        out.append(
            Finding(
                id="blocked-in-go-code",
                severity=Severity.ERROR,
                title=f"blocked in {uf['function']} ({top['state']}){others}",
                detail=f"{n} goroutine(s) wait in the code below ({uf.get('file')}:"
                f"{uf.get('line')} first); the process makes no progress.",
                evidence=tuple(
                    Evidence(command=f"goroutine dump ({d['stream']})", output=user_frames_text(g))
                    for g in sides
                ),
                location=None,
                fix="Look at what should release these waits (lock holder, channel peer, "
                "WaitGroup.Done) in the frames above; two places waiting on each other's "
                "lock or channel are a cycle.",
            )
        )
    return out
