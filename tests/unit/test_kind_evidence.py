"""A kind ranked first without its own evidence is "not sure" (kinds.unsupported).

The connection evidence is checked on goroutine dumps of real third-party daemons
(tests/data/goroutines: Prometheus scrapes over HTTP client connections; Alertmanager at
rest holds none) so that the rule is not tuned to programs written beside it.
"""

from __future__ import annotations

from typing import Any

from godiag.analysis.rootcause import kinds, ranker
from godiag.analysis.rootcause.features import FEATURES, holds_client_conn
from godiag.formats.goroutines import parse
from tests.datapaths import DATA

GOROUTINES = DATA / "goroutines"


def _feats(**over: Any) -> dict[str, Any]:
    return {**dict.fromkeys(FEATURES), **over}


def test_a_goroutine_leak_needs_growth() -> None:
    flat = _feats(goroutine_growth_per_min=0.0, top_growth_per_min=0, goroutines_delta_5m=0)
    assert kinds.unsupported("goroutine-leak", flat) is not None
    assert kinds.unsupported("goroutine-leak", _feats()) is not None  # nothing measured
    for grew in ("goroutines_delta_5m", "leaked_goroutines",
                 "baseline_goroutine_growth_per_min", "history_goroutines_delta"):  # fmt: skip
        assert kinds.unsupported("goroutine-leak", {**flat, grew: 3}) is None, grew
    # the window's count grew: support when the group that grew most is a blocked one
    window = {**flat, "goroutine_growth_per_min": 3}
    assert kinds.unsupported("goroutine-leak", {**window, "top_growth_blocked": 1}) is None
    assert kinds.unsupported("goroutine-leak", window) is not None


def test_a_goroutine_leak_is_blocked_growth() -> None:
    # a fixed pool of 500 idle workers, two goroutines more at work at the end: traffic
    busy = _feats(goroutine_growth_per_min=0.0, top_growth_per_min=24, top_growth_blocked=0)
    assert kinds.unsupported("goroutine-leak", busy) is not None
    # the same with the process's count up by three in five seconds (36/min): still traffic
    rising = {**busy, "goroutine_growth_per_min": 36.0, "top_growth_count": 3}
    assert kinds.unsupported("goroutine-leak", rising) is not None
    assert kinds.unsupported("goroutine-leak", {**busy, "top_growth_blocked": 1}) is None


def test_one_or_two_goroutines_more_in_a_window_are_not_growth() -> None:
    # two dumps five seconds apart, the fastest-growing blocked group gained one: a request
    # in flight as often as a leak, whatever the per-minute rate that makes
    window = _feats(goroutine_growth_per_min=12.0, top_growth_per_min=12.0,
                    top_growth_blocked=1, top_growth_count=1)  # fmt: skip
    why = kinds.unsupported("goroutine-leak", window)
    assert why is not None and "gained 1 between the two dumps" in why
    assert kinds.unsupported("goroutine-leak", {**window, "top_growth_count": 3}) is None
    # what reaches before the window decides instead
    for longer in ("goroutines_delta_5m", "baseline_goroutine_growth_per_min",
                   "history_goroutines_delta", "leaked_goroutines"):  # fmt: skip
        assert kinds.unsupported("goroutine-leak", {**window, longer: 40}) is None, longer


def test_a_group_that_arrived_whole_within_the_window_is_not_sure() -> None:
    """A blind trial's report job fans out 300-600 goroutines behind a rate limiter every
    20-40 s: 295 appeared in one window, none at its start nor in a baseline 45 s old, and
    the baseline's +295 read as growth before the window. A leak that began now looks the
    same; only what Prometheus saw the count do before, or the runtime's proof, says more."""
    burst = _feats(goroutine_growth_per_min=5956.0, top_growth_per_min=3497.0,
                   top_growth_blocked=1, top_growth_count=295, top_growth_from_zero=1,
                   baseline_goroutine_growth_per_min=393.0, baseline_age_minutes=0.75)  # fmt: skip
    why = kinds.unsupported("goroutine-leak", burst)
    assert why is not None and "all 295 goroutines of the group that grew arrived within" in why
    assert "nor in the stored baseline of 45 s before" in why and "a minute from now" in why
    # the group was there at the start (or in the baseline): growth, as before
    assert kinds.unsupported("goroutine-leak", {**burst, "top_growth_from_zero": 0}) is None
    for longer in ("goroutines_delta_5m", "history_goroutines_delta", "leaked_goroutines"):
        assert kinds.unsupported("goroutine-leak", {**burst, longer: 40}) is None, longer


def test_requests_that_never_finish_are_not_a_leak() -> None:
    # an actor cycle: the handlers that wait on it are most of the blocked goroutines
    stuck = _feats(
        goroutine_growth_per_min=3000.0,
        top_growth_blocked=1,
        stuck_handlers=945,
        blocked_user_goroutines=1884,
    )
    why = kinds.unsupported("goroutine-leak", stuck)
    assert why is not None and "945 of the 1884" in why
    # handlers a minority (a stream per subscriber beside its leaked forwarders), or a leak
    # the runtime proved: the rule has no say
    assert kinds.unsupported("goroutine-leak", {**stuck, "stuck_handlers": 185}) is None
    assert kinds.unsupported("goroutine-leak", {**stuck, "leaked_goroutines": 5}) is None
    # each stuck request has its client waiting in a client call on the other end (an
    # in-process load, a sidecar): outbound requests in flight, not left-behind goroutines
    both_ends = {**stuck, "stuck_handlers": 460, "blocked_user_goroutines": 944,
                 "blocked_client_calls": 480}  # fmt: skip
    why = kinds.unsupported("goroutine-leak", both_ends)
    assert why is not None and "460 of the 464" in why and "480 more inside client calls" in why
    assert kinds.unsupported("goroutine-leak", {**both_ends, "blocked_client_calls": 0}) is None


def test_saturation_and_gc_pressure_need_cpu() -> None:
    idle = _feats(cpu_seconds_per_s=0.003)
    for kind in ("cpu-saturation", "gc-pressure"):
        why = kinds.unsupported(kind, idle)
        assert why is not None and "0.003" in why, kind
        assert kinds.unsupported(kind, _feats()) is None, kind  # not measured: no rule
        assert kinds.unsupported(kind, _feats(cpu_seconds_per_s=0.5)) is None, kind
    # the collector's share of a CPU profile decides gc-pressure when there is one
    profiled = _feats(cpu_seconds_per_s=0.5, cpu_profile_gc_share=0.01)
    assert kinds.unsupported("gc-pressure", profiled) is not None
    assert kinds.unsupported("gc-pressure", {**profiled, "cpu_profile_gc_share": 0.3}) is None


