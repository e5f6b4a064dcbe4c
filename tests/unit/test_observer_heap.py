"""The live heap's growth over the window leaves out what the observer itself kept."""

from __future__ import annotations

from godiag.analysis.rootcause.features import extract
from godiag.model.observation import Observation
from tests.profile_fixtures import heap

# the CPU profile the diagnosis takes: its buffers stay live (leaf first)
PROFILER = [("runtime/pprof.StartCPUProfile", "/go/src/runtime/pprof/pprof.go", 800),
            ("net/http/pprof.Profile", "/go/src/net/http/pprof/pprof.go", 150),
            ("net/http.HandlerFunc.ServeHTTP", "/go/src/net/http/server.go", 2286)]  # fmt: skip
CACHE = [("main.(*cache).put", "/src/app/cache.go", 40), ("main.main", "/src/app/main.go", 9)]


def test_the_profilers_own_buffers_are_not_the_services_heap_growth() -> None:
    """A CPU profile taken during the window keeps ~1 MiB live under StartCPUProfile: over
    5 s that read as +200 KiB/s of growth, the size of the slow leaks it is there to show."""
    start = heap([(CACHE, 8 << 20)])
    end = heap([(CACHE, 8 << 20), (PROFILER, 1 << 20)])
    feats = extract(Observation(url="http://x", heap=[start, end], duration=5.0))
    assert feats["heap_growth_bytes_per_s"] == 0
    # the service's own growth stays
    grown = heap([(CACHE, 9 << 20), (PROFILER, 1 << 20)])
    feats = extract(Observation(url="http://x", heap=[start, grown], duration=5.0))
    assert feats["heap_growth_bytes_per_s"] == (1 << 20) / 5.0
