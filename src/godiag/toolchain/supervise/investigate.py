"""What godiag does once the tree stalls or times out: snapshot it, then ask for dumps."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from typing import Any

from godiag.toolchain.supervise import dumps, goargs
from godiag.toolchain.supervise.procfs import ProcFS
from godiag.toolchain.supervise.record import RunRecord
from godiag.toolchain.supervise.system import (
    Cgroups,
    connections_of_tree,
    frozen,
    locks_of_tree,
)


def snapshot(
    rec: RunRecord, procfs: ProcFS, cgroups: Cgroups, pids: list[int], reason: str
) -> dict[str, Any]:
    """Every process of the tree with its /proc state, plus locks, connections, fetches."""
    procs = []
    for pid in pids:
        info = procfs.info(pid)
        if info is None:
            continue
        entry = info.to_json()
        entry["go"] = procfs.is_go_binary(pid)
        entry["cgroup_state"] = cgroups.state(info.cgroups)
        procs.append(entry)
    snap = {
        "t": rec.now(),
        "reason": reason,
        "processes": procs,
        "locks": locks_of_tree(procfs, pids),
        "connections": connections_of_tree(procfs, pids),
        "pending_fetches": sorted(rec.recorder.gets),
    }
    rec.snapshots.append(snap)
    rec.event("snapshot", reason, processes=len(procs))
    return snap


def dump_targets(snap: dict[str, Any], root_pid: int, sub: str) -> list[int]:
    """Go processes worth a SIGQUIT, deepest first; skips stopped and frozen ones."""
    depth: dict[int, int] = {}
    by_pid = {p["pid"]: p for p in snap["processes"]}

    def d(pid: int) -> int:
        if pid not in depth:
            parent = by_pid.get(pid, {}).get("ppid")
            depth[pid] = 0 if parent not in by_pid or pid == parent else d(parent) + 1
        return depth[pid]

    out = []
    for p in snap["processes"]:
        if not p["go"] or p["state"] in ("T", "t", "Z", "X"):
            continue
        if frozen(p["cgroup_state"]):
            continue
        if p["pid"] == root_pid and sub in goargs.CATCHES_SIGQUIT:
            continue  # the go command catches it there and does not forward it
        out.append(p["pid"])
    return sorted(out, key=lambda pid: -d(pid))


def collect_dumps(
    rec: RunRecord, procfs: ProcFS, targets: list[int], sub: str, clock: Callable[[], float]
) -> None:
    """SIGQUIT the targets, wait for their output, and record the dumps it holds."""
    if not targets:
        rec.event("dump", "no Go process could be asked for a dump")
        return
    rec.recorder.mute()  # the dumps are evidence for the report, not for the terminal
    marks = rec.recorder.sizes()
    for pid in targets:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGQUIT)
            rec.event("signal", "SIGQUIT", pid=pid, comm=rec.seen.get(pid, ""))
    # Wait for the signalled processes to print and exit; the go command prints a
    # test binary's output only after the binary has exited.
    deadline = clock() + 5.0
    while clock() < deadline:
        alive = [p for p in targets if (st := procfs.stat(p)) and st.state != "Z"]
        quiet = clock() - rec.recorder.last_output > 0.5
        if not alive and quiet:
            break
        time.sleep(0.1)
    for stream in ("stdout", "stderr"):
        source = f"{stream} of {sub or 'go'} after SIGQUIT"
        found, warnings = dumps.find(rec.recorder.text(stream, marks[stream]), source)
        rec.warnings.extend(warnings)
        for dump in found:
            rec.dumps.append(
                {
                    "pids": targets,
                    "stream": stream,
                    "reason": "SIGQUIT",
                    "text": dump.text,
                    "analysis": dump.analysis,
                }
            )
    rec.event("dumps", f"{len(rec.dumps)} goroutine dump(s) captured")
