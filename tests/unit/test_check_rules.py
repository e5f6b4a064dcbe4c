"""The check rules' thresholds on hand-built models: noise stays quiet, growth is caught."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from godiag.analysis import sites
from godiag.analysis.rules import gc_pressure, lock_contention, memory_leak, rule_module
from godiag.analysis.sites import call_site
from godiag.errors import CollectError
from godiag.model.profile import Function, Line, Location, Profile, Sample, ValueType

HEAP_TYPES = (
    ValueType("alloc_objects", "count"),
    ValueType("alloc_space", "bytes"),
    ValueType("inuse_objects", "count"),
    ValueType("inuse_space", "bytes"),
)
PERIOD = 512 * 1024
MALLOC = Function(1, "runtime.mallocgc", "", "/go/src/runtime/malloc.go")
CACHE = Function(2, "main.cacheResponse", "", "/app/main.go")
RING = Function(3, "main.handleRequest", "", "/app/main.go")


def stack(fn: Function, line: int) -> tuple[Location, ...]:
    return (
        Location(10, None, lines=(Line(MALLOC, 1150),)),
        Location(fn.id + 10, None, lines=(Line(fn, line),)),
    )


def heap(sites: dict[Function, int]) -> Profile:
    samples = tuple(
        Sample(stack(fn, 22), (1, v, 1, v)) for fn, v in sites.items() if v
    )  # fmt: skip
    return Profile(HEAP_TYPES, samples, period=PERIOD)


def test_call_site_skips_the_runtime() -> None:
    assert call_site(stack(CACHE, 22)) == ("main.cacheResponse", "/app/main.go", 22)
    only_runtime = (Location(1, None, lines=(Line(MALLOC, 7),)),)
    assert call_site(only_runtime)[0] == "runtime.mallocgc"


def test_check_and_diagnose_name_the_same_site() -> None:
    """One answer to "where": a library frame under the service's own code hands over to
    it for both; only a sample with no user frame differs (check keeps it, for its totals)."""
    lib = Function(4, "github.com/lib/pool.(*Pool).Get", "", "/mod/pool.go")
    leaf_first = (
        Location(10, None, lines=(Line(MALLOC, 1150),)),
        Location(14, None, lines=(Line(lib, 40),)),
        Location(12, None, lines=(Line(CACHE, 22),)),
    )
    prof = Profile(HEAP_TYPES, (Sample(leaf_first, (1, 9, 1, 9)),), period=PERIOD)
    want = ("main.cacheResponse", "/app/main.go", 22)
    assert call_site(leaf_first) == want
    assert sites.by_site(prof, "inuse_space") == {want: 9}
    assert sites.by_site(prof, "inuse_space", chooser=sites.pick_or_innermost) == {want: 9}
    runtime_only = Profile(HEAP_TYPES, (Sample(leaf_first[:1], (1, 5, 1, 5)),), period=PERIOD)
    assert sites.by_site(runtime_only, "inuse_space") == {}
    inner = ("runtime.mallocgc", "/go/src/runtime/malloc.go", 1150)
    assert sites.by_site(runtime_only, "inuse_space", chooser=sites.pick_or_innermost) == {inner: 5}


@given(
    base=st.integers(min_value=0, max_value=16),
    jitter=st.integers(min_value=-7, max_value=7),
    elapsed=st.floats(min_value=0.5, max_value=3600),
)
def test_sampling_noise_is_never_a_leak(base: int, jitter: int, elapsed: float) -> None:
    # A bounded ring: its estimate moves by whole sampling periods, fewer than 8 of them.
    before = heap({RING: base * PERIOD})
    after = heap({RING: max(0, base + jitter) * PERIOD})
    assert memory_leak.evaluate(before, after, elapsed).violated is False


@given(
    mb_per_min=st.integers(min_value=2, max_value=2000),
    elapsed=st.floats(min_value=150, max_value=7200),  # at least 5 MB: over 8 periods
)
def test_steady_growth_is_a_leak_at_its_site(mb_per_min: int, elapsed: float) -> None:
    grown = int(mb_per_min * 2**20 * elapsed / 60)
    before = heap({CACHE: 10 * 2**20, RING: 4 * 2**20})
    after = heap({CACHE: 10 * 2**20 + grown, RING: 4 * 2**20})
    v = memory_leak.evaluate(before, after, elapsed)
    assert v.violated
    assert v.findings[0].location is not None and v.findings[0].location.line == 22
    assert v.sites[0]["function"] == "main.cacheResponse"
    assert abs(v.sites[0]["per_minute"] - mb_per_min * 2**20) <= 2**20 * 0.01 + 1


def test_small_growth_on_a_huge_heap_is_not_a_leak() -> None:
    # +5 MB in a minute is over the rate and size bars but under 1 % of a 4 GB heap.
    before = heap({CACHE: 4 << 30})
    after = heap({CACHE: (4 << 30) + 5 * 2**20})
    assert memory_leak.evaluate(before, after, 60).violated is False


def test_lock_contention_rate() -> None:
    types = (ValueType("contentions", "count"), ValueType("delay", "nanoseconds"))
    a = Profile(types, (Sample(stack(CACHE, 30), (1, 10_000_000)),))
    b = Profile(types, (Sample(stack(CACHE, 30), (90, 1_010_000_000)),))
    assert lock_contention.evaluate(a, b, 10.0).violated  # 0.1 s of waiting per second
    assert not lock_contention.evaluate(a, b, 100.0).violated  # 0.01 s/s


def test_gc_pressure_thresholds() -> None:
    ref = {"t": 0.0, "gc_cycles": 0.0, "gc_cpu_s": 0.0, "cpu_s": 0.0}
    first = {"t": 100.0, "gc_cycles": 50.0, "gc_cpu_s": 2.0, "cpu_s": 200.0}
    calm = {"t": 110.0, "gc_cycles": 55.0, "gc_cpu_s": 2.2, "cpu_s": 220.0}
    busy = {"t": 110.0, "gc_cycles": 90.0, "gc_cpu_s": 5.0, "cpu_s": 220.0}
    assert not gc_pressure.evaluate(ref, first, calm).violated
    v = gc_pressure.evaluate(ref, first, busy)
    assert v.violated and "15%" in v.summary and "against 0.5/s" in v.summary
    # nothing measured is an error (exit 2), not "ok"
    with pytest.raises(CollectError, match="no GC counters"):
        gc_pressure.evaluate(None, {"t": 0.0}, {"t": 1.0})
    # cycles alone (go_gc_duration_seconds): the rate, and the CPU share said unknown
    v = gc_pressure.evaluate(None, {"t": 0.0, "gc_cycles": 0.0}, {"t": 5.0, "gc_cycles": 100.0})
    assert not v.violated and "20 GC cycles/s" in v.summary and "not exposed" in v.summary


def test_gc_counters_from_client_golang_default_metrics() -> None:
    """client_golang's default Go collector exports the GC count only as the summary
    go_gc_duration_seconds (its _count sample); Prometheus and Alertmanager do."""
    from godiag.formats import prometheus

    text = (b"# HELP go_gc_duration_seconds A summary of the wall-time pause.\n"
            b"# TYPE go_gc_duration_seconds summary\n"
            b'go_gc_duration_seconds{quantile="0"} 2.1e-05\n'
            b"go_gc_duration_seconds_sum 0.0031\ngo_gc_duration_seconds_count 9\n")  # fmt: skip
    snap = gc_pressure.from_metrics(prometheus.parse(text, "m"), 1.0)
    assert snap["gc_cycles"] == 9.0


def test_every_rule_is_registered() -> None:
    for name in ("memory-leak", "goroutine-leak", "gc-pressure", "lock-contention"):
        assert rule_module(name).PROFILE_TYPE