def test_saturation_needs_the_code_to_outspend_the_collector() -> None:
    """CPU burnt in the service's own code: not when the collector's share of the profile
    is larger than the code's own (the CPU follows the allocations), whatever the process
    used; either share unmeasured, no rule."""
    gc_bound = _feats(cpu_seconds_per_s=1.9, cpu_profile_gc_share=0.57, cpu_code_share=0.21)
    why = kinds.unsupported("cpu-saturation", gc_bound)
    assert why is not None and "57%" in why and "21%" in why
    spin = {**gc_bound, "cpu_profile_gc_share": 0.05, "cpu_code_share": 0.9}
    assert kinds.unsupported("cpu-saturation", spin) is None
    assert kinds.unsupported("cpu-saturation", {**gc_bound, "cpu_code_share": None}) is None


def test_gc_pressure_needs_the_collector_to_matter_beside_the_code() -> None:
    """The mirror: a CPU profile in which the service's own code takes four times the
    collector's share or more is computing that also allocates (a fuzzy search building
    strings per candidate), not the collector at work; either share unmeasured, no rule."""
    computing = _feats(cpu_seconds_per_s=0.63, cpu_profile_gc_share=0.15, cpu_code_share=0.79)
    why = kinds.unsupported("gc-pressure", computing)
    assert why is not None and "79%" in why and "15%" in why
    # allocation churn: the collector's share near the code's (gc-pressure recordings: the
    # code at 3.6 times the collector at most)
    churn = {**computing, "cpu_profile_gc_share": 0.25, "cpu_code_share": 0.64}
    assert kinds.unsupported("gc-pressure", churn) is None
    assert kinds.unsupported("gc-pressure", {**computing, "cpu_code_share": None}) is None


def test_gc_pressure_that_costs_little_is_not_sure() -> None:
    """A batch converting CSV in bursts: 33 MB/s allocated, 3.6 GC cycles/s, 0.072 CPU-s/s
    of which 36% collecting (0.026 of a CPU): the kind may be right, the cost is not yet
    one the service feels, and the verdict says so. Not with a tiny GOGC."""
    light = _feats(cpu_seconds_per_s=0.072, cpu_profile_gc_share=0.36, cpu_code_share=0.56)
    assert kinds.unsupported("gc-pressure", light) is None
    why = kinds.doubt("gc-pressure", light)
    assert why is not None and "0.026 of one CPU" in why
    assert kinds.doubt("gc-pressure", {**light, "cpu_seconds_per_s": 0.4}) is None
    assert kinds.doubt("gc-pressure", {**light, "gogc_percent": 10.0}) is None
    # a bbolt-backed queue's transactions: 19 GC cycles/s over a 4 MiB heap, 22% of a
    # 0.27 CPU-s/s profile collecting (0.06 of a CPU), no fault planted: not a verdict
    queue = _feats(cpu_seconds_per_s=0.27, cpu_profile_gc_share=0.22, cpu_code_share=0.3)
    why = kinds.doubt("gc-pressure", queue)
    assert why is not None and "0.059 of one CPU over the window (under 0.1)" in why, why


def test_saturation_needs_a_hot_function() -> None:
    """A busy service spreads its CPU over handlers, encoders and the runtime (Prometheus
    under a query load: its hottest function 5-7% of the profile); code that burns the CPU
    concentrates it. Without a profile, no rule."""
    busy = _feats(cpu_seconds_per_s=1.1, cpu_profile_gc_share=0.3, cpu_code_share=0.55,
                  cpu_hotspot_share=0.06)  # fmt: skip
    why = kinds.unsupported("cpu-saturation", busy)
    assert why is not None and "hottest 6%" in why
    assert kinds.unsupported("cpu-saturation", {**busy, "cpu_hotspot_share": 0.4}) is None
    assert kinds.unsupported("cpu-saturation", {**busy, "cpu_hotspot_share": None}) is None


def test_kinds_with_evidence_rank_first() -> None:
    idle = _feats(cpu_seconds_per_s=0.003, heap_growth_bytes_per_s=12e3, goroutines=6,
                  goroutine_growth_per_min=0.0, heap_growth_top_share=0.0,
                  client_conn_goroutines=0, dial_live_bytes=0, fd_growth_per_min=0.0)  # fmt: skip
    model = [("memory-leak", 0.44), ("gc-pressure", 0.24), ("healthy", 0.11), ("deadlock", 0.1)]
    ranked, why = ranker.by_evidence(model, idle)
    # the first kind with evidence on top, the rest in the model's order
    assert [k for k, _ in ranked] == ["healthy", "memory-leak", "gc-pressure", "deadlock"]
    assert dict(ranked) == dict(model)  # the probabilities stay the model's
    assert list(why) == ["memory-leak", "gc-pressure"]  # what was ranked above the new top
    # every kind supported, or none: the model's order
    assert ranker.by_evidence(model[2:], idle) == (model[2:], {})
    assert ranker.by_evidence(model[:2], idle) == (model[:2], {})


def test_a_kind_a_lead_put_first_keeps_its_place() -> None:
    """A lead (rule 10: responses nobody reads, each holding its connection) is connection
    evidence the window's counts lack (a keep-alive pool's goroutines held at both ends, fds
    flat): connection-leak is not set aside below healthy. Rule 1's decisive kinds are:
    their check may find the evidence is another kind's."""
    from godiag.analysis.rootcause import longterm
    from godiag.analysis.rootcause.longterm.rules import DECISIVE, LEADS_TO

    pool = _feats(client_conn_goroutines=70, client_conn_growth=0, fd_growth_per_min=0.0,
                  cpu_seconds_per_s=0.003, heap_growth_bytes_per_s=0.0, goroutines=119)  # fmt: skip
    assert kinds.unsupported("connection-leak", pool) is not None
    model = [("connection-leak", 0.6), ("healthy", 0.23), ("gc-pressure", 0.03)]
    notes = {"connection-leak": f"{LEADS_TO}responses nobody reads (probability 0.2 -> 0.6)",
             "goroutine-leak": f"{DECISIVE}a blocked group grew (probability 0.3 -> 0.75)",
             "memory-leak": "long-term evidence against: a site that turns over"}  # fmt: skip
    proven = longterm.evidenced(notes)
    assert proven == {"connection-leak"}
    ranked, why = ranker.by_evidence(model, pool, proven)
    assert ranked[0][0] == "connection-leak" and "connection-leak" not in why
    ranked, why = ranker.by_evidence(model, pool)
    assert ranked[0][0] == "healthy" and "connection-leak" in why


def test_a_connection_leak_needs_connections_that_accumulate() -> None:
    none = _feats(fd_growth_per_min=0.0, client_conn_goroutines=0, dial_live_bytes=0)
    pool = {**none, "client_conn_goroutines": 12, "client_conn_growth": 0}
    for feats, says in ((none, "process_open_fds"), (pool, "pool")):
        why = kinds.unsupported("connection-leak", feats)
        assert why is not None and says in why, why
    # one dump (no growth measured): holding a connection, or memory under a dial, is enough
    for seen in ("fd_growth_per_min", "client_conn_goroutines", "dial_live_bytes"):
        assert kinds.unsupported("connection-leak", {**none, seen: 1}) is None, seen
    for grew in ("client_conn_growth", "fd_growth_per_min", "baseline_goroutine_growth_per_min"):
        assert kinds.unsupported("connection-leak", {**pool, grew: 3}) is None, grew
    # one connection more (its read and write loops) in a few seconds: the pool's size moving
    why = kinds.unsupported("connection-leak", {**pool, "client_conn_growth": 2})
    assert why is not None and "2 more at its end (one connection's" in why, why


