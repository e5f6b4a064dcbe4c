"""The holder of a contended lock, named from a goroutine dump of real deadlocking code.

GoKer's kernels (read from GOROOT at run time by bench/goker_holder.py, never copied) are
bugs extracted from etcd, gRPC, Kubernetes and Hugo: each one below deadlocks with a
goroutine holding a mutex while it waits on a channel or on a second lock, and others queue
on that mutex. The locators
of deadlock and lock-contention must name the holder's line (checked by its source text, so
that a kernel edited upstream fails loudly instead of matching a shifted number), with the
waiters as evidence. A double lock has no other goroutine inside: nothing is guessed. A
lock taken again through another method of the same type (a read lock taken twice with a
writer between, a locking method called with the lock held) is named, by deadlock, at the
caller's call.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytestmark = pytest.mark.integration
BENCH = Path(__file__).resolve().parents[2] / "bench" / "goker_holder.py"
ATTEMPTS = 3  # a kernel's interleaving is the scheduler's: its bug may not happen in a run

# kernel -> the text of the line where its holder is, inside the critical section
HOLDERS = {
    "Kubernetes10182": "s.podStatusChannel <- true",  # another method of the type
    "Etcd7902": "rc.release()",  # past the waiters' Lock in the same function
    "Grpc1460": "<-t.awakenKeepalive",
    "Etcd6873": "<-wbs.donec",
    # holds the map's lock while it waits on an entry's lock (a lock inside a lock)
    "Hugo3251": "l.m[url].Lock() // L2",
}


# kernel -> the caller's line that takes the lock again through another method of its type
REENTRANT = {
    "Moby36114": "svm.hotRemoveVHDsAtStart()",
    # RLock held, RLock again while SetDefaultCPUSet's Lock is pending
    "Kubernetes62464": "if ok := s.GetCPUSet(); ok {",
}


# kernel -> the lines where each goroutine of a lock-order cycle holds its lock while it waits
# for the other's (lockcycle: mutex addresses from the dump's lockSlow frames)
CYCLES = {
    # DeleteDevice holds the set's lock and waits for the entry's; removeDeviceAndWait,
    # called under the entry's lock, takes the set's lock again
    "Moby4951": {"info.lock.Lock()", "devices.deleteDevice(info)"},
    "Cockroach10214": {"r.reportUnreachable() // L2", "if r.maybeQuiesceLocked() {"},
}


@pytest.fixture(scope="module")
def gh() -> ModuleType:
    # loaded from its file: bench/ is not a package (and its inspect.py shadows the stdlib)
    spec = importlib.util.spec_from_file_location("goker_holder", BENCH)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["goker_holder"] = mod
    spec.loader.exec_module(mod)
    if not (Path(mod.ge.go_env("GOROOT")) / mod.ge.KERNELS_REL).is_dir():
        pytest.skip("GoKer kernels are not in this Go (Go 1.26+)")
    return mod


def _located(gh: ModuleType, name: str, tmp: Path) -> tuple[Any, dict[str, Any]]:
    ge = gh.ge
    kernel = next(k for k in ge.load_kernels(Path(ge.go_env("GOROOT"))) if k.name == name)
    version = re.sub(r"^go(\d+\.\d+).*", r"\1", ge.go_env("GOVERSION"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GO")}
    env.update(GOFLAGS="-buildvcs=false", GOWORK="off", GOPROXY="off", GOTOOLCHAIN="local")
    env.update(GOCACHE=ge.go_env("GOCACHE"), GOEXPERIMENT="goroutineleakprofile")
    for i in range(ATTEMPTS):
        path = tmp / f"{name}-{i}.txt"
        gh.dump_of(kernel, path, version, env)
        assert path.exists(), f"{name}: the test wrote no dump"
        located = gh.locate(path.read_bytes(), name)
        if located:  # a goroutine waits on a lock: the bug happened
            return kernel, located
    pytest.skip(f"{name}: the deadlock did not happen in {ATTEMPTS} runs")


@pytest.mark.parametrize("name", sorted(HOLDERS))
def test_the_holder_is_named(gh: ModuleType, name: str, tmp_path: Path) -> None:
    kernel, located = _located(gh, name, tmp_path)
    lines = kernel.path.read_text().splitlines()
    for kind, (loc, ev) in located.items():
        assert loc is not None, (kind, ev)
        assert Path(str(loc["file"])).name == kernel.path.name, (kind, loc)
        assert lines[int(loc["line"]) - 1].strip() == HOLDERS[name], (kind, loc, ev)
        assert ev[0].endswith(")") and "wait to lock in" in ev[0], (kind, ev)
        assert ev[1].startswith("the holder:"), (kind, ev)


def _deadlocked(gh: ModuleType, name: str, tmp: Path) -> tuple[list[str], dict[str, Any]]:
    """The kernel's source lines and what the locators named in its dump."""
    kernel, located = _located(gh, name, tmp)
    return kernel.path.read_text().splitlines(), located


def test_a_double_lock_has_no_other_holder(gh: ModuleType, tmp_path: Path) -> None:
    # Cockroach584: one goroutine locks a mutex it already holds; no one else is inside
    _, located = _located(gh, "Cockroach584", tmp_path)
    for kind, (_loc, ev) in located.items():
        assert not any(e.startswith("the holder:") for e in ev), (kind, ev)
        assert any("holder not identified" in e for e in ev), (kind, ev)


@pytest.mark.parametrize("name", sorted(REENTRANT))
def test_a_lock_taken_again_by_its_holder_is_named_at_the_call(
    gh: ModuleType, name: str, tmp_path: Path
) -> None:
    lines, located = _deadlocked(gh, name, tmp_path)
    loc, ev = located["deadlock"]
    assert loc is not None, ev
    assert lines[int(loc["line"]) - 1].strip() == REENTRANT[name], (loc, ev)
    assert "a method of the same type, in the dump" in ev[0], ev
    assert "not reentrant" in ev[1] and "would confirm" in ev[1], ev
    # a lock waiting on its own holder never frees: not contention's to name
    assert not any("not reentrant" in e for e in located["lock-contention"][1])


@pytest.mark.parametrize("name", sorted(CYCLES))
def test_a_lock_order_cycle_is_named_with_both_holders(
    gh: ModuleType, name: str, tmp_path: Path
) -> None:
    lines, located = _deadlocked(gh, name, tmp_path)
    loc, ev = located["deadlock"]
    if not ev[0].startswith("lock-order cycle"):
        # the kernel's goroutines blocked another way this run (a flaky kernel)
        pytest.skip(f"{name}: no lock-order cycle in this run's dump: {ev[0]}")
    assert loc is not None, ev
    assert lines[int(loc["line"]) - 1].strip() in CYCLES[name], (loc, ev)
    assert ev[0].startswith("lock-order cycle: 2 goroutines"), ev
    # both holders, each at its line of the cycle
    held = [e for e in ev if e.startswith("a goroutine in ")]
    assert len(held) == 2, ev
    named = {lines[int(m) - 1].strip() for e in held for m in re.findall(r"\.go:(\d+)\) \(", e)}
    assert named == CYCLES[name], ev
