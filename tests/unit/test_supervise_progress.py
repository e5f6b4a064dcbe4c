"""`godiag run`'s judgement of progress, and what its hang findings show.

Progress: the runtime's own chatter beside a stuck program (eventfd wake-ups of the
netpoller, a periodic cgroup read, a ticker's sliver of CPU) is not progress; output,
written data, reads that add up, new processes and real computing are.
"""

from __future__ import annotations

import io
import time
from typing import Any

from godiag.toolchain.supervise import dumps, goargs, outcome, stallfind
from godiag.toolchain.supervise.output import Pump, Recorder
from godiag.toolchain.supervise.progress import (
    COMPUTE_SHARE,
    READ_FLOOR,
    TICKS_PER_S,
    Progress,
    Sample,
)
from godiag.toolchain.supervise.record import RunRecord


def _feed(samples: list[Sample]) -> list[bool]:
    p = Progress(last=samples[0].t)
    return [p.add(s) for s in samples]


def _io(rchar: int, wchar: int, syscr: int, syscw: int) -> tuple[tuple[int, int, int, int, int]]:
    return ((100, rchar, wchar, syscr, syscw),)


def test_eventfd_wakeups_and_a_ticker_sliver_are_not_progress() -> None:
    samples = []
    for i in range(20):  # 10 s, sampled every 0.5 s
        # 50 wake-ups of 8 bytes each way per sample, 1 tick of CPU per second
        n = 50 * i
        samples.append(Sample(i * 0.5, i // 2, 0, 0, _io(2000 + 8 * n, 8 * n, 10 + n, n), 300))
    assert _feed(samples)[1:] == [False] * 19


def test_real_data_written_is_progress_at_once() -> None:
    a = Sample(0.0, 0, 0, 0, _io(0, 0, 0, 0), 0)
    b = Sample(0.5, 0, 0, 0, _io(0, 8 * 40 + 100, 0, 41), 0)
    assert _feed([a, b]) == [True, True]


def test_reads_count_once_they_add_up_within_the_window() -> None:
    small = [Sample(i * 0.5, 0, 0, 0, _io(200 * i, 0, 2 * i, 0), 0) for i in range(10)]
    assert not any(_feed(small)[1:])  # a cgroup file re-read every half second
    big = [Sample(i * 0.5, 0, 0, 0, _io(READ_FLOOR * i, 0, i, 0), 0) for i in range(4)]
    assert _feed(big)[2:] == [True, True]


def test_computing_is_progress_and_a_sliver_is_not() -> None:
    per_sample = int(TICKS_PER_S * 0.5 * COMPUTE_SHARE) + 1
    busy = [Sample(i * 0.5, i * per_sample, 0, 0, _io(0, 0, 0, 0), 0) for i in range(6)]
    assert all(_feed(busy)[1:])
    idle = [Sample(i * 0.5, i // 4, 0, 0, _io(0, 0, 0, 0), 0) for i in range(6)]
    assert not any(_feed(idle)[1:])


def test_long_slices_are_computing_even_with_a_small_share_of_a_loaded_cpu() -> None:
    # a compiler given 5% of a core, 500 us at a time
    starved = [Sample(i * 0.5, 0, i * 25_000_000, i * 50, _io(0, 0, 0, 0), 0) for i in range(6)]
    assert all(_feed(starved)[1:])
    # a ticker: 1.3% of a core in 30 us slices
    ticking = [Sample(i * 0.5, 0, i * 6_500_000, i * 216, _io(0, 0, 0, 0), 0) for i in range(6)]
    assert not any(_feed(ticking)[1:])


def test_output_and_processes_are_progress() -> None:
    a = Sample(0.0, 0, 0, 0, _io(0, 0, 0, 0), 0)
    out = Sample(0.5, 0, 0, 0, _io(0, 0, 0, 0), 12)
    child = Sample(1.0, 0, 0, 0, ((100, 0, 0, 0, 0), (101, 0, 0, 0, 0)), 12)
    assert _feed([a, out, child]) == [True, True, True]


def _record(**kw: Any) -> RunRecord:
    return RunRecord(
        argv=["go", "test"],
        effective_argv=["go", "test"],
        args=goargs.parse(["go", "test"], ""),
        x_added=False,
        started_at=time.time(),
        **kw,
    )


def test_a_pending_fetch_waited_a_positive_time_since_it_started() -> None:
    clock = iter([5000.0, 5000.0, 5003.0]).__next__  # a since-boot clock
    rec = Recorder(clock, t0=4990.0)  # the run started 10 s before the recorder's first read
    rec.add("stderr", b"# get https://proxy.example/mod/@v/v1.0.0.mod\n")
    assert rec.gets == {"https://proxy.example/mod/@v/v1.0.0.mod": 13.0}
    run = _record(duration=40.0, pending_gets=dict(rec.gets))
    (f,) = stallfind.fetch_findings({"t": 33.0, "connections": []}, run)
    assert "got no answer in 20.0s" in f.detail


def test_output_after_the_dump_request_is_recorded_not_shown() -> None:
    import os

    r, w = os.pipe()
    rec = Recorder()
    sink = io.BytesIO()
    pump = Pump(r, "stderr", sink, rec, strip_x=False)
    pump.start()
    os.write(w, b"before\n")
    deadline = time.monotonic() + 10
    while rec.total < 7 and time.monotonic() < deadline:
        time.sleep(0.01)
    rec.mute()
    os.write(w, b"SIGQUIT: quit\ngoroutine 1 [running]:\n")
    os.close(w)
    pump.join(10)
    assert sink.getvalue() == b"before\n"
    assert rec.text("stderr").endswith("goroutine 1 [running]:\n")
    assert rec.withheld == len(b"SIGQUIT: quit\ngoroutine 1 [running]:\n")


AB_BA = """SIGQUIT: quit

goroutine 1 gp=0xc000002380 m=nil [chan receive]:
runtime.gopark(0x0?)
\truntime/proc.go:462 +0xce
testing.(*T).Run(0xc000003a40)
\ttesting/testing.go:2109 +0x4c5
testing.(*M).Run(0xc0000a0140)
\ttesting/testing.go:2443 +0x6c5
main.main()
\t_testmain.go:46 +0x9b

goroutine 7 [sync.Mutex.Lock]:
runtime.gopark(0x0?)
\truntime/proc.go:462 +0xce
runtime.goparkunlock(...)
\truntime/proc.go:468
runtime.semacquire1(0xc00001c0e4)
\truntime/sema.go:192 +0x21d
internal/sync.runtime_SemacquireMutex(0x0?)
\truntime/sema.go:95 +0x25
internal/sync.(*Mutex).lockSlow(0xc00001c0e0)
\tinternal/sync/mutex.go:149 +0x15d
sync.(*Mutex).Lock(...)
\tsync/mutex.go:46
example.com/bank.(*Account).credit(0xc00001c0e0)
\t/src/bank.go:20 +0x45
example.com/bank.Transfer(0xc00001c0c0, 0xc00001c0e0)
\t/src/bank.go:12 +0x30
created by example.com/bank.TestTransfer in goroutine 6
\t/src/bank_test.go:9 +0x65

goroutine 8 [sync.Mutex.Lock]:
runtime.gopark(0x0?)
\truntime/proc.go:462 +0xce
sync.(*Mutex).Lock(...)
\tsync/mutex.go:46
example.com/bank.(*Account).debit(0xc00001c0c0)
\t/src/bank.go:27 +0x45
example.com/bank.Transfer(0xc00001c0e0, 0xc00001c0c0)
\t/src/bank.go:13 +0x30
created by example.com/bank.TestTransfer in goroutine 6
\t/src/bank_test.go:10 +0x65

goroutine 9 [select]:
runtime.gopark(0x0?)
\truntime/proc.go:462 +0xce
example.com/bank.metrics(0xc00001c0e0)
\t/src/metrics.go:8 +0x45
created by example.com/bank.TestTransfer in goroutine 6
\t/src/bank_test.go:8 +0x65
"""


def test_a_hang_is_shown_in_the_users_frames_on_every_side() -> None:
    (found,), _ = dumps.find(AB_BA, "stdout")
    rec = _record(root_pid=1)
    rec.dumps.append(
        {"pids": [2], "stream": "stdout", "reason": "SIGQUIT", "analysis": found.analysis}
    )
    (f,) = stallfind.dump_findings(rec, explained=False)
    assert "and 1 other place(s)" in f.title  # both sides, not the ticking select
    text = "\n".join(e.output or "" for e in f.evidence)
    assert "example.com/bank.(*Account).credit\n\t/src/bank.go:20" in text
    assert "example.com/bank.(*Account).debit\n\t/src/bank.go:27" in text
    assert "sync.(*Mutex).Lock (waits here)" in text
    for noise in ("runtime.gopark", "semacquire1", "_testmain.go", "metrics"):
        assert noise not in text


def test_a_test_timeout_is_not_pinned_on_the_harness() -> None:
    text = AB_BA.replace("SIGQUIT: quit", "panic: test timed out after 3s")
    rec = _record()
    rec.recorder.add("stdout", text.encode())
    (f,) = outcome.panic_findings(rec)
    assert "(*Account)" in f.detail and "_testmain.go" not in f.detail
    ev = "\n".join(e.output or "" for e in f.evidence)
    assert "_testmain.go" not in ev and "runtime.gopark" not in ev


def test_after_the_command_is_reaped_only_its_own_processes_are_signalled() -> None:
    """A reaped command's pid and group id are free numbers: a process carrying one of
    them now (here: a `sleep` whose recorded start time differs) is not ours."""
    import subprocess

    from godiag.toolchain.supervise import termination
    from godiag.toolchain.supervise.procfs import ProcFS
    from godiag.toolchain.supervise.system import Cgroups

    procfs = ProcFS()
    done = subprocess.Popen(["true"])
    done.wait()
    stranger = subprocess.Popen(["sleep", "60"])
    leftover = subprocess.Popen(["sleep", "60"])
    try:
        rec = _record()
        st_stranger, st_leftover = procfs.stat(stranger.pid), procfs.stat(leftover.pid)
        assert st_stranger is not None and st_leftover is not None
        rec.starts[stranger.pid] = st_stranger.start - 1  # an older process had this pid
        rec.starts[leftover.pid] = st_leftover.start  # one of the job's, still running
        tree = lambda: [stranger.pid, leftover.pid]  # noqa: E731  (a stale root's "tree")
        termination.terminate(done, tree, rec, procfs, Cgroups(), time.monotonic)
        assert leftover.wait(10) == -15
        assert stranger.poll() is None
    finally:
        stranger.kill()
        leftover.kill()
        stranger.wait()
        leftover.wait()