def test_inbound_connections_of_stuck_requests_are_not_a_leak() -> None:
    """Open fds that grow with as many goroutines, none on a client connection, while
    handlers are stuck: each fd is a request's inbound connection; the client side held
    the same connections at both ends."""
    stuck = _feats(fd_growth_per_min=3600.0, goroutine_growth_per_min=3600.0,
                   client_conn_goroutines=540, client_conn_growth=0,
                   stuck_handlers=460)  # fmt: skip
    why = kinds.unsupported("connection-leak", stuck)
    assert why is not None and "inbound connections" in why
    # goroutines read a moment apart from the fds (3% fewer), one connection more on the
    # client side (its two loops): the same requests
    for near in ({"goroutine_growth_per_min": 3500.0}, {"client_conn_growth": 1}):
        why = kinds.unsupported("connection-leak", {**stuck, **near})
        assert why is not None and "inbound connections" in why, near
    # client connections that grew, no stuck handler, fds that outgrow the goroutines (a
    # dial whose connection nobody reads), or a dump missing: the fds count as before
    for other in ({"client_conn_growth": 68}, {"stuck_handlers": 0},
                  {"goroutine_growth_per_min": 100.0}, {"client_conn_growth": None}):  # fmt: skip
        assert kinds.unsupported("connection-leak", {**stuck, **other}) is None, other


def test_kinds_without_a_check_are_always_supported() -> None:
    assert kinds.unsupported("deadlock", _feats()) is None  # nothing measured: no rule


def test_a_deadlock_has_something_waiting_behind_it() -> None:
    # two dumps, goroutines parked on channels at both ends, nothing queued behind them
    idle = _feats(stuck_handlers=0, lock_waiters=0, top_growth_blocked=0,
                  blocked_user_goroutines=40)  # fmt: skip
    why = kinds.unsupported("deadlock", idle)
    assert why is not None and "nothing waits behind" in why
    for victims in ("lock_waiters", "stuck_handlers", "top_growth_blocked", "leaked_goroutines"):
        more = {victims: 3, "top_growth_count": 3}
        assert kinds.unsupported("deadlock", {**idle, **more}) is None, victims
    # one dump: stuck requests cannot be told, no rule
    assert kinds.unsupported("deadlock", {**idle, "stuck_handlers": None}) is None
    # lock waiters none of which waits in the same call at both ends, no more at the end
    # than at the start: a lock changing hands (an expvar.Func queued behind a slow Get)
    moving = {**idle, "lock_waiters": 2, "lock_waiters_across": 0, "lock_waiters_growth": 0}
    assert kinds.unsupported("deadlock", moving) is not None
    # one stays, or they pile up (a deadlock forming in the window: 1 then 91)
    assert kinds.unsupported("deadlock", {**moving, "lock_waiters_across": 1}) is None
    assert kinds.unsupported("deadlock", {**moving, "lock_waiters_growth": 90}) is None


def test_requests_in_a_wait_others_left_are_not_deadlocked() -> None:
    """Requests blocked at both ends of the window where other requests of the start dump
    left within it (long polls timing out, a queue served slowly): a wait that ends."""
    polls = _feats(stuck_handlers=122, stuck_handlers_settled=0, lock_waiters=0,
                   top_growth_blocked=0, blocked_user_goroutines=160)  # fmt: skip
    why = kinds.unsupported("deadlock", polls)
    assert why is not None and "122 requests" in why and "other requests left" in why
    # one request stuck where nobody left, or something else waiting behind: no say
    assert kinds.unsupported("deadlock", {**polls, "stuck_handlers_settled": 1}) is None
    for victims in ("lock_waiters", "top_growth_blocked", "leaked_goroutines"):
        more = {victims: 3, "top_growth_count": 3}
        assert kinds.unsupported("deadlock", {**polls, **more}) is None, victims
    # a blocked group one or two goroutines larger is a request or connection arriving
    grew = {"top_growth_blocked": 1, "top_growth_count": 2}
    why = kinds.unsupported("deadlock", {**polls, **grew})
    assert why is not None and "no blocked group grew by more than two" in why
    # without goroutine ids nobody is known to have left: the stuck requests count
    assert kinds.unsupported("deadlock", {**polls, "stuck_handlers_settled": None}) is None


def test_parked_long_polls_replay_as_no_deadlock() -> None:
    """configsvc (a blind trial's config service): 160 /watch handlers parked up to 30 s
    each; at both ends of the 5 s window 122 were the same calls, while others had left."""
    from godiag.pipeline.diagnose import DiagnoseOptions, replay

    doc = replay(DATA / "diagnose" / "healthy-longpoll-configsvc", DiagnoseOptions(store=False))
    assert doc["causes"][0]["kind"] == "healthy" and doc["verdict"].startswith("not sure")
    dl = next(c for c in doc["causes"] if c["kind"] == "deadlock")
    assert "other requests left within it" in dl["set_aside"]
    assert doc["features"]["stuck_handlers"] == 122
    assert doc["features"]["stuck_handlers_settled"] == 0


def _poll(gid: int, req: str, where: str = "main.(*hub).watch") -> str:
    return (
        f"goroutine {gid} [select]:\n{where}(0x{req})\n\t/src/hub.go:40 +0x1\n"
        f"net/http.HandlerFunc.ServeHTTP(0x1)\n\t/go/net/http/server.go:2294 +0x1\n"
        f"net/http.(*conn).serve(0x2)\n\t/go/net/http/server.go:2100 +0x1\n"
        f"created by net/http.(*Server).Serve in goroutine 1\n"
        f"\t/go/net/http/server.go:3360 +0x1\n\n"
    )


def test_settled_requests_are_those_in_waits_nobody_left() -> None:
    from godiag.analysis.rootcause.features import _calls, _settled

    jobs = _poll(9, "b1", "main.(*jobs).wait")
    start = parse((_poll(7, "a1") + _poll(8, "a2") + jobs).encode(), "start")
    # 7 still in the same call; 8's connection serves a new poll (same id, new request);
    # 9 waits in a wait nobody left
    end = parse((_poll(7, "a1") + _poll(8, "a3") + jobs).encode(), "end")
    before, after = (_calls(d, ("select",), handlers=True) for d in (start, end))
    assert _settled(before, after) == 1  # goroutine 9; 7 waits where 8's request left


def test_a_deadlocks_holder_waits_for_ever() -> None:
    # a lock held across a sleep is released when the sleep ends: contention
    why = kinds.unsupported("deadlock", _feats(lock_holder_waits="sleep"))
    assert why is not None and "asleep" in why
    for waits in ("channel", "select", "lock", "io", None):
        assert kinds.unsupported("deadlock", _feats(lock_holder_waits=waits)) is None, waits


