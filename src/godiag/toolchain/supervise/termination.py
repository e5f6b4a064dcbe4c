"""Process-group and terminal handling of the supervised job, and ending it cleanly.

The child gets its own process group so the whole job can be signalled at once and
nothing is left behind. When godiag's stdin is the controlling terminal, the child's
group is made the terminal's foreground group (as a shell does), so a git or ssh
child that asks for a password really waits at the prompt instead of being stopped.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from godiag.toolchain.supervise.procfs import ProcFS
from godiag.toolchain.supervise.record import RunRecord
from godiag.toolchain.supervise.system import Cgroups, frozen


def foreground_tty() -> int | None:
    """stdin's fd when it is our controlling terminal and we own its foreground."""
    try:
        fd = sys.stdin.fileno()
        if os.isatty(fd) and os.tcgetpgrp(fd) == os.getpgrp():
            return fd
    except (OSError, ValueError, AttributeError):
        return None
    return None


def group_kwargs(tty: int | None) -> dict[str, Any]:
    """Popen arguments that put the child in its own group (and the terminal's foreground)."""

    def child_setup() -> None:  # runs in the child between fork and exec
        os.setpgid(0, 0)
        if tty is not None:
            signal.signal(signal.SIGTTOU, signal.SIG_IGN)
            os.tcsetpgrp(tty, os.getpgrp())
            signal.signal(signal.SIGTTOU, signal.SIG_DFL)

    # preexec_fn only when the terminal must be handed over (it forces a plain fork);
    # otherwise the child's own group is set up by the C code of subprocess.
    return {"preexec_fn": child_setup} if tty is not None else {"process_group": 0}


def restore_tty(tty: int | None) -> None:
    """Take the terminal's foreground back for godiag's own group."""
    if tty is None:
        return
    old = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        os.tcsetpgrp(tty, os.getpgrp())
    signal.signal(signal.SIGTTOU, old)


def thaw(rec: RunRecord, cgroups: Cgroups) -> None:
    """A frozen cgroup holds SIGKILL back: thaw the ones our processes sit in."""
    for snap in rec.snapshots:
        for p in snap["processes"]:
            cg = p["cgroup_state"]
            path = cg.get("v1_freezer_path")
            if cg.get("v1_freezer_state") in ("FROZEN", "FREEZING") and path:
                f = cgroups.root / "freezer" / str(path).lstrip("/") / "freezer.state"
                with contextlib.suppress(OSError):
                    f.write_text("THAWED")
                    if str(f) not in rec.thawed:
                        rec.thawed.append(str(f))
                        rec.event("thaw", str(f))
            v2 = cg.get("v2_path")
            if frozen(cg) and v2 and "v1_freezer_state" not in cg:
                f = cgroups.root / str(v2).lstrip("/") / "cgroup.freeze"
                with contextlib.suppress(OSError):
                    f.write_text("0")
                    rec.thawed.append(str(f))
                    rec.event("thaw", str(f))


def live(procfs: ProcFS, pids: list[int]) -> list[int]:
    """The pids that still run (neither gone nor zombies)."""
    return [p for p in pids if (st := procfs.stat(p)) and st.state not in "ZX"]


def ours(procfs: ProcFS, rec: RunRecord, pids: list[int]) -> list[int]:
    """The pids that still name the processes first seen under those numbers."""
    out = []
    for pid in pids:
        st = procfs.stat(pid)
        if st is not None and pid in rec.starts and rec.starts[pid] == st.start:
            out.append(pid)
    return out


def terminate(
    proc: subprocess.Popen[bytes],
    tree: Callable[[], list[int]],
    rec: RunRecord,
    procfs: ProcFS,
    cgroups: Cgroups,
    clock: Callable[[], float],
) -> None:
    """SIGTERM (with SIGCONT for stopped ones), then SIGKILL, to group and tree.

    Once the command has been reaped, its pid and group id are free numbers: another
    job's process (another `godiag run`'s go command is a group leader too) may carry
    them by now. Then only processes first seen by a sample, and still the same ones
    (pid and start time), are signalled, and the group id is left alone."""
    pgid = proc.pid
    for sig in (signal.SIGTERM, signal.SIGKILL):
        reaped = proc.poll() is not None
        pids = ours(procfs, rec, list(rec.starts)) if reaped else tree()
        if not pids and reaped:
            return
        if sig == signal.SIGKILL:
            thaw(rec, cgroups)
        rec.event("signal", sig.name, pgid=pgid)
        for target in (*pids, *(() if reaped else (-pgid,))):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                if target < 0:
                    os.killpg(-target, sig)
                    os.killpg(-target, signal.SIGCONT)
                else:
                    os.kill(target, sig)
                    os.kill(target, signal.SIGCONT)
        deadline = clock() + (2.0 if sig == signal.SIGTERM else 5.0)
        while clock() < deadline:
            proc.poll()
            left = ours(procfs, rec, list(rec.starts)) if reaped else tree()
            if proc.returncode is not None and not live(procfs, left):
                return
            time.sleep(0.05)
