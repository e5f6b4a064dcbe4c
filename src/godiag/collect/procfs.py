"""Find where a local process serves HTTP: its listening TCP sockets, read from /proc.

/proc/PID/fd links name the socket inodes the process holds (`socket:[INODE]`);
/proc/PID/net/tcp and tcp6 (the process's own network namespace) list sockets with
their state (0A = LISTEN), local address and inode. Matching the two gives the
process's listening addresses without any external tool.
"""

from __future__ import annotations

import os
from pathlib import Path

from godiag.errors import CollectError

LISTEN = "0A"


def _socket_inodes(pid: int, proc: Path) -> set[str]:
    fd_dir = proc / str(pid) / "fd"
    if not (proc / str(pid)).is_dir():
        raise CollectError(f"no process with PID {pid}")
    try:
        names = os.listdir(fd_dir)
    except PermissionError:
        raise CollectError(
            f"cannot read {fd_dir}: permission denied (run godiag as the process's user or root)"
        ) from None
    except FileNotFoundError:
        raise CollectError(f"process {pid} exited") from None
    inodes: set[str] = set()
    for name in names:
        try:
            target = os.readlink(fd_dir / name)
        except OSError:
            continue  # closed while we looked
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _addr(hex_addr: str) -> tuple[str, int]:
    """`0100007F:1F90` (v4) or 32 hex digits (v6, four little-endian words) -> (host, port)."""
    host_hex, port_hex = hex_addr.split(":")
    port = int(port_hex, 16)
    raw = bytes.fromhex(host_hex)
    # the kernel prints each 32-bit word in host (little-endian) order
    words = [raw[i : i + 4][::-1] for i in range(0, len(raw), 4)]
    b = b"".join(words)
    if len(b) == 4:
        host = ".".join(str(x) for x in b)
        return ("127.0.0.1" if host == "0.0.0.0" else host), port
    if b[:12] == b"\x00" * 10 + b"\xff\xff":  # IPv4-mapped
        return ".".join(str(x) for x in b[12:]), port
    groups = [f"{int.from_bytes(b[i : i + 2], 'big'):x}" for i in range(0, 16, 2)]
    host = ":".join(groups)
    if set(groups) == {"0"}:
        return "::1", port
    return host, port


def listening_addresses(pid: int, proc: Path = Path("/proc")) -> list[tuple[str, int]]:
    """(host, port) of every TCP socket process `pid` listens on, wildcards as loopback."""
    inodes = _socket_inodes(pid, proc)
    found: list[tuple[str, int]] = []
    for cols in _tcp_rows(pid, proc):
        if cols[3] == LISTEN and cols[9] in inodes:
            addr = _addr(cols[1])
            if addr not in found:
                found.append(addr)
    return found


def _tcp_rows(pid: int | None, proc: Path) -> list[list[str]]:
    """The columns of every row of the process's /proc/PID/net/tcp and tcp6, or with no
    PID of /proc/net's, this process's namespace (local address in [1], remote in [2],
    state in [3], inode in [9])."""
    net = (proc if pid is None else proc / str(pid)) / "net"
    rows = []
    for table in ("tcp", "tcp6"):
        try:
            lines = (net / table).read_text().splitlines()[1:]
        except OSError:
            continue
        rows += [cols for line in lines if len(cols := line.split()) > 9]
    return rows


# how many processes' fd tables a listener lookup reads before it gives up: a busy host
# has a few thousand processes; the lookup is a convenience, never a stall
MAX_PROCESSES = 20000


def listener_pids(port: int, proc: Path = Path("/proc")) -> list[int]:
    """The processes holding a socket that listens on TCP `port` in this network namespace
    (/proc/net/tcp and tcp6, any address): usually one; none when the port is served from
    another namespace (a container behind a proxy) or by a process this user cannot read."""
    hex_port = f"{port:04X}"
    inodes = {cols[9] for cols in _tcp_rows(None, proc)
              if cols[3] == LISTEN and cols[1].rsplit(":", 1)[-1] == hex_port}  # fmt: skip
    inodes.discard("0")
    if not inodes:
        return []
    wanted = {f"socket:[{i}]" for i in inodes}
    found: list[int] = []
    try:
        entries = [e for e in os.listdir(proc) if e.isdigit()][:MAX_PROCESSES]
    except OSError:
        return []
    for entry in entries:
        fd_dir = proc / entry / "fd"
        try:
            names = os.listdir(fd_dir)
        except OSError:
            continue  # another user's, or gone
        for name in names:
            try:
                if os.readlink(fd_dir / name) in wanted:
                    found.append(int(entry))
                    break
            except OSError:
                continue
    return found