def test_healthy_needs_what_would_show_a_fault() -> None:
    measured = _feats(cpu_seconds_per_s=0.01, heap_growth_bytes_per_s=0.0, goroutines=12)
    assert kinds.unsupported("healthy", measured) is None
    why = kinds.unsupported("healthy", {**measured, "cpu_seconds_per_s": None})
    assert why is not None and why.startswith("no CPU measure") and "--cpu" in why
    why = kinds.unsupported("healthy", _feats())
    assert why is not None and why.count(":") == 3, why  # each missing measure named once


def _held(name: str) -> tuple[int, int]:
    dump = parse((GOROUTINES / f"{name}.txt").read_bytes(), name, strict=False)
    held = sum(g.count for g in dump.goroutines if holds_client_conn(g))
    served = [g for g in dump.goroutines
              if any(f.function == "net/http.(*conn).serve" for f in g.frames)]  # fmt: skip
    assert served, "each of these daemons serves HTTP: its server connections are in the dump"
    assert not any(holds_client_conn(g) for g in served)  # accepted, not obtained
    return held, len(dump.goroutines)


def test_client_connections_in_real_daemons() -> None:
    assert _held("prometheus-a")[0] > 0  # it scrapes: HTTP transport loops
    assert _held("seaweedfs-a")[0] > 0
    assert _held("alertmanager-c")[0] == 0  # at rest, nothing dialled


def test_a_servers_background_reads_are_not_client_connections() -> None:
    """net/http reads ahead on an accepted connection while its handler runs (one goroutine
    per request in flight, created by the server's connReader): server side, however many."""
    seen = 0
    for name in ("prometheus-a", "alertmanager-a", "seaweedfs-b"):
        dump = parse((GOROUTINES / f"{name}.txt").read_bytes(), name, strict=False)
        read = "net/http.(*connReader).backgroundRead"
        reads = [g for g in dump.goroutines if any(f.function == read for f in g.frames)]
        seen += len(reads)
        assert not any(holds_client_conn(g) for g in reads), name
    assert seen, "these daemons' dumps have requests in flight"


# io.Copy between two TCP connections (a proxy's copy loop), as Go 1.26 on Linux dumps it:
# the wait is in splice(2), under (*TCPConn).ReadFrom, with no (*conn).Read frame
SPLICED = b"""goroutine 76 [IO wait]:
internal/poll.runtime_pollWait(0x7ff815652c00, 0x72)
\t/usr/local/go/src/runtime/netpoll.go:351 +0x85
internal/poll.(*pollDesc).wait(0x187d8389b300?, 0x187d838e5c60?, 0x0)
\t/usr/local/go/src/internal/poll/fd_poll_runtime.go:84 +0x27
internal/poll.spliceDrain(0x61, 0x187d8389b300, 0x100000)
\t/usr/local/go/src/internal/poll/splice_linux.go:107 +0x219
internal/poll.Splice(0x187d8389b280, 0x187d8389b300, 0x7fffffffffffffff)
\t/usr/local/go/src/internal/poll/splice_linux.go:45 +0x11e
net.spliceFrom(0x55321c?, {0x7acb60?, 0x187d837f0210?})
\t/usr/local/go/src/net/splice_linux.go:44 +0x123
net.(*TCPConn).readFrom(0x187d837f0208, {0x7acb60, 0x187d837f0210})
\t/usr/local/go/src/net/tcpsock_posix.go:48 +0x25
net.(*TCPConn).ReadFrom(0x187d837f0208, {0x7acb60?, 0x187d837f0210?})
\t/usr/local/go/src/net/tcpsock.go:165 +0x30
io.copyBuffer({0x7ff81564fa00, 0x187d837f0208}, {0x7acb60, 0x187d837f0210}, {0x0, 0x0, 0x0})
\t/usr/local/go/src/io/io.go:415 +0x151
io.Copy(...)
\t/usr/local/go/src/io/io.go:388
main.(*proxy).handle.func1()
\t/src/proxy/main.go:96 +0x76
created by main.(*proxy).handle in goroutine 75
\t/src/proxy/main.go:95 +0x13c
"""


def test_a_spliced_copy_holds_a_connection() -> None:
    dump = parse(SPLICED, "proxy", strict=False)
    assert [holds_client_conn(g) for g in dump.goroutines] == [True]
    # the same wait in a goroutine an HTTP server started is the server's connection
    served = SPLICED.replace(b"main.(*proxy).handle in", b"net/http.(*Server).Serve in")
    assert not any(holds_client_conn(g) for g in parse(served, "srv", strict=False).goroutines)


def test_a_memory_leak_keeps_what_it_allocates() -> None:
    # not measured (one heap snapshot, or too little growth to sample): no say
    assert kinds.unsupported("memory-leak", _feats()) is None
    kept = _feats(heap_growth_retention=0.04, heap_growth_bytes_per_s=2e6)
    why = kinds.unsupported("memory-leak", kept)
    assert why is not None and "keeps 4%" in why and "working set" in why
    # a large slice grown by append keeps 1/5 of what it allocates: still a leak's share
    assert kinds.unsupported("memory-leak", {**kept, "heap_growth_retention": 0.2}) is None


def test_a_reference_since_which_nothing_grew_is_no_leak_evidence() -> None:
    """No site grew in the window; a stored reference 57 s old since which the heap did not
    grow either (an idle pushgateway) is no evidence of a leak, one since which it grew is."""
    idle = _feats(heap_growth_top_share=0.0, heap_growth_bytes_per_s=-7e3,
                  baseline_heap_growth_bytes_per_min=0.0, baseline_age_minutes=0.96)  # fmt: skip
    why = kinds.unsupported("memory-leak", idle)
    assert why is not None and "no allocation site grew" in why
    grew = {**idle, "baseline_heap_growth_bytes_per_min": 3e6, "baseline_age_minutes": 4.0}
    assert kinds.unsupported("memory-leak", grew) is None


def test_a_recorded_leak_keeps_its_share() -> None:
    """The leaking scenario's bundle (a buffer grown per request): its growing site keeps
    well above the threshold, so the rule leaves its verdict alone."""
    from godiag.pipeline.diagnose import DiagnoseOptions, replay

    doc = replay(DATA / "diagnose" / "memory-leak-reqtracker", DiagnoseOptions(store=False))
    kept = doc["features"]["heap_growth_retention"]
    assert kept is not None and kept >= 0.2
    assert doc["features"]["heap_growth_in_flight"] == 0  # its handlers were done
    assert doc["verdict"].startswith("memory-leak")


def test_a_memory_leak_outlives_the_work_that_allocated_it() -> None:
    kept = _feats(heap_growth_retention=1.0, heap_growth_in_flight=0, heap_growth_in_flight_rise=0)
    assert kinds.unsupported("memory-leak", kept) is None  # the allocating code is done
    busy = {**kept, "heap_growth_in_flight": 6, "heap_growth_in_flight_rise": 4}
    why = kinds.unsupported("memory-leak", busy)
    assert why is not None and "6 goroutines" in why and "2 at its start" in why
    # as much work in progress at both ends: nothing says the load rose
    assert kinds.unsupported("memory-leak", {**busy, "heap_growth_in_flight_rise": 0}) is None
    # one request caught in the leaking handler by one dump: a snapshot's luck at hundreds
    # of requests per second (catalogcache's cache-by-URL leak read healthy from it)
    one = {**kept, "heap_growth_in_flight": 1, "heap_growth_in_flight_rise": 1}
    assert kinds.unsupported("memory-leak", one) is None
    # a busy path whose count moved by two out of several: not a pile-up either
    assert kinds.unsupported("memory-leak", {**busy, "heap_growth_in_flight_rise": 2}) is None


