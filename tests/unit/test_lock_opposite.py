"""holder._opposite: the far side of a lock-order inversion seen as two nested holders, and
the side a fix most likely changes (the one whose held lock fewer goroutines wait for).
The shape is a resolver whose lookups take the cache's lock then the stats' lock, and whose
rarely called snapshot takes them the other way round (a read lock prints no address)."""

from __future__ import annotations

from godiag.analysis.rootcause import holder
from godiag.formats.goroutines import parse
from godiag.model.goroutine import Dump
from godiag.pipeline.diagnose import DiagnoseOptions, replay
from tests.datapaths import DATA

SRC = "/src/dns/main.go"
CACHE, STATS, OTHER = "0xc000010000", "0xc000020000", "0xc000030000"


def _lock(gid: int, fn: str, line: int, mutex: str | None) -> str:
    mutex_go = "\t/go/src/internal/sync/mutex.go:149 +0x1"
    slow = ([f"internal/sync.(*Mutex).lockSlow({mutex})", mutex_go]
            if mutex else ["sync.runtime_SemacquireRWMutexR(0x0?, 0x0?, 0x0?)",
                           "\t/go/src/runtime/sema.go:100 +0x1"])  # fmt: skip
    return "\n".join([
        f"goroutine {gid} [sync.Mutex.Lock]:",
        "sync.runtime_SemacquireMutex(0x0?, 0x0?, 0x0?)", "\t/go/src/runtime/sema.go:95 +0x1",
        *slow,
        f"{fn}(0xc000001000)", f"\t{SRC}:{line} +0x1",
        "main.handle(0xc000001000)", f"\t{SRC}:200 +0x1",
        "created by main.serve in goroutine 1", f"\t{SRC}:210 +0x1",
    ])  # fmt: skip


def _dump(snapshot_waits_for: str, lookups: int = 6, snapshots: int = 2) -> Dump:
    gs = [_lock(10 + i, "main.(*resolver).resolve", 80, CACHE) for i in range(lookups)]
    gs.append(_lock(30, "main.(*resolver).resolve", 84, STATS))  # holds cache, waits stats
    gs += [_lock(40 + i, "main.(*resolver).snapshot", 120, snapshot_waits_for)
           for i in range(snapshots)]  # fmt: skip
    gs.append(_lock(50, "main.(*resolver).snapshot", 130, None))  # holds stats, waits cache
    return parse(("\n\n".join(gs) + "\n").encode(), "test")


def test_the_far_side_is_found_and_the_rarer_path_is_the_location() -> None:
    h = holder.find(_dump(STATS))
    assert h is not None and h.nested and h.section.line == 84
    assert h.opposite is not None and h.opposite.section.line == 130
    assert h.opposite.waiters == 2 and h.waiters == 6
    assert holder.location(h) == {"function": "main.(*resolver).snapshot", "file": SRC,
                                  "line": 130}  # fmt: skip
    ev = "\n".join(holder.evidence(h))
    assert "the other side" in ev and "the order to change is more likely" in ev
    assert "main.(*resolver).resolve (/src/dns/main.go:84) is on the busier path" in ev
    assert h.opposite.edge == "held" and "wait for the very mutex the holder waits for" in ev


def test_either_edge_of_the_cycle_finds_the_far_side() -> None:
    """Snapshots outnumber lookups: the holder found is snapshot's, waiting on a read lock
    that prints no address; lookup's later Lock waits for the mutex snapshot's first
    waiters wait for, and lookups, now the rarer path, are the location."""
    h = holder.find(_dump(STATS, lookups=2, snapshots=6))
    assert h is not None and h.section.line == 130
    assert h.opposite is not None and h.opposite.section.line == 84
    assert holder.location(h)["line"] == 84
    # the edge printed is the other one: the evidence says which mutex the addresses tie
    ev = "\n".join(holder.evidence(h))
    assert h.opposite.edge == "holds" and "wait for the very mutex the holder holds" in ev
    assert "the very mutex the holder waits for" not in ev


def test_another_mutex_on_the_far_side_is_no_inversion() -> None:
    """snapshot's first waiters wait for a third mutex: nested on unrelated locks, not the
    other side of this one."""
    h = holder.find(_dump(OTHER))
    assert h is not None and h.nested and h.opposite is None
    assert holder.location(h)["line"] == 84
    assert "the other side" not in "\n".join(holder.evidence(h))


def test_a_recorded_inversion_is_located_on_its_rarer_side() -> None:
    """dnscache (a blind trial's service): lookups lock cache then stats (main.go:80, :84),
    the /stats snapshot stats then cache (:120, :130, a read lock); 981 lookups wait
    against 15 snapshots."""
    doc = replay(DATA / "diagnose" / "deadlock-inversion-dnscache",
                 DiagnoseOptions(store=False, flames=False))  # fmt: skip
    top = doc["causes"][0]
    assert top["kind"] == "deadlock" and doc["confident"]
    assert (top["location"]["function"], top["location"]["line"]) == (
        "main.(*resolver).snapshot",
        130,
    )
    ev = "\n".join(top["evidence"])
    assert "981 goroutines wait for the lock it holds against 15" in ev
    assert "also stuck on locks across the window" not in ev