def cmdline(pid: int, proc: Path = Path("/proc")) -> list[str] | None:
    """The process's argv as the kernel has it; None when it cannot be read."""
    try:
        data = (proc / str(pid) / "cmdline").read_bytes()
    except OSError:
        return None
    return data.decode("utf-8", "replace").split("\x00")[:-1] if data else []


def host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def url_of(host: str, port: int) -> str:
    return f"http://{host_port(host, port)}"


# /proc/net/tcp `st` column: the states a connection can be leaked in
TCP_STATES = {"01": "established", "08": "close_wait"}
PEERS = 5  # remote ends listed per snapshot


def _stat(pid: int, proc: Path, *fields: int) -> list[int]:
    """Numeric fields of /proc/PID/stat, numbered as proc(5) does (1-based), counted after
    the command name's closing parenthesis (the name may itself hold spaces and
    parentheses). Raises OSError, ValueError or IndexError when it cannot be read."""
    stat = (proc / str(pid) / "stat").read_text()
    after = stat[stat.rindex(")") + 2 :].split()  # field 3 onwards
    return [int(after[f - 3]) for f in fields]


def process_uptime(pid: int, proc: Path = Path("/proc")) -> int | None:
    """Whole seconds the process has run: the machine's uptime (/proc/uptime) less the
    process's start in clock ticks after boot (field 22 of /proc/PID/stat). No wall clock
    is involved. None when either file cannot be read or makes no sense."""
    try:
        since_boot = float((proc / "uptime").read_text().split()[0])
        (start_ticks,) = _stat(pid, proc, 22)
    except (OSError, ValueError, IndexError):
        return None
    up = since_boot - start_ticks / os.sysconf("SC_CLK_TCK")
    return int(up) if up >= 0 else None


def cpu_ms(pid: int, proc: Path = Path("/proc")) -> int | None:
    """Milliseconds of CPU the process has used, user and system (fields 14 and 15 of
    /proc/PID/stat, clock ticks); None when it cannot be read."""
    try:
        utime, stime = _stat(pid, proc, 14, 15)
    except (OSError, ValueError, IndexError):
        return None
    return (utime + stime) * 1000 // os.sysconf("SC_CLK_TCK")


def fd_snapshot(pid: int, proc: Path = Path("/proc")) -> bytes:
    """What the kernel says the process holds, as `name value` lines: open_fds, sockets,
    its TCP sockets by state (tcp_established, tcp_close_wait, and of the latter those not
    on a port it listens on, tcp_close_wait_outbound) and how long it has run
    (uptime_seconds) and the CPU it has used (cpu_ms). The counts a service without
    process_open_fds in /metrics cannot tell, read only for a local process; the uptime
    says whether a stored reference is this process's when nothing exports
    process_start_time_seconds; the CPU is the measure of last resort when neither
    /metrics nor a CPU profile gives one (another profiler holds the CPU profile)."""
    fd_dir = proc / str(pid) / "fd"
    try:
        names = os.listdir(fd_dir)
    except OSError as exc:
        raise CollectError(f"cannot read {fd_dir}: {exc.strerror or exc}") from None
    inodes = _socket_inodes(pid, proc)
    counts = {"open_fds": len(names), "sockets": len(inodes)}
    counts.update({f"tcp_{s}": 0 for s in TCP_STATES.values()})
    peers: dict[str, int] = {}
    rows = [cols for cols in _tcp_rows(pid, proc) if cols[9] in inodes]
    # a socket on a port the process listens on was accepted: one in CLOSE_WAIT is a
    # request whose client gave up (a stuck handler's), not a connection the process opened
    listening = {cols[1].rsplit(":", 1)[-1] for cols in rows if cols[3] == LISTEN}
    counts["tcp_close_wait_outbound"] = 0
    for cols in rows:
        if cols[3] in TCP_STATES:
            counts[f"tcp_{TCP_STATES[cols[3]]}"] += 1
            if cols[3] == "01":
                peer = host_port(*_addr(cols[2]))
                peers[peer] = peers.get(peer, 0) + 1
            elif cols[1].rsplit(":", 1)[-1] not in listening:
                counts["tcp_close_wait_outbound"] += 1
    lines = [f"{k} {v}" for k, v in counts.items()]
    if (up := process_uptime(pid, proc)) is not None:
        lines.append(f"uptime_seconds {up}")
    if (ms := cpu_ms(pid, proc)) is not None:
        lines.append(f"cpu_ms {ms}")
    # the remote ends several connections share (a database, a cache, a peer service): a
    # leak's connections pile up on one; accepted ones each have their client's own port
    top = sorted(((n, p) for p, n in peers.items() if n >= 2), reverse=True)[:PEERS]
    lines += [f"peer {p} {n}" for n, p in top]
    return "".join(f"{line}\n" for line in lines).encode()