def test_a_memory_leak_site_does_not_fall_back_within_the_window() -> None:
    """A working set read at a peak of load grew between the two ends too; the heap
    profiles between them show it fall back as requests finish, which a leak never does."""
    rose = _feats(heap_growth_retention=1.0, heap_growth_fallback=0.0)
    assert kinds.unsupported("memory-leak", rose) is None  # only rose: a leak's shape
    fell = {**rose, "heap_growth_fallback": 0.6}
    why = kinds.unsupported("memory-leak", fell)
    assert why is not None and "fell back by 60%" in why and "only rises" in why
    # short-lived buffers made on a leaking line come and go a little
    assert kinds.unsupported("memory-leak", {**rose, "heap_growth_fallback": 0.1}) is None


def test_a_memory_leak_needs_growth_the_heap_profile_resolves() -> None:
    """Alertmanager at rest (the figures of a real 3 s window): its live heap drifted by
    ~40 KiB/s and no site grew by the sampler's resolution; a slow leak reads the same."""
    idle = _feats(heap_growth_top_share=0.0, heap_growth_bytes_per_s=41689.0)
    why = kinds.unsupported("memory-leak", idle)
    assert why is not None and "+41 KiB/s" in why and "baseline" in why
    # a site that grew by the resolution speaks for itself
    assert kinds.unsupported("memory-leak", {**idle, "heap_growth_top_share": 0.8}) is None
    # what reaches before the window decides instead (longterm.adjust): a stored reference,
    # or a Prometheus history as long as longterm takes to corroborate a leak
    assert (
        kinds.unsupported("memory-leak", {**idle, "baseline_heap_growth_bytes_per_min": 9e6})
        is None
    )
    history = {**idle, "history_heap_growth_bytes_per_min": 5.7e6, "history_minutes": 12.0}
    assert kinds.unsupported("memory-leak", history) is None
    # a minute of linear growth: a cache of 300 users filling at start-up reads the same
    warming = {**history, "history_minutes": 1.1}
    why = kinds.unsupported("memory-leak", warming)
    assert why is not None and "10 min of live-heap history (Prometheus has 66 s of it)" in why


def test_a_memory_leak_accumulates_before_the_window() -> None:
    grew = _feats(heap_growth_top_share=0.9, heap_growth_retention=1.0,
                  heap_growth_bytes_per_s=3e6)  # fmt: skip
    assert kinds.unsupported("memory-leak", grew) is None  # the window alone: no say
    # a reference 6 minutes old: 1.5 MiB since then, under the 4 MiB a leak shows by then
    flat = {**grew, "baseline_age_minutes": 6.0, "baseline_heap_growth_bytes_per_min": 262144.0}
    why = kinds.unsupported("memory-leak", flat)
    assert why is not None and "6 min ago" in why and "1.5 MiB" in why
    assert kinds.unsupported("memory-leak", {**flat, "baseline_age_minutes": 0.5}) is None
    leak = {**flat, "baseline_heap_growth_bytes_per_min": 2e6}  # 12 MB in 6 minutes
    assert kinds.unsupported("memory-leak", leak) is None
    for shape, ruled_out in (("flat", True), ("periodic", True), ("linear", False)):
        hist = {**grew, "history_heap_shape": shape, "history_minutes": 30.0,
                "history_heap_growth_bytes_per_min": 0.0}  # fmt: skip
        assert (kinds.unsupported("memory-leak", hist) is not None) == ruled_out, shape


def test_a_site_that_moves_with_the_load_is_not_accumulating() -> None:
    """Prometheus's pooled point slices under a steady query load, a reference 75 s old
    and a 5 s window: +9.8 MB at promql.getPointSlice since, +18 MB within the window
    (swings); in another run +32.8 MB since and nothing within the window (step)."""
    from godiag.analysis.rootcause import longterm

    site = ("github.com/prometheus/prometheus/promql.getPointSlice", "engine.go", 1804)
    swing = longterm.HeapSince(75.0, 10_276_044, site, 9_751_756, 18_926_387, 0.95, 5.0)
    step = longterm.HeapSince(75.0, 34_393_293, site, 33_030_144, 0, 0.96, 5.0)
    leak = longterm.HeapSince(75.0, 60 << 20, site, 60 << 20, 4 << 20, 1.0, 5.0)  # 0.8 MB/s
    slow = longterm.HeapSince(75.0, 8 << 20, site, 8 << 20, 0, 1.0, 5.0)  # 0.1 MB/s
    assert [longterm.consistency(h) for h in (swing, step, leak, slow)] == [
        "swings", "step", "steady", "steady"]  # fmt: skip
    assert not longterm.heap_decisive(swing) and not longterm.heap_decisive(step)
    assert longterm.heap_decisive(leak) and longterm.heap_decisive(slow)
    feats = _feats(baseline_age_minutes=1.25, baseline_heap_growth_bytes_per_min=8e6)
    for how, words in (("swings", "half or more"), ("step", "did not grow within")):
        why = kinds.unsupported("memory-leak", {**feats, "baseline_site_consistency": how})
        assert why is not None and words in why and "moves with the load" in why, how
    steady = {**feats, "baseline_site_consistency": "steady"}
    assert kinds.unsupported("memory-leak", steady) is None


def test_a_site_that_frees_most_of_what_it_allocated_turns_over() -> None:
    """A bounded cache that evicts (notesapi's page cache under a ramping load, a reference
    3 min old): +9.4 MiB live at its put, of 71.7 MiB allocated there since, in 297 more
    objects. A leak keeps what it allocates; a slice grown by append keeps a fifth, in one
    object."""
    from godiag.analysis.rootcause import longterm

    site = ("main.(*pageCache).put", "audit.go", 114)
    mb = 2**20

    def since(kept: int, allocated: int, objects: int) -> longterm.HeapSince:
        return longterm.HeapSince(
            180.0, kept, site, kept, kept // 36, 1.0, 5.0, None, allocated, objects
        )

    cache, leak, append = (
        since(9 * mb, 72 * mb, 297),
        since(85 * mb, 85 * mb, 8873),
        since(20 * mb, 100 * mb, 1),
    )
    assert longterm.turns_over(cache) and not longterm.heap_decisive(cache)
    assert not longterm.turns_over(leak) and longterm.heap_decisive(leak)
    assert not longterm.turns_over(append) and longterm.heap_decisive(append)
    unknown = longterm.HeapSince(180.0, 9 * mb, site, 9 * mb, 0, 1.0, 5.0)  # old recordings
    assert longterm.retention(unknown) is None and longterm.heap_decisive(unknown)
    for h, ruled_out in ((cache, True), (leak, False), (append, False)):
        feats = {
            **_feats(heap_growth_top_share=0.9),
            **longterm.features(longterm.LongTerm(heap=h)),
        }
        why = kinds.unsupported("memory-leak", feats)
        assert (why is not None) == ruled_out
    feats = {
        **_feats(heap_growth_top_share=0.9),
        **longterm.features(longterm.LongTerm(heap=cache)),
    }
    why = kinds.unsupported("memory-leak", feats) or ""
    assert "kept 12% of what it allocated, in 297 more live objects" in why


