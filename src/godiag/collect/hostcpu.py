"""This machine's CPU time, from /proc/stat, to tell whether a local service had the CPU.

A diagnosis reads a service's CPU and GC rates as the service's own. When the service runs
on this machine and the machine's CPUs are busy with other work, those rates measure what
the scheduler left over, not what the service would use: a CPU-bound service reads as idle.
Two readings of the aggregate `cpu` line around the window give how busy the machine was.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

# /proc/stat "cpu" columns: user nice system idle iowait irq softirq steal (guest counted in user)
_IDLE_COLUMNS = (3, 4)  # idle, iowait


@dataclass(frozen=True)
class CpuTimes:
    busy_ticks: int
    total_ticks: int


def read(proc: Path = Path("/proc")) -> CpuTimes | None:
    """The machine's CPU ticks so far; None where /proc/stat is not there or unreadable."""
    try:
        with open(proc / "stat", encoding="ascii") as f:
            first = f.readline(4096)
    except (OSError, UnicodeDecodeError):
        return None
    parts = first.split()
    if len(parts) < 5 or parts[0] != "cpu":
        return None
    try:
        ticks = [int(x) for x in parts[1:9]]
    except ValueError:
        return None
    total = sum(ticks)
    idle = sum(ticks[i] for i in _IDLE_COLUMNS if i < len(ticks))
    return CpuTimes(busy_ticks=total - idle, total_ticks=total)


def busy_cpus(before: CpuTimes | None, after: CpuTimes | None) -> float | None:
    """How many of this machine's CPUs were busy on average between two readings."""
    if before is None or after is None or after.total_ticks <= before.total_ticks:
        return None
    share = (after.busy_ticks - before.busy_ticks) / (after.total_ticks - before.total_ticks)
    return max(0.0, min(1.0, share)) * cpu_count()


def cpu_count() -> int:
    return os.cpu_count() or 1


def is_local(url: str) -> bool:
    """A target served from this machine (loopback): its CPU competes with this machine's."""
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
