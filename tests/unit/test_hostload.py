"""A local service's CPU figures on a saturated machine: read /proc/stat, judge, say not sure."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from godiag.analysis.rootcause import hostload
from godiag.collect import hostcpu


def _stat(tmp_path: Path, line: str) -> Path:
    (tmp_path / "stat").write_text(line + "\ncpu0 1 2 3 4 5 6 7 8 0 0\nintr 1\n")
    return tmp_path


def test_busy_cpus_between_two_readings(tmp_path: Path) -> None:
    a = hostcpu.read(_stat(tmp_path, "cpu  100 0 100 800 0 0 0 0 0 0"))
    b = hostcpu.read(_stat(tmp_path, "cpu  280 0 190 820 10 0 0 0 0 0"))
    assert a == hostcpu.CpuTimes(busy_ticks=200, total_ticks=1000)
    assert b is not None and b.total_ticks == 1300
    busy = hostcpu.busy_cpus(a, b)
    assert busy == pytest.approx((270 / 300) * hostcpu.cpu_count())


@pytest.mark.parametrize("line", ["", "intr 1 2", "cpu  a b c d", "cpu 1 2"])
def test_unreadable_stat_is_unknown(tmp_path: Path, line: str) -> None:
    assert hostcpu.read(_stat(tmp_path, line)) is None
    assert hostcpu.read(tmp_path / "missing") is None


def test_the_real_machine_is_readable() -> None:
    now = hostcpu.read()
    assert now is not None and 0 <= now.busy_ticks <= now.total_ticks


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:6060", True),
        ("http://127.3.4.5:1", True),
        ("http://localhost:80", True),
        ("http://[::1]:9090", True),
        ("http://10.0.0.7:6060", False),
        ("https://api.example.com", False),
    ],
)
def test_local_targets(url: str, local: bool) -> None:
    assert hostcpu.is_local(url) is local


def test_starved_only_when_the_machine_is_full_of_other_work() -> None:
    assert hostload.starved(None, 2, 0.1) is None  # not measured (remote target)
    assert hostload.starved(1.0, 2, 0.1) is None  # half the machine idle
    assert hostload.starved(1.95, 2, 1.9) is None  # the service itself is the load
    why = hostload.starved(1.95, 2, 0.25)
    assert why is not None and "98% busy" in why and "0.25" in why
    assert hostload.starved(1.95, 2, None) is not None  # no CPU figure: other work it is


@given(st.floats(0, 64), st.integers(1, 64), st.none() | st.floats(0, 64))
def test_starved_never_raises(busy: float, cpus: int, mine: float | None) -> None:
    out = hostload.starved(busy, cpus, mine)
    assert out is None or out.startswith("this machine's")


def test_a_lock_holder_in_a_syscall_is_not_starvation() -> None:
    """Lock contention rests on waits a starved service makes too (holders waiting for a
    CPU), unless a dump shows the holder inside its critical section blocked in a syscall
    (an fsync under the lock): starvation does not put it there."""
    from godiag.formats.goroutines import parse
    from godiag.model.observation import Observation

    def g(gid: int, state: str, frames: list[tuple[str, int]]) -> str:
        out = [f"goroutine {gid} [{state}]:"]
        for fn, line in frames:
            out += [f"{fn}(...)", f"\t/src/app/limit.go:{line} +0x1"]
        return "\n".join(out)

    lock = [("sync.runtime_SemacquireMutex", 0), ("sync.(*Mutex).Lock", 0)]
    waiters = [g(10 + i, "sync.Mutex.Lock", [*lock, ("main.(*limiter).allow", 92)])
               for i in range(5)]  # fmt: skip
    sync = [("syscall.Syscall", 0), ("os.(*File).Sync", 0)]
    fsync = g(3, "syscall", [*sync, ("main.(*journal).append", 73), ("main.(*limiter).allow", 110)])
    running = g(3, "runnable", [("main.(*journal).encode", 60), ("main.(*limiter).allow", 110)])

    def obs(holder: str) -> Observation:
        text = ("\n\n".join([*waiters, holder]) + "\n").encode()
        return Observation(url="http://x", dumps=[parse(text, "test")])

    assert not hostload.undecidable("lock-contention", obs(fsync))
    assert hostload.undecidable("lock-contention", obs(running))
    assert hostload.undecidable("lock-contention")
    assert hostload.undecidable("cpu-saturation", obs(fsync))