def test_goroutines_that_are_connections_own_are_connection_leaks_evidence() -> None:
    # 232 more goroutines on client connections, the fastest-growing blocked group +232:
    # the connections' read loops (a connection opened per call, never closed)
    grew = _feats(goroutine_growth_per_min=5596.0, top_growth_per_min=2738.0,
                  top_growth_blocked=1, top_growth_count=232, client_conn_growth=232)  # fmt: skip
    why = kinds.unsupported("goroutine-leak", grew)
    assert why is not None and "client connections' own" in why
    assert kinds.unsupported("connection-leak", grew) is None
    # fewer connection goroutines than the group: the group is something else
    assert kinds.unsupported("goroutine-leak", {**grew, "client_conn_growth": 100}) is None
    # the runtime proved them leaked: that decides
    assert kinds.unsupported("goroutine-leak", {**grew, "leaked_goroutines": 5}) is None


def test_a_group_whose_goroutines_leave_is_not_a_leak() -> None:
    grew = _feats(goroutine_growth_per_min=80.0, top_growth_per_min=60.0,
                  top_growth_blocked=1, top_growth_count=5, top_growth_ended_share=1.0)  # fmt: skip
    why = kinds.unsupported("goroutine-leak", grew)
    assert why is not None and "100% of the goroutines" in why
    # a goroutine or two of 85 gone: a leak site serving other work too
    assert kinds.unsupported("goroutine-leak", {**grew, "top_growth_ended_share": 0.02}) is None
    # what reaches before the window decides instead
    assert kinds.unsupported("goroutine-leak", {**grew, "goroutines_delta_5m": 40}) is None


def test_the_share_of_a_group_gone_by_the_end_is_read_by_goroutine_id() -> None:
    from godiag.analysis.rootcause.features import extract
    from godiag.model.observation import Observation

    def dump(ids: list[int]) -> bytes:
        return (
            "\n\n".join(
                f"goroutine {i} [chan receive]:\nmain.worker(...)\n\t/src/w.go:10 +0x1" for i in ids
            ).encode()
            + b"\n"
        )

    def feats(a: list[int], b: list[int]) -> Any:
        obs = Observation(url="http://x", duration=5.0,
                          dumps=[parse(dump(a), "a"), parse(dump(b), "b")])  # fmt: skip
        return extract(obs)["top_growth_ended_share"]

    assert feats([1, 2, 3, 4], [3, 4, 5, 6, 7, 8]) == 0.5  # 1 and 2 left, 5-8 came
    assert feats([1, 2], [1, 2, 3, 4, 5]) == 0.0  # a leak: all stay, more come
    assert feats([], [3, 4, 5]) is None  # a new group: nothing to leave


def test_a_pool_going_idle_is_goroutines_that_moved_not_a_leak() -> None:
    """200 workers of a fixed pool, asleep in their work at the start and idle on their job
    channel at the end: a blocked group of 200 from nothing in 5 s, the count flat."""
    from godiag.analysis.rootcause.features import extract
    from godiag.model.observation import Observation

    def dump(busy: list[int], idle: list[int]) -> bytes:
        work = "goroutine {} [sleep]:\ntime.Sleep(0x1)\n\t/go/src/runtime/time.go:1 +0x1\n" \
               "main.worker(0x1)\n\t/src/w.go:14 +0x1"  # fmt: skip
        wait = "goroutine {} [chan receive]:\nmain.worker(0x1)\n\t/src/w.go:10 +0x1"
        gs = [work.format(i) for i in busy] + [wait.format(i) for i in idle]
        return ("\n\n".join(gs) + "\n").encode()

    def feats(a: bytes, b: bytes) -> Any:
        obs = Observation(url="http://x", duration=5.0, dumps=[parse(a, "a"), parse(b, "b")])
        return extract(obs)

    pool = list(range(10, 210))
    went_idle = feats(dump(pool, []), dump([], pool))
    assert went_idle["top_growth_moved_share"] == 1.0
    why = kinds.unsupported("goroutine-leak", went_idle)
    assert why is not None and "changed what they wait on" in why, why
    # new goroutines parking (ids the start dump did not have): a leak's arrivals
    leak = feats(dump([], pool[:50]), dump([], pool))
    assert leak["top_growth_moved_share"] == 0.0
    assert kinds.unsupported("goroutine-leak", leak) is None
    # goroutines that were at work and now wait, while the count rose as much: a leak
    # whose goroutines work a while before they park is not ruled out
    grew = {**went_idle, "goroutine_growth_per_min": went_idle["top_growth_per_min"]}
    why = kinds.unsupported("goroutine-leak", grew)
    # (nor a leak: the whole group arrived within the window, and nothing before it says
    # more than a batch would)
    assert why is not None and "changed what they wait on" not in why
    assert "arrived within the window" in why
    # and what reaches before the window decides instead
    assert kinds.unsupported("goroutine-leak", {**went_idle, "goroutines_delta_5m": 40}) is None


def test_healthy_is_not_sure_beside_a_site_that_grew_by_a_leaks_amount() -> None:
    """A 140 KB/s leak watched for 60 s: its site gained 5 MiB and never fell back. One
    window cannot tell it from a cache still filling; what reaches before it can."""
    grew = _feats(heap_growth_top_bytes=5 * 2**20, heap_growth_fallback=0.0)
    why = kinds.doubt("healthy", grew)
    assert why is not None and "grew by 5.0 MiB over the window" in why, why
    assert "--as-baseline" in why
    # under a leak's amount, a level that swung back, or a reference that reaches further
    assert kinds.doubt("healthy", {**grew, "heap_growth_top_bytes": 3 * 2**20}) is None
    assert kinds.doubt("healthy", {**grew, "heap_growth_fallback": 0.6}) is None
    assert kinds.doubt("healthy", {**grew, "baseline_heap_growth_bytes_per_min": 1e5}) is None
    assert kinds.doubt("healthy", {**grew, "history_heap_shape": "flat"}) is None


