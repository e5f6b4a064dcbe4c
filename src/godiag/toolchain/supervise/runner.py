"""Run a go command under supervision: stream, sample, detect stalls, dump, clean up.

The main thread samples the process tree from /proc; one thread per output stream
passes the output through live (output.py). A stall or timeout hands over to
investigate.py (snapshot, dumps); termination.py owns the process group, the
terminal and the clean end of the job.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from godiag.errors import GoCommandError
from godiag.toolchain.supervise import goargs, investigate, termination
from godiag.toolchain.supervise.output import Pump, Recorder
from godiag.toolchain.supervise.progress import COMPUTE_SHARE, Progress, Sample
from godiag.toolchain.supervise.record import RunOptions, RunRecord, expected_outputs
from godiag.toolchain.supervise.system import memory_counter_files, oom_kill_count, oom_kills

__all__ = ["RunOptions", "RunRecord", "Supervisor", "expected_outputs", "supervise"]


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
            recorder=Recorder(opts.clock, self.t0),
            clock=opts.clock,
            t0=self.t0,
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self.write_lock = threading.Lock()
        self._progress_shown = False
        self._tty_fd: int | None = None

    def _clear_progress(self) -> None:
        if self._progress_shown:
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.write("\r\x1b[K")
                sys.stderr.flush()
            self._progress_shown = False

    def spawn(self) -> subprocess.Popen[bytes]:
        self._tty_fd = termination.foreground_tty()
        try:
            proc = subprocess.Popen(
                self.rec.effective_argv,
                cwd=self.o.cwd,
                env=self.o.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                **termination.group_kwargs(self._tty_fd),
            )
        except OSError as exc:
            raise GoCommandError(f"cannot start {self.rec.effective_argv[0]}: {exc}") from None
        self.proc = proc
        self.rec.root_pid = proc.pid
        self.rec.event("start", " ".join(self.rec.effective_argv), pid=proc.pid)
        return proc

    # -- sampling --------------------------------------------------------------------
    def tree(self) -> list[int]:
        assert self.proc is not None
        return self.o.procfs.tree(self.proc.pid, self.proc.pid)

    def sample(self, pids: list[int]) -> Sample:
        """CPU time and I/O of every process, plus output size (progress.py judges)."""
        cpu = run_ns = slices = 0
        io: list[tuple[int, int, int, int, int]] = []
        for pid in pids:
            info = self.o.procfs.info(pid, full=False)
            if info is None:
                continue
            if pid not in self.rec.seen:
                self.rec.seen[pid] = info.stat.comm
                self.rec.starts[pid] = info.stat.start
                if len(self.rec.seen) <= 300:
                    self.rec.event("process", info.stat.comm, pid=pid, ppid=info.stat.ppid)
            self.watch_memcg(pid)
            cpu += info.stat.utime + info.stat.stime
            ran, n = self.o.procfs.schedstat(pid)
            run_ns, slices = run_ns + ran, slices + n
            r, w = info.io.get("rchar", 0), info.io.get("wchar", 0)
            io.append((pid, r, w, info.io.get("syscr", 0), info.io.get("syscw", 0)))
        return Sample(self.o.clock(), cpu, run_ns, slices, tuple(io), self.rec.recorder.total)

    def watch_memcg(self, pid: int) -> None:
        """Remember the memory cgroup of every process while it lives: once the kernel's
        OOM killer has ended it, /proc no longer says which cgroup's counter to read.
        A process may move (a launcher writing cgroup.procs), so this runs every sample."""
        for f in memory_counter_files(self.o.cgroups, self.o.procfs.cgroups(pid)):
            entry = self.rec.memcgs.get(str(f))
            if entry is None:
                count = oom_kill_count(f)
                if count is None:
                    continue
                entry = self.rec.memcgs[str(f)] = {"before": count, "after": count, "pids": []}
            if pid not in entry["pids"] and len(entry["pids"]) < 50:
                entry["pids"].append(pid)

    def progress_line(self, pids: list[int], idle: float) -> None:
        if not self.o.progress:
            return
        names = sorted({self.rec.seen.get(p, "?") for p in pids})
        n = f"{len(pids)} process" + ("" if len(pids) == 1 else "es")
        line = f"godiag run: {self.rec.now():.0f}s, {n} ({', '.join(names[:5])})"
        if idle >= 2:
            line += f", no progress for {idle:.0f}s"
        with self.write_lock:
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.write("\r\x1b[K" + line[:150])
                sys.stderr.flush()
            self._progress_shown = True

    def investigate(self, reason: str) -> None:
        assert self.proc is not None
        self._clear_progress()
        self.rec.pending_gets = dict(self.rec.recorder.gets)
        o = self.o
        snap = investigate.snapshot(self.rec, o.procfs, o.cgroups, self.tree(), reason)
        targets = investigate.dump_targets(snap, self.proc.pid, self.args.sub)
        investigate.collect_dumps(self.rec, o.procfs, targets, self.args.sub, o.clock)

    # -- main loop ---------------------------------------------------------------------
    def _pumps(self, proc: subprocess.Popen[bytes]) -> list[Pump]:
        assert proc.stdout is not None and proc.stderr is not None
        sinks = {
            "stdout": self.o.stdout_sink or sys.stdout.buffer,
            "stderr": self.o.stderr_sink or sys.stderr.buffer,
        }
        pumps = [
            Pump(
                os.dup(pipe.fileno()),
                name,
                sinks[name],
                self.rec.recorder,
                self.rec.x_added and name == "stderr",  # -x lines go to stderr
                self._clear_progress,
                self.write_lock,
            )
            for name, pipe in (("stdout", proc.stdout), ("stderr", proc.stderr))
        ]
        proc.stdout.close()
        proc.stderr.close()
        return pumps

    def _sample(self, proc: subprocess.Popen[bytes]) -> None:
        """Sample until the command exits, stalls or times out."""
        o = self.o
        progress = Progress(last=o.clock())
        while proc.poll() is None:
            pids = self.tree()
            sample = self.sample(pids)
            progress.add(sample)
            now = sample.t
            idle = now - progress.last
            self.progress_line(pids, idle)
            if o.timeout is not None and now - self.t0 >= o.timeout:
                self.rec.ended_by = "timeout"
                default = " (the default)" if o.timeout_is_default else ""
                self.rec.event("timeout", f"--timeout {o.timeout:g}s{default} reached")
                self.investigate("timeout")
                return
            if idle >= o.stall:
                self.rec.ended_by = "stall"
                self.rec.event(
                    "stall",
                    f"no output, I/O, new process or computing for {idle:.1f}s "
                    f"(CPU under {COMPUTE_SHARE:.0%} of a core does not count)",
                )
                self.investigate("stall")
                return
            # Wake up as soon as the command exits, else sample again.
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=o.interval)

    def run(self) -> RunRecord:
        o = self.o
        own_cg = o.cgroups.state(o.procfs.cgroups(os.getpid()))
        self.rec.oom_before = oom_kills(own_cg)
        proc = self.spawn()
        o.after_spawn()
        pumps = self._pumps(proc)
        for p in pumps:
            p.start()
        try:
            self._sample(proc)
        except KeyboardInterrupt:
            self.rec.ended_by = "interrupted"
            self.rec.event("interrupted", "godiag was interrupted")
        finally:
            self._clear_progress()
            termination.terminate(proc, self.tree, self.rec, o.procfs, o.cgroups, o.clock)
            termination.restore_tty(self._tty_fd)
            for p in pumps:
                p.join(timeout=5)
            proc.wait()
            self.rec.returncode = proc.returncode
            self.rec.duration = round(o.clock() - self.t0, 3)
            self.rec.pending_gets = self.rec.pending_gets or dict(self.rec.recorder.gets)
            self.rec.oom_after = oom_kills(o.cgroups.state(o.procfs.cgroups(os.getpid())))
            for f, entry in self.rec.memcgs.items():
                entry["after"] = oom_kill_count(Path(f)) or entry["before"]
            self.rec.event("exit", f"returncode {proc.returncode}")
        return self.rec


def supervise(opts: RunOptions) -> RunRecord:
    """Run `opts.argv` to its end (or stall/timeout) and return what was observed."""
    if not opts.argv:
        raise GoCommandError("nothing to run: give the go command after --")
    return Supervisor(opts).run()
