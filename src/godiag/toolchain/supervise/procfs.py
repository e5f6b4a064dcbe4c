"""Readers of /proc for one process and for a process tree, with an injectable root.

Every reader tolerates a process that vanished between two reads (it returns None or
an empty value): a supervised build starts and ends processes all the time. The root
is a parameter so that tests and `godiag run` on a mounted /proc of another machine
read the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

GO_BUILDINFO_MAGIC = b"\xff Go buildinf:"
STATUS_KEYS = (
    "Name",
    "State",
    "SigBlk",
    "SigIgn",
    "SigCgt",
    "CapEff",
    "NoNewPrivs",
    "Seccomp",
    "Seccomp_filters",
)


@dataclass(frozen=True)
class Stat:
    """The fields of /proc/PID/stat the supervisor needs (times in clock ticks)."""

    pid: int
    comm: str
    state: str
    ppid: int
    pgid: int
    utime: int
    stime: int
    start: int = 0  # starttime (ticks since boot): with the pid, who the process is


@dataclass
class ProcInfo:
    """Everything read about one process at one moment (JSON-safe through to_json)."""

    pid: int
    stat: Stat
    status: dict[str, str] = field(default_factory=dict)
    io: dict[str, int] = field(default_factory=dict)
    wchan: str = ""
    syscall: str = ""
    stack: str = ""  # kernel stack (/proc/PID/stack, root only): where a D-state task sleeps
    cmdline: list[str] = field(default_factory=list)
    exe: str = ""
    cgroups: list[str] = field(default_factory=list)
    fds: dict[int, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {
            "pid": self.pid,
            "ppid": self.stat.ppid,
            "pgid": self.stat.pgid,
            "comm": self.stat.comm,
            "state": self.stat.state,
            "utime": self.stat.utime,
            "stime": self.stat.stime,
            "status": dict(self.status),
            "io": dict(self.io),
            "wchan": self.wchan,
            "syscall": self.syscall,
            "stack": self.stack,
            "cmdline": list(self.cmdline),
            "exe": self.exe,
            "cgroups": list(self.cgroups),
            "fds": {str(k): v for k, v in sorted(self.fds.items())},
        }


class ProcFS:
    """Read /proc (or a copy of it at `root`)."""

    def __init__(self, root: str | Path = "/proc") -> None:
        self.root = Path(root)

    def _read(self, pid: int | str, name: str) -> str | None:
        try:
            return (self.root / str(pid) / name).read_text(errors="replace")
        except (OSError, ValueError):
            return None

    def pids(self) -> list[int]:
        try:
            return sorted(int(p) for p in os.listdir(self.root) if p.isdigit())
        except OSError:
            return []

    def stat(self, pid: int) -> Stat | None:
        text = self._read(pid, "stat")
        if not text:
            return None
        # comm may contain spaces and parentheses: it ends at the LAST ')'.
        lpar, rpar = text.find("("), text.rfind(")")
        if lpar < 0 or rpar < lpar:
            return None
        rest = text[rpar + 2 :].split()
        try:
            return Stat(
                pid=int(text[:lpar]),
                comm=text[lpar + 1 : rpar],
                state=rest[0],
                ppid=int(rest[1]),
                pgid=int(rest[2]),
                utime=int(rest[11]),
                stime=int(rest[12]),
                start=int(rest[19]) if len(rest) > 19 else 0,
            )
        except (IndexError, ValueError):
            return None

    def status(self, pid: int) -> dict[str, str]:
        out: dict[str, str] = {}
        for line in (self._read(pid, "status") or "").splitlines():
            key, _, value = line.partition(":")
            if key in STATUS_KEYS:
                out[key] = value.strip()
        return out

    def schedstat(self, pid: int) -> tuple[int, int]:
        """(ns on a CPU, timeslices) summed over the process's threads (task/*/schedstat);
        (0, 0) where the kernel has no schedstat. A Go program works on many threads,
        and /proc/PID/schedstat counts only the first."""
        run = slices = 0
        try:
            tasks = os.listdir(self.root / str(pid) / "task")
        except OSError:
            return 0, 0
        for tid in tasks:
            text = self._read(pid, f"task/{tid}/schedstat") or ""
            parts = text.split()
            if len(parts) >= 3 and parts[0].isdigit() and parts[2].isdigit():
                run += int(parts[0])
                slices += int(parts[2])
        return run, slices

    def io(self, pid: int) -> dict[str, int]:
        out: dict[str, int] = {}
        for line in (self._read(pid, "io") or "").splitlines():
            key, _, value = line.partition(":")
            if key in ("rchar", "wchar", "syscr", "syscw", "read_bytes", "write_bytes"):
                try:
                    out[key] = int(value)
                except ValueError:
                    continue
        return out

    def wchan(self, pid: int) -> str:
        text = (self._read(pid, "wchan") or "").strip()
        return "" if text == "0" else text

    def syscall(self, pid: int) -> str:
        return (self._read(pid, "syscall") or "").strip()

    def stack(self, pid: int) -> str:
        """The kernel stack, without addresses; empty when not readable (not root)."""
        lines = (self._read(pid, "stack") or "").splitlines()
        return "\n".join(ln.split("] ", 1)[-1] for ln in lines[:12])

    def cmdline(self, pid: int) -> list[str]:
        text = self._read(pid, "cmdline") or ""
        return [a for a in text.split("\0") if a]

    def exe(self, pid: int) -> str:
        try:
            return os.readlink(self.root / str(pid) / "exe")
        except OSError:
            return ""

    def cgroups(self, pid: int) -> list[str]:
        return [ln for ln in (self._read(pid, "cgroup") or "").splitlines() if ln]

    def fds(self, pid: int) -> dict[int, str]:
        """fd number -> link target (a path, `socket:[INODE]`, `pipe:[…]`, …)."""
        base = self.root / str(pid) / "fd"
        out: dict[int, str] = {}
        try:
            names = os.listdir(base)
        except OSError:
            return out
        for name in names:
            try:
                out[int(name)] = os.readlink(base / name)
            except (OSError, ValueError):
                continue
        return out

    def fd_inodes(self, pid: int) -> dict[tuple[int, int], str]:
        """(st_dev, st_ino) -> path of every open file, to resolve /proc/locks entries."""
        base = self.root / str(pid) / "fd"
        out: dict[tuple[int, int], str] = {}
        for fd, target in self.fds(pid).items():
            try:
                st = os.stat(base / str(fd))
            except OSError:
                continue
            out[(st.st_dev, st.st_ino)] = target
        return out

    def is_go_binary(self, pid: int, limit: int = 64 << 20) -> bool:
        """True when the executable carries Go build info (the buildinf magic)."""
        try:
            with open(self.root / str(pid) / "exe", "rb") as fh:
                tail = b""
                read = 0
                while read < limit:
                    chunk = fh.read(1 << 20)
                    if not chunk:
                        return False
                    if GO_BUILDINFO_MAGIC in tail + chunk:
                        return True
                    tail = chunk[-len(GO_BUILDINFO_MAGIC) :]
                    read += len(chunk)
        except OSError:
            return False
        return False

    def info(self, pid: int, *, full: bool = True) -> ProcInfo | None:
        """Read one process; `full=False` reads only what stall detection needs."""
        st = self.stat(pid)
        if st is None:
            return None
        info = ProcInfo(pid=pid, stat=st, io=self.io(pid))
        if full:
            info.status = self.status(pid)
            info.wchan = self.wchan(pid)
            info.syscall = self.syscall(pid)
            info.stack = self.stack(pid)
            info.cmdline = self.cmdline(pid)
            info.exe = self.exe(pid)
            info.cgroups = self.cgroups(pid)
            info.fds = self.fds(pid)
        return info

    def tree(self, root_pid: int, pgid: int | None = None) -> list[int]:
        """root_pid and all its descendants, plus members of process group `pgid`.

        The group matters because a child whose parent exited is re-parented away
        from the tree but still belongs to the supervised job.
        """
        children: dict[int, list[int]] = {}
        in_group: list[int] = []
        for pid in self.pids():
            st = self.stat(pid)
            if st is None:
                continue
            children.setdefault(st.ppid, []).append(pid)
            if pgid is not None and st.pgid == pgid:
                in_group.append(pid)
        seen: set[int] = set()
        stack = [root_pid, *in_group]
        while stack:
            pid = stack.pop()
            if pid in seen or not (self.root / str(pid)).exists():
                continue
            seen.add(pid)
            stack.extend(children.get(pid, []))
        return sorted(seen)