def test_healthy_is_not_sure_when_the_whole_heap_grew_by_a_leaks_amount_and_was_kept() -> None:
    """An event bus keeping every event (an Event, its header map and its body copy on
    three lines): 150 KB/s over a 30 s window is 4.3 MiB of live heap, 1 MiB at its largest
    line, all of it kept. A working set of that size churns through what it allocates."""
    spread = _feats(heap_growth_top_bytes=2**20, heap_growth_fallback=0.0,
                    heap_growth_window_bytes=4.3 * 2**20, heap_growth_retention=1.0)  # fmt: skip
    why = kinds.doubt("healthy", spread)
    assert why is not None and "the live heap grew by 4.3 MiB over the window" in why, why
    assert "kept 100%" in why and "--as-baseline" in why
    # churned through (a working set), under a leak's amount, or swinging back: healthy
    assert kinds.doubt("healthy", {**spread, "heap_growth_retention": 0.1}) is None
    assert kinds.doubt("healthy", {**spread, "heap_growth_window_bytes": 2 * 2**20}) is None
    assert kinds.doubt("healthy", {**spread, "heap_growth_fallback": 0.6}) is None
    # no site grew by the profile's resolution: nothing to say it was kept
    assert kinds.doubt("healthy", {**spread, "heap_growth_top_bytes": None}) is None


def test_a_runner_up_close_behind_with_evidence_contests_the_top() -> None:
    """Two kinds reading the same captures (a CPU-bound search that also allocates: gc-
    pressure 47%, cpu-saturation 35%, each with its site) are a contest, not a verdict; a
    runner-up far behind, without its own evidence, or "healthy" contests nothing."""
    feats = _feats(cpu_seconds_per_s=0.63, cpu_profile_gc_share=0.19, cpu_code_share=0.71,
                   cpu_hotspot_share=0.4)  # fmt: skip
    close = [("gc-pressure", 0.47), ("cpu-saturation", 0.35), ("healthy", 0.1)]
    assert ranker.contested(close, feats) == ("cpu-saturation", 0.35)
    assert ranker.contested([("gc-pressure", 0.6), ("cpu-saturation", 0.3)], feats) is None
    idle = {**feats, "cpu_seconds_per_s": 0.003}  # cpu-saturation without its evidence
    assert ranker.contested([("memory-leak", 0.47), ("cpu-saturation", 0.35)], idle) is None
    assert ranker.contested([("gc-pressure", 0.47), ("healthy", 0.4)], feats) is None
    # a "healthy" top with a fault close behind is contested too
    assert ranker.contested([("healthy", 0.45), ("cpu-saturation", 0.4)], feats) is not None
    # the verdict names the rival and its first evidence line; without evidence lines the
    # rival is not shown to the user as one, so it contests nothing
    from godiag.model.observation import Observation
    from godiag.pipeline.diagnose import _contest

    obs = Observation(url="http://x")

    causes = [{"kind": k, "probability": p, "evidence": [f"site of {k}"]} for k, p in close]
    why = _contest(causes, close, feats, obs)
    assert why is not None and why.startswith("cpu-saturation is close behind (35%)")
    assert "(site of cpu-saturation)" in why
    assert "longer --window" in why
    # both at one function: the verdict stays "not sure" of the kind but names the code
    at = {"function": "main.scrub", "file": "/src/main.go", "line": 81}
    same = [{**c, "location": dict(at, line=81 + i)} for i, c in enumerate(causes)]
    why = _contest(same, close, feats, obs)
    assert why is not None and "at the same place" in why, why
    assert why.endswith("the code to change is main.scrub (/src/main.go:81)"), why
    causes[1]["evidence"] = []
    assert _contest(causes, close, feats, obs) is None
    # the rival not listed (kinds without evidence scored above it filled the rows): its
    # locator's evidence, as _unlisted gives it, stands in
    crowd = [("gc-pressure", 0.4), ("memory-leak", 0.3), ("deadlock", 0.29),
             ("cpu-saturation", 0.28)]  # fmt: skip
    bare = {**feats, "heap_growth_top_share": 0.0, "stuck_handlers": 0, "lock_waiters": 0,
            "top_growth_blocked": 0}  # fmt: skip
    shown = [{"kind": k, "probability": p, "evidence": [f"site of {k}"]} for k, p in crowd[:3]]
    unlisted = [{"kind": "cpu-saturation", "probability": 0.28, "location": None,
                 "evidence": ["CPU profile: 0.4s in main.scrub"]}]  # fmt: skip
    why = _contest(shown, crowd, bare, obs, unlisted)
    assert why is not None and why.startswith("cpu-saturation is close behind (28%)"), why
    assert "(CPU profile: 0.4s in main.scrub)" in why


def test_open_fds_within_the_observers_own_connections_are_no_connection() -> None:
    """A diagnosis fetches up to limits.OBSERVER_CONNECTIONS captures at once, each on its
    own connection: open fds that rose by that much over the window are godiag's. An idle
    service with its seeded data live (no client, no dial) is then no connection-leak."""
    from godiag.limits import OBSERVER_CONNECTIONS

    mine = _feats(fd_growth_per_min=12.0, fd_growth=1, client_conn_growth=0,
                  client_conn_goroutines=0, dial_live_bytes=0)  # fmt: skip
    why = kinds.unsupported("connection-leak", mine)
    assert why is not None and why.startswith("no connection was seen")
    # what would decide follows from what was measured: fds unmeasured, or measured flat
    assert "process_open_fds in /metrics would decide" in why
    why = kinds.unsupported("connection-leak", {**mine, "open_fds": 40.0})
    assert why is not None and "open fds did not grow" in why and "/metrics" not in why
    leak = {**mine, "fd_growth": OBSERVER_CONNECTIONS + 4, "fd_growth_per_min": 120.0}
    assert kinds.unsupported("connection-leak", leak) is None
    # the count unknown (an old recording): the rate alone decides, as before
    assert kinds.unsupported("connection-leak", {**mine, "fd_growth": None}) is None


def test_a_share_below_the_floor_never_reads_as_the_floor() -> None:
    """0.3955 under a 40% floor is "39.5%", not "has only 40% (below the 40% floor)"."""
    from godiag.analysis.rootcause.ranker import shown_at

    assert shown_at("memory-leak", 0.3955) == "39.5%"
    assert shown_at("memory-leak", 0.21) == "21%"
    assert shown_at("memory-leak", 0.394) == "39%"


