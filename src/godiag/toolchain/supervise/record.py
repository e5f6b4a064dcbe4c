"""What a supervised run is asked to do (RunOptions) and what was observed (RunRecord)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from godiag.toolchain.supervise import goargs
from godiag.toolchain.supervise.output import Recorder
from godiag.toolchain.supervise.procfs import ProcFS
from godiag.toolchain.supervise.system import Cgroups

# A backstop for hangs that look like progress (a livelock, a loop rewriting a file):
# longer than any sane build or `go test` (whose own default -timeout is 10m).
DEFAULT_TIMEOUT = 3600.0


@dataclass
class RunOptions:
    argv: list[str]
    env: dict[str, str]
    cwd: str
    stall: float = 60.0
    timeout: float | None = None
    timeout_is_default: bool = False  # the CLI's DEFAULT_TIMEOUT, not the user's --timeout
    add_x: bool = True
    stdout_sink: BinaryIO | None = None  # default: our stdout
    stderr_sink: BinaryIO | None = None
    progress: bool = False
    interval: float = 0.5
    procfs: ProcFS = field(default_factory=ProcFS)
    cgroups: Cgroups = field(default_factory=Cgroups)
    clock: Callable[[], float] = time.monotonic
    after_spawn: Callable[[], None] = lambda: None  # e.g. start side work once forked
    leaks: LeakOptions | None = None  # `--leaks`: wrap `go test` to find leaked goroutines


@dataclass
class LeakOptions:
    """`godiag run --leaks` (see leakwrap.py)."""

    leak_profile: bool = True  # GOEXPERIMENT=goroutineleakprofile on Go 1.26+
    grace_s: float = 1.0  # how long goroutines may take to finish after the tests
    keep_dumps: Path | None = None  # copy the dumps here (for `godiag goroutines`)


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
    warnings: list[str] = field(default_factory=list)  # e.g. a dump the parser refused
    recorder: Recorder = field(default_factory=Recorder)
    oom_before: int = 0
    oom_after: int = 0
    # memory cgroup counter file -> {"before": oom_kill at first sight, "after", "pids"}
    memcgs: dict[str, dict[str, Any]] = field(default_factory=dict)
    pending_gets: dict[str, float] = field(default_factory=dict)
    seen: dict[int, str] = field(default_factory=dict)  # pid -> comm, every process seen
    # pid -> starttime at first sight: a pid number is only ours while it names the same
    # process (pid_max is often 32768, and busy machines go round it in minutes)
    starts: dict[int, int] = field(default_factory=dict)
    thawed: list[str] = field(default_factory=list)
    root_pid: int = 0
    clock: Callable[[], float] = time.monotonic
    t0: float = 0.0  # clock() at the start: timeline times are relative to it

    def now(self) -> float:
        return round(self.clock() - self.t0, 3)

    def event(self, kind: str, detail: str, **extra: Any) -> None:
        self.timeline.append({"t": self.now(), "event": kind, "detail": detail, **extra})

    def output_text(self) -> str:
        """Both streams as text (stdout first), for the output-based findings."""
        return self.recorder.text("stdout") + "\n" + self.recorder.text("stderr")


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
