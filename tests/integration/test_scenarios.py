"""The scenario suite: every program builds offline, serves its debug endpoints on loopback
and shows its planted fault (or, for healthy ones, no fault) in raw data.

All programs are built once (two at a time) and observed in parallel pairs for about two
seconds each at medium intensity; the per-program tests then judge the recorded data.
The thresholds are deliberately far from both sides' typical values (see
docs/scenarios.md), because the CI machine is shared and timing is noisy.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.scenario_probe import (
    LOCK_WAITS,
    PROGRAMS,
    SCENARIOS,
    Observation,
    at_site,
    binary,
    observe,
)
from tests.scenario_probe import profile_has as in_profile

pytestmark = pytest.mark.integration

BY_NAME = {p["name"]: p for p in PROGRAMS}
LEAK_STATES = ("chan send", "chan receive", "select")
DEADLOCK_STATES = (*LEAK_STATES, *LOCK_WAITS)


@pytest.fixture(scope="module")
def observations() -> dict[str, Observation]:
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(binary, PROGRAMS))  # builds are cached by source hash
        return {o.name: o for o in pool.map(observe, PROGRAMS)}


def _ok(obs: Observation) -> Observation:
    assert not obs.error, f"{obs.name}: {obs.error}\nstderr: {obs.stderr[-2000:]}"
    assert obs.alive, f"{obs.name} exited early; stderr: {obs.stderr[-2000:]}"
    assert "panic:" not in obs.stderr and "fatal error:" not in obs.stderr, obs.stderr[-2000:]
    return obs


def _fault(name: str) -> tuple[str, str, int]:
    f = BY_NAME[name]["fault"]
    return f["function"], f["file"], f["line"]


def _names(*kinds: str) -> list[str]:
    return [p["name"] for p in PROGRAMS if p["kind"] in kinds]


@pytest.mark.parametrize("name", [p["name"] for p in PROGRAMS])
def test_serves_debug_endpoints(observations: dict[str, Observation], name: str) -> None:
    obs = _ok(observations[name])
    assert obs.url.startswith("http://127.0.0.1:")
    assert obs.status["/debug/pprof/goroutine?debug=1"] == 200
    assert obs.bodies["/debug/pprof/goroutine?debug=1"].startswith("goroutine profile: total ")
    assert obs.status["/metrics"] == 200
    for metric in (
        "go_goroutines",
        "go_memstats_heap_inuse_bytes",
        "process_cpu_seconds_total",
        "process_open_fds",
        "go_build_info",
        "http_requests_total",
    ):
        assert f"\n{metric}" in obs.bodies["/metrics"], metric
    assert 'path="godiag.scenarios"' in obs.bodies["/metrics"]  # build-info collector
    assert obs.status["/debug/vars"] == 200
    assert '"memstats"' in obs.bodies["/debug/vars"]
    assert f'"service": "{name}"' in obs.bodies["/debug/vars"]
    if BY_NAME[name]["kind"] != "deadlock":
        assert obs.delta("http_requests_total") > 0, "the internal load generator sent nothing"


@pytest.mark.parametrize("name", _names("goroutine-leak"))
def test_goroutine_leak_visible(observations: dict[str, Observation], name: str) -> None:
    obs = _ok(observations[name])
    function, file, line = _fault(name)
    assert obs.delta("go_goroutines") >= 20
    stuck = [
        g for g in obs.dumps[-1] if g.state in LEAK_STATES and at_site(g, function, file, line)
    ]
    assert len(stuck) >= 10, f"only {len(stuck)} goroutines parked at {file}:{line}"


@pytest.mark.parametrize("name", _names("deadlock"))
def test_deadlock_visible(observations: dict[str, Observation], name: str) -> None:
    obs = _ok(observations[name])
    function, file, line = _fault(name)
    # The same blocked site in dumps 0.75 s apart: stuck, not slow.
    for dump in (obs.dumps[1], obs.dumps[-1]):
        stuck = [g for g in dump if at_site(g, function, file, line)]
        assert stuck, f"no goroutine blocked at {file}:{line}"
        assert all(g.state in DEADLOCK_STATES for g in stuck), {g.state for g in stuck}
    assert obs.delta("go_goroutines") >= 20  # callers pile up behind the deadlock
    assert obs.status["/healthz"] == 200  # the service as a whole stays up


@pytest.mark.parametrize("name", _names("lock-contention"))
def test_lock_contention_visible(observations: dict[str, Observation], name: str) -> None:
    obs = _ok(observations[name])
    function, file, _ = _fault(name)
    waiting = [sum(g.state in LOCK_WAITS for g in dump) for dump in obs.dumps]
    if max(waiting) < 3:
        # waiters exist only while the writer holds the lock (about half the time in
        # featureflags): five dumps on a busy machine can all miss it; look again, longer
        obs = _ok(observe(BY_NAME[name], dumps=12))
        waiting = [sum(g.state in LOCK_WAITS for g in dump) for dump in obs.dumps]
    assert max(waiting) >= 3, f"lock waiters per dump: {waiting}"
    assert any(at_site(g, function, file) for dump in obs.dumps for g in dump)
    assert obs.delta("go_goroutines") < 50  # contended, but requests complete
    # Programs that switch a contention profile on must show the lock in it.
    source = (SCENARIOS / file).read_text()
    if "SetMutexProfileFraction" in source:
        assert in_profile(obs.profiles["mutex"], function, file)
    if "SetBlockProfileRate" in source:
        assert "sync.(*RWMutex).RLock" in obs.profiles["block"]


@pytest.mark.parametrize("name", _names("memory-leak"))
def test_memory_leak_visible(observations: dict[str, Observation], name: str) -> None:
    obs = _ok(observations[name])
    function, file, line = _fault(name)
    grew = obs.delta("go_memstats_heap_inuse_bytes")
    assert grew >= 1_000_000, f"live heap grew only {grew / 1e6:.2f} MB"
    assert obs.b is not None
    assert in_profile(obs.b.heap_profile, function, file, line), "fault line not in heap profile"


@pytest.mark.parametrize("name", _names("cpu-saturation"))
def test_cpu_saturation_visible(observations: dict[str, Observation], name: str) -> None:
    obs = _ok(observations[name])
    function, file, _ = _fault(name)
    # 0.5 s/s or more on an idle 2-core machine; CI shares its cores, hence a lower floor.
    assert obs.rate("process_cpu_seconds_total") >= 0.15
    on_cpu = [
        g
        for dump in obs.dumps
        for g in dump
        if g.state in ("running", "runnable") and at_site(g, function, file)
    ]
    assert on_cpu, "the hot function was never seen running"


@pytest.mark.parametrize("name", _names("gc-pressure"))
def test_gc_pressure_visible(observations: dict[str, Observation], name: str) -> None:
    obs = _ok(observations[name])
    function, file, line = _fault(name)
    gogc = obs.b.metrics.get("go_gc_gogc_percent", 100.0) if obs.b else 100.0
    if function == "main.main":  # the fault is the GOGC setting, not an allocation site
        assert gogc <= 20
        assert obs.gc_per_s() >= 1
    else:
        assert obs.gc_per_s() >= 5, f"{obs.gc_per_s():.1f} GC/s"
        assert in_profile(obs.profiles["allocs"], function, file, line)
    assert obs.rate("go_memstats_alloc_bytes_total") >= 5e6


@pytest.mark.parametrize("name", _names("connection-leak"))
def test_connection_leak_visible(observations: dict[str, Observation], name: str) -> None:
    obs = _ok(observations[name])
    assert obs.delta("process_open_fds") >= 8


@pytest.mark.parametrize("name", _names("healthy"))
def test_healthy_shows_no_fault(observations: dict[str, Observation], name: str) -> None:
    obs = _ok(observations[name])
    assert abs(obs.delta("go_goroutines")) <= 15
    assert obs.delta("go_memstats_heap_inuse_bytes") < 1_000_000
    assert obs.delta("process_open_fds") <= 8
    assert obs.delta("http_requests_total") >= 20


def test_goroutineleak_profile_when_built_with_the_experiment() -> None:
    """With GOEXPERIMENT=goroutineleakprofile (Go 1.26) the runtime's own leak detector sees a
    leak whose channel became unreachable, and nothing in a healthy service."""
    import time

    from tests.gohelpers import GoProcess, build
    from tests.scenario_probe import fetch, profile_has

    env = {"GOEXPERIMENT": "goroutineleakprofile"}
    leaky, healthy = BY_NAME["quoteproxy"], BY_NAME["kvstore"]
    procs = [
        GoProcess(build(p["dir"], module_dir=SCENARIOS, env=env), ["-lifetime", "30s"])
        for p in (leaky, healthy)
    ]
    try:
        time.sleep(1.5)
        leak_text = fetch(procs[0].url + "/debug/pprof/goroutineleak?debug=1")[2]
        clean_text = fetch(procs[1].url + "/debug/pprof/goroutineleak?debug=1")[2]
    finally:
        for p in procs:
            p.close()
    f = leaky["fault"]
    assert profile_has(leak_text, f["function"], f["file"], f["line"]), leak_text[:500]
    assert clean_text.startswith("goroutineleak profile: total 0"), clean_text[:500]


def test_bad_intensity_is_one_clear_line() -> None:
    import subprocess

    from tests.gohelpers import hermetic_go_env

    r = subprocess.run(
        [str(binary(BY_NAME["kvstore"])), "-intensity", "extreme"],
        capture_output=True,
        text=True,
        env=hermetic_go_env(),
        timeout=30,
    )
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.strip().splitlines() == [
        'kvstore: bad intensity "extreme": want low, medium, high or a positive number'
    ]


def test_intensity_scales_the_internal_load() -> None:
    import time

    from tests.gohelpers import GoProcess
    from tests.scenario_probe import fetch, parse_metrics

    exe = binary(BY_NAME["shortener"])  # open-loop load: 150 requests/s times the intensity
    procs = {lvl: GoProcess(exe, ["-intensity", lvl, "-lifetime", "30s"]) for lvl in ("low", "4")}
    try:
        time.sleep(0.5)

        def served() -> dict[str, float]:
            return {
                lvl: parse_metrics(fetch(p.url + "/metrics")[2])["http_requests_total"]
                for lvl, p in procs.items()
            }

        before = served()
        time.sleep(1.5)
        after = served()
    finally:
        for p in procs.values():
            p.close()
    low, high = (after[lvl] - before[lvl] for lvl in ("low", "4"))
    assert low > 0
    assert high > 2.5 * low, (low, high)  # nominally 8x
