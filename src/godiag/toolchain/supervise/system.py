"""System-wide facts about a process tree: file locks, network connections, cgroups.

/proc/locks lists every lock on the machine; an awaited lock is printed as `N: -> …`
right after the lock `N: …` that blocks it, so the holder is the un-arrowed line with
the same ordinal. Files are named by device and inode only: we resolve them through
the open file descriptors of the tree (the waiter has the file open too).
"""

from __future__ import annotations

import os
import socket
import struct
from dataclasses import dataclass
from pathlib import Path

from godiag.toolchain.supervise.procfs import ProcFS

TCP_STATES = {
    "01": "ESTABLISHED",
    "02": "SYN_SENT",
    "03": "SYN_RECV",
    "04": "FIN_WAIT1",
    "05": "FIN_WAIT2",
    "06": "TIME_WAIT",
    "07": "CLOSE",
    "08": "CLOSE_WAIT",
    "09": "LAST_ACK",
    "0A": "LISTEN",
    "0B": "CLOSING",
}


@dataclass(frozen=True)
class Lock:
    ordinal: int
    waiting: bool
    kind: str  # FLOCK, POSIX, OFDLCK
    mode: str  # READ / WRITE
    pid: int
    dev: tuple[int, int]
    inode: int
    line: str


def parse_locks(text: str) -> list[Lock]:
    """Parse /proc/locks; unreadable lines are skipped (the kernel's format is stable)."""
    out: list[Lock] = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 6 or not parts[0].endswith(":"):
            continue
        waiting = parts[1] == "->"
        rest = parts[2:] if waiting else parts[1:]
        try:
            ordinal = int(parts[0][:-1])
            kind, _adv, mode, pid_s, dev_ino = rest[0], rest[1], rest[2], rest[3], rest[4]
            major, minor, ino = dev_ino.split(":")
            out.append(
                Lock(
                    ordinal=ordinal,
                    waiting=waiting,
                    kind=kind,
                    mode=mode,
                    pid=int(pid_s),
                    dev=(int(major, 16), int(minor, 16)),
                    inode=int(ino),
                    line=line.strip(),
                )
            )
        except (IndexError, ValueError):
            continue
    return out


def locks_of_tree(procfs: ProcFS, pids: list[int]) -> list[dict[str, object]]:
    """Locks held or awaited by the tree, with the file path and the holder's PID."""
    try:
        text = (procfs.root / "locks").read_text()
    except OSError:
        return []
    locks = parse_locks(text)
    files: dict[tuple[int, int, int], str] = {}
    for pid in pids:
        for (dev, ino), path in procfs.fd_inodes(pid).items():
            files[(os.major(dev), os.minor(dev), ino)] = path
    tree = set(pids)
    holders = {lk.ordinal: lk for lk in locks if not lk.waiting}
    out: list[dict[str, object]] = []
    for lk in locks:
        if lk.pid not in tree:
            continue
        holder = holders.get(lk.ordinal) if lk.waiting else None
        out.append(
            {
                "pid": lk.pid,
                "state": "awaited" if lk.waiting else "held",
                "kind": lk.kind,
                "mode": lk.mode,
                "file": files.get((lk.dev[0], lk.dev[1], lk.inode)),
                "inode": lk.inode,
                "holder_pid": holder.pid if holder else None,
                "holder_line": holder.line if holder else None,
                "line": lk.line,
            }
        )
    return out


def _addr(hexaddr: str) -> str:
    host, _, port = hexaddr.partition(":")
    raw = bytes.fromhex(host)
    if len(raw) == 4:
        ip = socket.inet_ntop(socket.AF_INET, raw[::-1])
        return f"{ip}:{int(port, 16)}"
    # IPv6: four 32-bit words, each in host (little-endian) order.
    words = struct.unpack("<4I", raw)
    ip = socket.inet_ntop(socket.AF_INET6, struct.pack(">4I", *words))
    return f"[{ip}]:{int(port, 16)}"


