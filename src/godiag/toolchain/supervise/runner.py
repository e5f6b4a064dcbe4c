"""Run a go command under supervision: stream, sample, detect stalls, dump, clean up.

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
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from godiag.errors import GoCommandError
from godiag.toolchain.supervise import dumps, goargs
from godiag.toolchain.supervise.output import Pump, Recorder
from godiag.toolchain.supervise.procfs import ProcFS
from godiag.toolchain.supervise.system import (
    Cgroups,
    connections_of_tree,
    frozen,
    locks_of_tree,
    oom_kills,
)


@dataclass
class RunOptions:
    argv: list[str]
    env: dict[str, str]
    cwd: str
    stall: float = 60.0
    timeout: float | None = None
    add_x: bool = True
    stdout_sink: BinaryIO | None = None  # default: our stdout
    stderr_sink: BinaryIO | None = None
    progress: bool = False
    interval: float = 0.5
    procfs: ProcFS = field(default_factory=ProcFS)
    cgroups: Cgroups = field(default_factory=Cgroups)
    clock: Callable[[], float] = time.monotonic
    after_spawn: Callable[[], None] = lambda: None  # e.g. start side work once forked


@dataclass
class RunRecord:
    argv: list[str]
    effective_argv: list[str]
    args: goargs.GoArgs
    x_added: bool
    started_at: float
    duration: float = 0.0
    returncode: int | None = None
    ended_by: str = "exit"  # exit | stall | timeout | interrupted
    timeline: list[dict[str, Any]] = field(default_factory=list)
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    dumps: list[dict[str, Any]] = field(default_factory=list)
    recorder: Recorder = field(default_factory=Recorder)
    oom_before: int = 0
    oom_after: int = 0
    pending_gets: dict[str, float] = field(default_factory=dict)
    seen: dict[int, str] = field(default_factory=dict)  # pid -> comm, every process seen
    thawed: list[str] = field(default_factory=list)
    root_pid: int = 0


class Supervisor:
    def __init__(self, opts: RunOptions) -> None:
        self.o = opts
        self.args = goargs.parse(opts.argv, opts.env.get("GOFLAGS", ""))
        add = opts.add_x and self.args.sub in goargs.X_COMMANDS and not self.args.user_x
        argv = self.args.with_x() if add else list(opts.argv)
        self.t0 = opts.clock()
        self.rec = RunRecord(
            argv=list(opts.argv),
            effective_argv=argv,
            args=self.args,
            x_added=add,
            started_at=time.time(),
            recorder=Recorder(opts.clock),
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self.write_lock = threading.Lock()
        self._progress_shown = False
        self._tty_fd: int | None = None

    # -- helpers ---------------------------------------------------------------------
    def now(self) -> float:
        return round(self.o.clock() - self.t0, 3)

    def event(self, kind: str, detail: str, **extra: Any) -> None:
        self.rec.timeline.append({"t": self.now(), "event": kind, "detail": detail, **extra})

    def _clear_progress(self) -> None:
        if self._progress_shown:
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.write("\r\x1b[K")
                sys.stderr.flush()
            self._progress_shown = False

    # -- spawning --------------------------------------------------------------------
    def _foreground_tty(self) -> int | None:
        """stdin's fd when it is our controlling terminal and we own its foreground."""
        try:
            fd = sys.stdin.fileno()
            if os.isatty(fd) and os.tcgetpgrp(fd) == os.getpgrp():
                return fd
        except (OSError, ValueError, AttributeError):
            return None
        return None

    def spawn(self) -> subprocess.Popen[bytes]:
        tty = self._foreground_tty()
        self._tty_fd = tty

        def child_setup() -> None:  # runs in the child between fork and exec
            os.setpgid(0, 0)
            if tty is not None:
                signal.signal(signal.SIGTTOU, signal.SIG_IGN)
                os.tcsetpgrp(tty, os.getpgrp())
                signal.signal(signal.SIGTTOU, signal.SIG_DFL)

        # preexec_fn only when the terminal must be handed over (it forces a plain fork);
        # otherwise the child's own group is set up by the C code of subprocess.
        extra: dict[str, Any] = (
            {"preexec_fn": child_setup} if tty is not None else {"process_group": 0}
        )
        try:
            proc = subprocess.Popen(
                self.rec.effective_argv,
                cwd=self.o.cwd,
                env=self.o.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                **extra,
            )
        except OSError as exc:
            raise GoCommandError(f"cannot start {self.rec.effective_argv[0]}: {exc}") from None
        self.proc = proc
        self.rec.root_pid = proc.pid
        self.event("start", " ".join(self.rec.effective_argv), pid=proc.pid)
        return proc

    def _restore_tty(self) -> None:
        if self._tty_fd is None:
            return
        old = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
        with contextlib.suppress(OSError):
            os.tcsetpgrp(self._tty_fd, os.getpgrp())
        signal.signal(signal.SIGTTOU, old)

    # -- sampling --------------------------------------------------------------------
    def tree(self) -> list[int]:
        assert self.proc is not None
        return self.o.procfs.tree(self.proc.pid, self.proc.pid)

    def signature(self, pids: list[int]) -> tuple[Any, ...]:
        sig = []
        for pid in pids:
            info = self.o.procfs.info(pid, full=False)
            if info is None:
                continue
            if pid not in self.rec.seen:
                self.rec.seen[pid] = info.stat.comm
                if len(self.rec.seen) <= 300:
                    self.event("process", info.stat.comm, pid=pid, ppid=info.stat.ppid)
            sig.append(
                (
                    pid,
                    info.stat.utime + info.stat.stime,
                    info.io.get("rchar", 0) + info.io.get("wchar", 0),
                )
            )
        return (tuple(sig), self.rec.recorder.total)

    def progress_line(self, pids: list[int], idle: float) -> None:
        if not self.o.progress:
            return
        names = sorted({self.rec.seen.get(p, "?") for p in pids})
        line = f"godiag run: {self.now():.0f}s, {len(pids)} processes ({', '.join(names[:5])})"
        if idle >= 2:
            line += f", no progress for {idle:.0f}s"
        with self.write_lock:
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.write("\r\x1b[K" + line[:150])
                sys.stderr.flush()
            self._progress_shown = True

    # -- investigation ---------------------------------------------------------------
    def snapshot(self, reason: str) -> dict[str, Any]:
        pids = self.tree()
        procs = []
        for pid in pids:
            info = self.o.procfs.info(pid)
            if info is None:
                continue
            entry = info.to_json()
            entry["go"] = self.o.procfs.is_go_binary(pid)
            entry["cgroup_state"] = self.o.cgroups.state(info.cgroups)
            procs.append(entry)
        snap = {
            "t": self.now(),
            "reason": reason,
            "processes": procs,
            "locks": locks_of_tree(self.o.procfs, pids),
            "connections": connections_of_tree(self.o.procfs, pids),
            "pending_fetches": sorted(self.rec.recorder.gets),
        }
        self.rec.snapshots.append(snap)
        self.event("snapshot", reason, processes=len(procs))
        return snap

    def dump_targets(self, snap: dict[str, Any]) -> list[int]:
        """Go processes worth a SIGQUIT, deepest first; skips stopped and frozen ones."""
        assert self.proc is not None
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
            if p["pid"] == self.proc.pid and self.args.sub in goargs.CATCHES_SIGQUIT:
                continue
            out.append(p["pid"])
        return sorted(out, key=lambda pid: -d(pid))

    def collect_dumps(self, snap: dict[str, Any]) -> None:
        targets = self.dump_targets(snap)
        if not targets:
            self.event("dump", "no Go process could be asked for a dump")
            return
        marks = self.rec.recorder.sizes()
        for pid in targets:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGQUIT)
                self.event("signal", "SIGQUIT", pid=pid, comm=self.rec.seen.get(pid, ""))
        # Wait for the signalled processes to print and exit; the go command prints a
        # test binary's output only after the binary has exited.
        deadline = self.o.clock() + 5.0
        while self.o.clock() < deadline:
            alive = [p for p in targets if self.o.procfs.stat(p) not in (None,)]
            alive = [p for p in alive if (st := self.o.procfs.stat(p)) and st.state != "Z"]
            quiet = self.o.clock() - self.rec.recorder.last_output > 0.5
            if not alive and quiet:
                break
            time.sleep(0.1)
        for stream in ("stdout", "stderr"):
            for block in dumps.extract(self.rec.recorder.text(stream, marks[stream])):
                source = f"{stream} of {self.args.sub or 'go'} after SIGQUIT"
                self.rec.dumps.append(
                    {
                        "pids": targets,
                        "stream": stream,
                        "reason": "SIGQUIT",
                        "text": block[:200_000],
                        "analysis": dumps.analyze(block, source),
                    }
                )
        self.event("dumps", f"{len(self.rec.dumps)} goroutine dump(s) captured")

    def investigate(self, reason: str) -> None:
        self._clear_progress()
        self.rec.pending_gets = dict(self.rec.recorder.gets)
        snap = self.snapshot(reason)
        self.collect_dumps(snap)

    # -- ending ----------------------------------------------------------------------
    def _thaw(self) -> None:
        """A frozen cgroup holds SIGKILL back: thaw the ones our processes sit in."""
        for snap in self.rec.snapshots:
            for p in snap["processes"]:
                cg = p["cgroup_state"]
                path = cg.get("v1_freezer_path")
                if cg.get("v1_freezer_state") in ("FROZEN", "FREEZING") and path:
                    f = self.o.cgroups.root / "freezer" / str(path).lstrip("/") / "freezer.state"
                    with contextlib.suppress(OSError):
                        f.write_text("THAWED")
                        if str(f) not in self.rec.thawed:
                            self.rec.thawed.append(str(f))
                            self.event("thaw", str(f))
                v2 = cg.get("v2_path")
                if frozen(cg) and v2 and "v1_freezer_state" not in cg:
                    f = self.o.cgroups.root / str(v2).lstrip("/") / "cgroup.freeze"
                    with contextlib.suppress(OSError):
                        f.write_text("0")
                        self.rec.thawed.append(str(f))
                        self.event("thaw", str(f))

    def terminate(self) -> None:
        """SIGTERM (with SIGCONT for stopped ones), then SIGKILL, to group and tree."""
        assert self.proc is not None
        pgid = self.proc.pid
        for sig in (signal.SIGTERM, signal.SIGKILL):
            pids = self.tree()
            if not pids and self.proc.poll() is not None:
                return
            if sig == signal.SIGKILL:
                self._thaw()
            self.event("signal", sig.name, pgid=pgid)
            for target in (*pids, -pgid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    if target < 0:
                        os.killpg(-target, sig)
                        os.killpg(-target, signal.SIGCONT)
                    else:
                        os.kill(target, sig)
                        os.kill(target, signal.SIGCONT)
            deadline = self.o.clock() + (2.0 if sig == signal.SIGTERM else 5.0)
            while self.o.clock() < deadline:
                self.proc.poll()
                if self.proc.returncode is not None and not self._live(self.tree()):
                    return
                time.sleep(0.05)

    def _live(self, pids: list[int]) -> list[int]:
        return [p for p in pids if (st := self.o.procfs.stat(p)) and st.state not in "ZX"]

    # -- main loop ---------------------------------------------------------------------
    def run(self) -> RunRecord:
        o = self.o
        own_cg = o.cgroups.state(o.procfs.cgroups(os.getpid()))
        self.rec.oom_before = oom_kills(own_cg)
        proc = self.spawn()
        o.after_spawn()
        assert proc.stdout is not None and proc.stderr is not None
        out_sink = o.stdout_sink or sys.stdout.buffer
        err_sink = o.stderr_sink or sys.stderr.buffer
        pumps = [
            Pump(
                os.dup(proc.stdout.fileno()),
                "stdout",
                out_sink,
                self.rec.recorder,
                False,
                self._clear_progress,
                self.write_lock,
            ),
            Pump(
                os.dup(proc.stderr.fileno()),
                "stderr",
                err_sink,
                self.rec.recorder,
                self.rec.x_added,
                self._clear_progress,
                self.write_lock,
            ),
        ]
        proc.stdout.close()
        proc.stderr.close()
        for p in pumps:
            p.start()
        last_sig: tuple[Any, ...] = ()
        last_progress = o.clock()
        try:
            while proc.poll() is None:
                pids = self.tree()
                sig = self.signature(pids)
                now = o.clock()
                if sig != last_sig:
                    last_sig, last_progress = sig, now
                idle = now - last_progress
                self.progress_line(pids, idle)
                if o.timeout is not None and now - self.t0 >= o.timeout:
                    self.rec.ended_by = "timeout"
                    self.event("timeout", f"--timeout {o.timeout:g}s reached")
                    self.investigate("timeout")
                    break
                if idle >= o.stall:
                    self.rec.ended_by = "stall"
                    self.event("stall", f"no CPU, I/O or output for {idle:.1f}s")
                    self.investigate("stall")
                    break
                # Wake up as soon as the command exits, else sample again.
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=o.interval)
        except KeyboardInterrupt:
            self.rec.ended_by = "interrupted"
            self.event("interrupted", "godiag was interrupted")
        finally:
            self._clear_progress()
            self.terminate()
            self._restore_tty()
            for p in pumps:
                p.join(timeout=5)
            proc.wait()
            self.rec.returncode = proc.returncode
            self.rec.duration = round(o.clock() - self.t0, 3)
            self.rec.pending_gets = self.rec.pending_gets or dict(self.rec.recorder.gets)
            self.rec.oom_after = oom_kills(o.cgroups.state(o.procfs.cgroups(os.getpid())))
            self.event("exit", f"returncode {proc.returncode}")
        return self.rec


def supervise(opts: RunOptions) -> RunRecord:
    """Run `opts.argv` to its end (or stall/timeout) and return what was observed."""
    if not opts.argv:
        raise GoCommandError("nothing to run: give the go command after --")
    return Supervisor(opts).run()


def expected_outputs(args: goargs.GoArgs, cwd: str, extra: list[Path]) -> dict[str, float | None]:
    """Paths that must be (re)written, with their mtime before the run (None: absent)."""
    paths = list(extra)
    if args.sub == "build" and args.output:
        paths.append(Path(args.output))
    out: dict[str, float | None] = {}
    for p in paths:
        full = p if p.is_absolute() else Path(cwd) / p
        try:
            out[str(full)] = full.stat().st_mtime
        except OSError:
            out[str(full)] = None
    return out