def test_causes_scored_near_nothing_are_not_listed() -> None:
    """A kind at 0% listed second hid the set-aside kind the model scored 48%; the top is
    listed whatever its score, then up to two more scored 0.5% or more."""
    from godiag.pipeline.diagnose import _listed

    ranked = [("healthy", 0.09), ("gc-pressure", 0.08), ("lock-contention", 0.0),
              ("memory-leak", 0.48), ("connection-leak", 0.2)]  # fmt: skip
    assert [k for k, _ in _listed(ranked)] == ["healthy", "gc-pressure", "memory-leak"]
    assert _listed([("lock-contention", 0.9999), ("gc-pressure", 0.0001)]) == [
        ("lock-contention", 0.9999)
    ]
    assert _listed([("healthy", 0.001)]) == [("healthy", 0.001)]
    # the kind set aside that scored most is listed in place of the third, not left out
    ranked = [("healthy", 0.22), ("lock-contention", 0.05), ("gc-pressure", 0.05),
              ("cpu-saturation", 0.64), ("memory-leak", 0.02)]  # fmt: skip
    aside = {"cpu-saturation": "no function of the service takes much of the CPU profile"}
    assert [k for k, _ in _listed(ranked, aside)] == [
        "healthy", "lock-contention", "cpu-saturation"
    ]  # fmt: skip
    assert _listed(ranked[:2] + ranked[3:4], aside) == [ranked[0], ranked[1], ranked[3]]
    # two set aside, one of them already third: both are listed (a replay of an idle pool
    # listed gc-pressure 11% in place of goroutine-leak 59%, which its verdict named)
    ranked = [("healthy", 0.097), ("deadlock", 0.053), ("lock-contention", 0.0),
              ("goroutine-leak", 0.594), ("gc-pressure", 0.111),
              ("memory-leak", 0.014)]  # fmt: skip
    aside = {"goroutine-leak": "moved, not new", "gc-pressure": "the code's own CPU"}
    assert [k for k, _ in _listed(ranked, aside)] == ["healthy", "goroutine-leak", "gc-pressure"]
    # more set aside than room: the top and the two scored highest (the schema lists 3)
    aside["memory-leak"] = "no growth"
    assert [k for k, _ in _listed(ranked, aside)] == ["healthy", "goroutine-leak", "gc-pressure"]


def test_a_cause_without_its_own_evidence_is_titled_unconfirmed() -> None:
    from godiag.pipeline.diagnose import _title

    idle = _feats(cpu_seconds_per_s=0.003)
    assert _title("gc-pressure", idle, None).startswith("unconfirmed: the garbage collector")
    busy = _feats(cpu_seconds_per_s=0.9, cpu_profile_gc_share=0.5, cpu_code_share=0.3)
    assert _title("gc-pressure", busy, None).startswith("the garbage collector")


def test_one_goroutine_in_a_dial_is_not_a_pool_used_up() -> None:
    """A TCP proxy's load generator dialing at the moment of one dump (1 over both dumps)
    does not outrank the 715 goroutines copying on connections the proxy never closes."""
    from godiag.analysis.rootcause.kinds import connection_leak

    dialing = ("main.loadgen.func1", "/src/main.go", 108)
    pool = ("main.(*store).query", "/src/store.go", 40)
    assert connection_leak._several({dialing: 1, pool: 12}) == {pool: 12}


def test_the_allocation_rate_without_metrics_comes_from_the_heap_profiles() -> None:
    """A service with pprof only still has an allocation rate: the two forced-GC heap
    profiles' alloc_space. On the recorded bundles it is within a third of
    go_memstats_alloc_bytes_total's rate over the same window."""
    from dataclasses import replace

    from godiag.analysis.rootcause import features
    from godiag.collect.sources import BundleSource
    from godiag.formats.observation import build
    from godiag.pipeline.diagnose import IN_FLIGHT
    from tests.datapaths import DIAGNOSE

    for name in ("healthy-kvstore", "memory-leak-reqtracker", "deadlock-jobqueue"):
        src = BundleSource(DIAGNOSE / name, 256 << 20)
        obs = build(src.record(), limit=256 << 20, pool=IN_FLIGHT, decoded=src.decoded)
        metric = features.extract(obs)["alloc_bytes_per_s"]
        assert metric is not None and metric > 1e6, name
        bare = replace(obs, samples=[])  # as if neither /metrics nor expvar answered
        rate = features.extract(bare)["alloc_bytes_per_s"]
        assert rate is not None and abs(rate / metric - 1) < 0.34, (name, rate, metric)
        assert features.extract(replace(bare, heap=obs.heap[:1]))["alloc_bytes_per_s"] is None


def test_healthy_states_the_window_change_not_a_per_minute_rate() -> None:
    # two goroutines more in a 5 s window are requests in flight: "+24/min" would claim a trend
    measured = kinds.KINDS["healthy"].measured
    assert measured is not None
    feats = _feats(
        goroutines=240, goroutine_growth_per_min=24.0, open_fds=31, fd_growth_per_min=0.0
    )
    (line,) = measured(feats, 5.0)
    assert "240 goroutines (+2 in 5 s)" in line and "31 open fds (+0 in 5 s)" in line
    assert "/min" not in line
    # fds unseen are said to be, with how to see them
    (line,) = measured(_feats(goroutines=240, goroutine_growth_per_min=24.0), 5.0)
    assert "open fds not measured" in line and "godiag diagnose PID" in line


def test_a_goroutine_leak_title_gives_the_named_groups_rate() -> None:
    """The rate beside the location is the blocked group's own, never the process's count
    (SeaweedFS at rest: +24/min overall beside an idle gRPC group that grew by 0)."""
    loc = {"function": "pkg.(*Serializer).run", "file": "s.go", "line": 9}
    idle = _feats(goroutine_growth_per_min=24.0, top_growth_per_min=24.0, top_growth_blocked=0)
    assert kinds.title("goroutine-leak", idle, loc).endswith("pkg.(*Serializer).run")
    piling = {**idle, "top_growth_per_min": 600.0, "top_growth_blocked": 1, "top_growth_count": 50}
    assert kinds.title("goroutine-leak", piling, loc).endswith("(+600/min)")


def test_lock_waiters_that_never_moved_behind_a_holder_waiting_on_a_lock_are_no_queue() -> None:
    """A lock-order deadlock (Post holds a.mu and waits for b.mu; Rotate holds b.mu and
    waits for a.mu) read lock-contention 49%, exit 1: every waiter was the same goroutine
    at both ends of the window. Contention moves; this did not."""
    from godiag.analysis.rootcause import kinds

    stuck = _feats(lock_waiters=5, lock_waiters_across=5, lock_waiters_growth=0,
                   lock_holder_waits="lock")  # fmt: skip
    why = kinds.unsupported("lock-contention", stuck)
    assert why is not None and "none of the 5 goroutines" in why
    # waiters that got the lock in turn, a holder that sleeps, or no ids: contention stands
    for moved in ({"lock_waiters_across": 2}, {"lock_holder_waits": "sleep"},
                  {"lock_waiters_across": None}, {"lock_waiters_growth": 3}):  # fmt: skip
        assert kinds.unsupported("lock-contention", {**stuck, **moved}) is None


def test_gc_pressure_evidence_gives_the_collectors_figures() -> None:
    """What makes it GC pressure rather than a busy service: the collector's rate, what was
    allocated against what stays live, its share of the CPU."""
    measured = kinds.KINDS["gc-pressure"].measured
    assert measured is not None
    feats = _feats(gc_cycles_per_s=77.7, alloc_bytes_per_s=328e6, heap_inuse_bytes=10 * 2**20,
                   cpu_seconds_per_s=0.67, cpu_profile_gc_share=0.42)  # fmt: skip
    (line,) = measured(feats, 30.0)
    assert "77.7 GC cycles/s" in line
    assert "312.8 MiB/s allocated against 10 MiB live" in line
    assert "42% of the CPU profile in the collector and malloc (0.28 of a CPU)" in line
    assert measured(_feats(), 30.0) == []  # nothing measured, nothing said