def connections_of_tree(procfs: ProcFS, pids: list[int]) -> list[dict[str, object]]:
    """TCP connections whose socket is open in a process of the tree."""
    sockets: dict[str, int] = {}
    for pid in pids:
        for target in procfs.fds(pid).values():
            if target.startswith("socket:["):
                sockets[target[8:-1]] = pid
    if not sockets:
        return []
    out: list[dict[str, object]] = []
    seen: set[str] = set()
    for pid in sorted(set(sockets.values())):
        for table in ("tcp", "tcp6"):
            try:
                lines = (procfs.root / str(pid) / "net" / table).read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                f = line.split()
                if len(f) < 10 or f[9] not in sockets or f[9] in seen:
                    continue
                seen.add(f[9])
                try:
                    local, remote = _addr(f[1]), _addr(f[2])
                except (ValueError, OSError):
                    continue
                out.append(
                    {
                        "pid": sockets[f[9]],
                        "proto": table,
                        "local": local,
                        "remote": remote,
                        "state": TCP_STATES.get(f[3], f[3]),
                        "inode": int(f[9]),
                    }
                )
    return out


class Cgroups:
    """Freeze state and OOM counters of a process's cgroups (v1 and v2)."""

    def __init__(self, root: str | Path = "/sys/fs/cgroup") -> None:
        self.root = Path(root)

    def _read(self, path: Path) -> str | None:
        try:
            return path.read_text()
        except OSError:
            return None

    def state(self, cgroup_lines: list[str]) -> dict[str, object]:
        """What the cgroup files say for the cgroups named in /proc/PID/cgroup."""
        out: dict[str, object] = {}
        for line in cgroup_lines:
            _hid, _, rest = line.partition(":")
            controllers, _, path = rest.partition(":")
            rel = path.lstrip("/")
            if controllers == "":  # v2 unified hierarchy
                base = self.root / rel
                if not (self.root / "cgroup.controllers").exists():
                    base = self.root / "unified" / rel
                freeze = self._read(base / "cgroup.freeze")
                if freeze is not None:
                    out["v2_freeze"] = freeze.strip()
                events = self._read(base / "cgroup.events")
                if events is not None:
                    out["v2_events"] = _kv(events)
                mem = self._read(base / "memory.events")
                if mem is not None:
                    out["v2_memory_events"] = _kv(mem)
                out["v2_path"] = "/" + rel
            elif "freezer" in controllers.split(","):
                state = self._read(self.root / "freezer" / rel / "freezer.state")
                if state is not None:
                    out["v1_freezer_state"] = state.strip()
                    out["v1_freezer_path"] = "/" + rel
            elif "memory" in controllers.split(","):
                oom = self._read(self.root / "memory" / rel / "memory.oom_control")
                if oom is not None:
                    out["v1_oom_control"] = _kv(oom)
                    out["v1_memory_path"] = "/" + rel
        return out


def memory_counter_files(cgroups: Cgroups, cgroup_lines: list[str]) -> list[Path]:
    """The files holding the oom_kill counter of a process's memory cgroups (v1 and v2).

    Counters are per cgroup (v1 does not propagate them to the parent), so the cgroup
    of the process that gets killed must be read, not godiag's own.
    """
    out = []
    for line in cgroup_lines:
        _hid, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        rel = path.lstrip("/")
        if controllers == "":
            base = cgroups.root / rel
            if not (cgroups.root / "cgroup.controllers").exists():
                base = cgroups.root / "unified" / rel
            out.append(base / "memory.events")
        elif "memory" in controllers.split(","):
            out.append(cgroups.root / "memory" / rel / "memory.oom_control")
    return [f for f in out if f.is_file()]


def oom_kill_count(path: Path) -> int | None:
    """The oom_kill line of a memory.events / memory.oom_control file."""
    try:
        return _kv(path.read_text()).get("oom_kill")
    except OSError:
        return None


def frozen(cg: dict[str, object]) -> str | None:
    """A one-line proof that the cgroup is frozen, or None."""
    if cg.get("v1_freezer_state") in ("FROZEN", "FREEZING"):
        return f"{cg.get('v1_freezer_path')}/freezer.state: {cg['v1_freezer_state']}"
    events = cg.get("v2_events")
    if isinstance(events, dict) and events.get("frozen") == 1:
        return f"{cg.get('v2_path')}/cgroup.events: frozen 1"
    if cg.get("v2_freeze") == "1":
        return f"{cg.get('v2_path')}/cgroup.freeze: 1"
    return None


def oom_kills(cg: dict[str, object]) -> int:
    """The oom_kill counter of the memory cgroup (v2 memory.events or v1 oom_control)."""
    for key in ("v2_memory_events", "v1_oom_control"):
        values = cg.get(key)
        if isinstance(values, dict) and isinstance(values.get("oom_kill"), int):
            return int(values["oom_kill"])
    return 0


def _kv(text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        try:
            out[key] = int(value)
        except ValueError:
            continue
    return out
