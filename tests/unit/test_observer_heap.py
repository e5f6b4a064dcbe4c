"""The live heap's growth over the window leaves out what the observer itself kept."""

from __future__ import annotations

from godiag.analysis.rootcause.features import extract
from godiag.model.observation import Observation
from godiag.model.profile import Function, Line, Location, Profile, Sample, ValueType

# the CPU profile the diagnosis takes: its buffers stay live (leaf first)
PROFILER = [("runtime/pprof.StartCPUProfile", "/go/src/runtime/pprof/pprof.go", 800),
            ("net/http/pprof.Profile", "/go/src/net/http/pprof/pprof.go", 150),
            ("net/http.HandlerFunc.ServeHTTP", "/go/src/net/http/server.go", 2286)]  # fmt: skip
CACHE = [("main.(*cache).put", "/src/app/cache.go", 40), ("main.main", "/src/app/main.go", 9)]


def _heap(stacks: list[tuple[list[tuple[str, str, int]], int]]) -> Profile:
    fns: dict[str, Function] = {}
    samples = []
    for frames, v in stacks:
        locs = []
        for name, file, line in frames:
            fn = fns.setdefault(name, Function(len(fns) + 1, name, "", file))
            locs.append(Location(fn.id, None, lines=(Line(fn, line),)))
        samples.append(Sample(tuple(locs), (1, v, 1, v)))
    types = (ValueType("alloc_objects", "count"), ValueType("alloc_space", "bytes"),
             ValueType("inuse_objects", "count"), ValueType("inuse_space", "bytes"))  # fmt: skip
    return Profile(types, tuple(samples))


def test_the_profilers_own_buffers_are_not_the_services_heap_growth() -> None:
    """A CPU profile taken during the window keeps ~1 MiB live under StartCPUProfile: over
    5 s that read as +200 KiB/s of growth, the size of the slow leaks it is there to show."""
    start = _heap([(CACHE, 8 << 20)])
    end = _heap([(CACHE, 8 << 20), (PROFILER, 1 << 20)])
    feats = extract(Observation(url="http://x", heap=[start, end], duration=5.0))
    assert feats["heap_growth_bytes_per_s"] == 0
    # the service's own growth stays
    grown = _heap([(CACHE, 9 << 20), (PROFILER, 1 << 20)])
    feats = extract(Observation(url="http://x", heap=[start, grown], duration=5.0))
    assert feats["heap_growth_bytes_per_s"] == (1 << 20) / 5.0
