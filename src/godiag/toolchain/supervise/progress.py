"""Is the supervised tree making progress? Output, I/O, new processes, or real computing.

A hung test often keeps a periodic goroutine alive beside the stuck code (a ticker
flushing metrics, a 1 ms timer, a heartbeat): the process then burns a little CPU every
few milliseconds forever. Counting every CPU tick as progress lets such a hang run until
the go command's own timeout. CPU counts here only when the tree computes, i.e. uses at
least `COMPUTE_SHARE` of one core over the last `WINDOW_S` seconds, or runs in long
slices: a parked program woken by tickers does neither (a 10 ms ticker doing real work
costs about 1% of a core, in slices of some 30 us), a build or a CPU-bound test does.
On a loaded machine a compiler may get little more than a tenth of a core, but each
time it runs it runs for hundreds of microseconds (measured: 370-860 us per slice at a
load of 13 on 2 cores), hence the second test (`SLICE_NS`, from the threads' schedstat).

I/O is read from /proc/PID/io, whose rchar/wchar cover files, pipes and sockets, but
also the runtime's own chatter: the netpoller is woken through an eventfd, 8 bytes
written and read per wake-up, hundreds of times a second beside a 1 ms ticker; and since
Go 1.25 the runtime re-reads its cgroup CPU limit about once a second. So only bytes
beyond 8 per syscall count (syscr/syscw give the calls): any write of real data does,
an eventfd poke does not. Reads must also add up to `READ_FLOOR` bytes within the
window, which any download or build input does and a poll of a small file does not; a
fetch trickling slower than that is as good as stalled.

Output and processes starting or ending are progress as soon as they change.
"""

from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass, field

COMPUTE_SHARE = 0.10  # of one core, averaged over the window
SLICE_NS = 200_000  # mean time on a CPU per timeslice of a tree that computes
SLICE_SHARE = 0.02  # ... as long as it gets at least this share of a core
READ_FLOOR = 4096  # bytes read by the tree within the window
WAKEUP_BYTES = 8  # an eventfd write or read: the netpoller being woken, not data
WINDOW_S = 2.0
TICKS_PER_S = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class Sample:
    """One reading of the tree: what changes when it works."""

    t: float
    cpu_ticks: int  # utime+stime summed over the live processes
    run_ns: int  # schedstat: time on a CPU, summed over every thread (0: unknown)
    slices: int  # schedstat: timeslices run
    io: tuple[tuple[int, int, int, int, int], ...]  # (pid, rchar, wchar, syscr, syscw)
    output: int  # bytes the command printed so far


@dataclass
class Progress:
    """Feed samples; `last` is the time of the last progress seen."""

    last: float
    reason: str = "start"
    _window: deque[Sample] = field(default_factory=deque)
    _prev: Sample | None = None

    def add(self, s: Sample) -> bool:
        """Record a sample; True when it shows progress since the previous one."""
        prev, self._prev = self._prev, s
        self._window.append(s)
        while len(self._window) > 1 and s.t - self._window[0].t > WINDOW_S:
            self._window.popleft()
        why = None if prev is not None else "start"
        if prev is not None:
            if s.output != prev.output:
                why = "output"
            elif {io[0] for io in s.io} != {io[0] for io in prev.io}:
                why = "processes"
            elif _data(prev, s, write=True) > 0:
                why = "writes"
            elif _data(self._window[0], s, write=False) >= READ_FLOOR:
                why = "reads"
            elif self._computing():
                why = "CPU"
        if why is None:
            return False
        self.last, self.reason = s.t, why
        return True

    def _computing(self) -> bool:
        first, last = self._window[0], self._window[-1]
        span = last.t - first.t
        if span <= 0:
            return False
        # A process that ended takes its ticks with it: a drop is not negative work.
        used = max(0, last.cpu_ticks - first.cpu_ticks) / TICKS_PER_S
        if used >= COMPUTE_SHARE * span:
            return True
        ran, slices = last.run_ns - first.run_ns, last.slices - first.slices
        return slices > 0 and ran >= SLICE_SHARE * span * 1e9 and ran >= SLICE_NS * slices


def _data(a: Sample, b: Sample, *, write: bool) -> int:
    """Bytes moved from `a` to `b` beyond WAKEUP_BYTES per syscall, by the processes
    present in both (a process that ended takes its counters with it)."""
    before = {io[0]: io for io in a.io}
    k = 2 if write else 1
    total = 0
    for io in b.io:
        old = before.get(io[0])
        if old is not None:
            moved = io[k] - old[k] - WAKEUP_BYTES * (io[k + 2] - old[k + 2])
            total += max(0, moved)
    return total
