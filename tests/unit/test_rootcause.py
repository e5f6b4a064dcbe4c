"""The ranker's model file, its inputs, the baselines and the command's option errors."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from godiag.analysis.rootcause import ranker
from godiag.analysis.rootcause.features import FEATURES

REPO = Path(__file__).resolve().parents[2]
DATASET = REPO / "data" / "diagnose" / "dataset.jsonl"


def rows() -> list[dict[str, object]]:
    return [json.loads(x) for x in DATASET.read_text().splitlines() if x.strip()]


def test_model_is_plain_json_over_the_documented_inputs() -> None:
    model = ranker.load_model()
    assert model["schema"] == "godiag.rootcause-model/v1"
    assert sorted(model["classes"]) == sorted(ranker.KINDS)
    assert model["inputs"] == ranker.input_names()
    assert len(model["coef"]) == len(model["classes"])
    assert all(len(r) == len(model["inputs"]) for r in model["coef"])
    assert model["temperature"] > 0
    forest = model["forest"]
    assert 0 < forest["weight"] < 1 and forest["trees"]
    for tree in forest["trees"]:
        for node in tree:
            if len(node) == 1:  # a leaf: class frequencies
                assert len(node[0]) == len(model["classes"])
                assert math.isclose(sum(node[0]), 1.0, abs_tol=0.01)
            else:  # a split: input, threshold, left, right (later nodes: no cycle)
                assert 0 <= node[0] < len(model["inputs"])
                assert node[2] > tree.index(node) and node[3] > tree.index(node)


def test_forest_scores_as_scikit_learn_does_on_inputs_a_float32_step_from_a_split() -> None:
    # Without alertmanager/ramping's runs, a tree splits goroutine growth at 4.109626293182373
    # (a float32 value) and a run with 4.109626428709161 goes left in scikit-learn (it
    # compares in float32) but right in double precision: fit_forest checks the shipped
    # scorer against scikit-learn's probabilities on every training row and stops otherwise
    pytest.importorskip("sklearn")
    sys.path.insert(0, str(REPO))
    from tools.rootcause_train import fit_forest, load

    forest = fit_forest([r for r in load() if r["program"] != "alertmanager/ramping"])
    assert len(forest["trees"]) > 1


def test_missing_is_not_zero() -> None:
    feats = {k: None for k in FEATURES}
    xs, miss = ranker.vectorize(feats)
    zero = ranker.vectorize({**feats, "cpu_seconds_per_s": 0.0})
    assert xs != zero[0] or miss != zero[1]
    i = ranker.input_names().index("cpu_seconds_per_s_missing")
    assert xs[i] == 1.0 and zero[0][i] == 0.0


def test_every_feature_is_documented() -> None:
    doc = (REPO / "docs" / "diagnose.md").read_text()
    for name in FEATURES:
        assert f"`{name}`" in doc, name


def test_make_train_rebuilds_the_committed_model_bit_for_bit() -> None:
    pytest.importorskip("sklearn")
    sys.path.insert(0, str(REPO))
    from tools.rootcause_train import MODEL, dump, load, train

    assert dump(train(load())) == MODEL.read_text()


def test_baselines_name_kinds() -> None:
    for r in rows():
        f = r["features"]
        assert isinstance(f, dict)
        assert ranker.rules(f)[0][0] in ranker.KINDS
        assert ranker.largest_group(f)[0][0] in ranker.KINDS


def test_bad_window_is_one_line_exit_2() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "godiag", "diagnose", "http://127.0.0.1:9", "--window", "x"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert r.returncode == 2
    assert "--window" in r.stderr and "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0


def test_lock_contention_is_not_ranked_without_lock_evidence() -> None:
    none = {k: None for k in FEATURES}
    assert ranker.ruled_out({**none, "lock_waiters": 0}) == {"lock-contention"}
    assert ranker.ruled_out({**none, "lock_waiters": 0, "lock_wait_s_per_s": 0.0}) == {
        "lock-contention"
    }
    # some evidence, or no dump to look in: nothing is ruled out
    assert ranker.ruled_out({**none, "lock_waiters": 3}) == set()
    assert ranker.ruled_out({**none, "lock_waiters": 0, "lock_wait_s_per_s": 0.5}) == set()
    assert ranker.ruled_out(none) == set()
    # a goroutine waiting on a lock for the whole window, on average, is not healthy
    assert ranker.ruled_out({**none, "lock_waiters": 0, "lock_wait_s_per_s": 4.5}) == {"healthy"}
    assert ranker.ruled_out({**none, "lock_waiters": 2, "lock_wait_s_per_s": 0.9}) == set()
    ranked = dict(ranker.rank({**none, "lock_waiters": 0}))
    assert ranked["lock-contention"] == 0.0
    assert math.isclose(sum(ranked.values()), 1.0)
    ranked = dict(ranker.rank({**none, "lock_waiters": 6, "lock_wait_s_per_s": 4.5}))
    assert ranked["healthy"] == 0.0
    assert max(ranked, key=lambda k: ranked[k]) == "lock-contention"


_CLIENT_DUMP = b"""goroutine 41 [IO wait]:
net/http.(*persistConn).roundTrip(0xc000180000, 0xc0001a2000)
\t/usr/local/go/src/net/http/transport.go:2800 +0x7d1
net/http.(*Transport).roundTrip(0xc000001000, 0xc0000ff400)
\t/usr/local/go/src/net/http/transport.go:700 +0x9a5
net/http.(*Client).Get(...)
\t/usr/local/go/src/net/http/client.go:480
main.bestOffer({0xc000020100, 0x1a}, {0xc000012200, 0x4})
\t/src/pricefeed/main.go:24 +0x8e
main.main.func2({0x7f0000, 0xc0001c0000}, 0xc0001b6000)
\t/src/pricefeed/main.go:52 +0x5c
created by net/http.(*Server).Serve in goroutine 1
\t/usr/local/go/src/net/http/server.go:3454 +0x485

goroutine 7 [select]:
main.worker()
\t/src/pricefeed/main.go:70 +0x20
created by main.main in goroutine 1
\t/src/pricefeed/main.go:60 +0x25
"""


def test_connection_leak_located_from_goroutines_in_client_calls() -> None:
    """The dumps name the service's code inside HTTP client calls, not the libraries."""
    from godiag.analysis.rootcause.kinds import connection_leak
    from godiag.formats.goroutines import parse
    from godiag.model.observation import Observation

    dump = parse(_CLIENT_DUMP, "test")
    hits = connection_leak.in_client_calls(Observation("test", dumps=[dump, dump]), None)
    assert hits == {("main.bestOffer", "/src/pricefeed/main.go", 24): 2}


_HANDED_CONNS_DUMP = b"""goroutine 50 [IO wait]:
internal/poll.runtime_pollWait(0x7f0000000000, 0x72)
\t/usr/local/go/src/runtime/netpoll.go:351 +0x85
net.(*conn).Read(0xc000010000, {0xc000200000, 0x1000, 0x1000})
\t/usr/local/go/src/net/net.go:196 +0x45
bufio.(*Scanner).Scan(0xc000220000)
\t/usr/local/go/src/bufio/scan.go:219 +0x81e
main.readAcks(0xc000010000)
\t/src/notes/ship.go:80 +0x65
created by main.send in goroutine 12
\t/src/notes/ship.go:71 +0x1f5

goroutine 51 [select]:
net/http.(*persistConn).writeLoop(0xc000300000)
\t/usr/local/go/src/net/http/transport.go:2652 +0xe7
created by net/http.(*Transport).dialConn in goroutine 49
\t/usr/local/go/src/net/http/transport.go:2000 +0x1a3d

goroutine 60 [IO wait]:
internal/poll.runtime_pollWait(0x7f0000000100, 0x72)
\t/usr/local/go/src/runtime/netpoll.go:351 +0x85
net.(*conn).Read(0xc000010100, {0xc000200100, 0x1000, 0x1000})
\t/usr/local/go/src/net/net.go:196 +0x45
main.serveConn(0xc000010100)
\t/src/notes/collector.go:30 +0x65
created by main.collector in goroutine 9
\t/src/notes/collector.go:21 +0x1f5

goroutine 9 [IO wait]:
internal/poll.runtime_pollWait(0x7f0000000200, 0x72)
\t/usr/local/go/src/runtime/netpoll.go:351 +0x85
net.(*netFD).accept(0xc000400000)
\t/usr/local/go/src/net/fd_unix.go:172 +0x29
net.(*TCPListener).Accept(0xc000410000)
\t/usr/local/go/src/net/tcpsock.go:380 +0x30
main.collector(0xc000410000)
\t/src/notes/collector.go:19 +0x30
created by main.main in goroutine 1
\t/src/notes/main.go:40 +0x25
"""


def test_connection_leak_located_where_goroutines_were_handed_connections() -> None:
    """A goroutine reading a client connection is named by the code that started it (it
    was handed the connection there); transports' own loops and the goroutines of an
    in-process server's accepted connections are not the service's client code."""
    from godiag.analysis.rootcause.kinds import connection_leak
    from godiag.formats.goroutines import parse
    from godiag.model.observation import Observation

    dump = parse(_HANDED_CONNS_DUMP, "test")
    obs = Observation("test", dumps=[dump, dump])
    hits = connection_leak.conn_users(obs, None, connection_leak._server_side(obs))
    assert hits == {("main.send", "/src/notes/ship.go", 71): 2}


def test_the_cpu_hotspot_share_is_one_function_of_the_services_code() -> None:
    """A spinning loop concentrates the profile in one function (summed over its lines);
    samples with no frame of the service's code (the runtime, the network) count in the
    whole only."""
    from godiag.analysis.rootcause.features import _hotspot_share
    from godiag.model.profile import Function, Line, Location, Profile, Sample, ValueType

    spin = Function(1, "main.retry", "", "/src/app/retry.go")
    serve = Function(2, "main.serve", "", "/src/app/api.go")
    poll = Function(3, "runtime.netpoll", "", "/go/src/runtime/netpoll.go")

    def at(fn: Function, line: int, ns: int) -> Sample:
        return Sample((Location(fn.id * 100 + line, None, lines=(Line(fn, line),)),), (1, ns))

    types = (ValueType("samples", "count"), ValueType("cpu", "nanoseconds"))
    prof = Profile(types, (at(spin, 10, 50), at(spin, 12, 20), at(serve, 5, 10), at(poll, 1, 20)))
    # a loop of its own: none of the hot function's CPU under a request handler
    assert _hotspot_share(prof, None) == (0.7, 0.0)
    assert _hotspot_share(Profile(types, (at(poll, 1, 20),)), None) is None


def test_a_hot_request_path_is_not_sure_and_a_loop_of_its_own_is() -> None:
    """The hot function's CPU under net/http's per-connection goroutine is what the requests
    cost: the verdict names cpu-saturation first but is not sure of it; the same function in
    a goroutine of the service's own (a spinning retry) keeps its verdict."""
    from godiag.analysis.rootcause import kinds
    from godiag.analysis.rootcause.features import _hotspot_share
    from godiag.model.profile import Function, Line, Location, Profile, Sample, ValueType

    work = Function(1, "main.topProducts", "", "/src/app/api.go")
    serve = Function(2, "net/http.(*conn).serve", "", "/go/src/net/http/server.go")
    loop = Function(3, "main.retryForever", "", "/src/app/retry.go")
    types = (ValueType("samples", "count"), ValueType("cpu", "nanoseconds"))

    def stack(*fns: Function) -> tuple[Location, ...]:
        return tuple(Location(i + 1 + 10 * f.id, None, lines=(Line(f, 1),)) for i, f in
                     enumerate(fns))  # fmt: skip

    served = Profile(types, (Sample(stack(work, serve), (1, 80)), Sample(stack(loop), (1, 20))))
    hot, share = _hotspot_share(served, None) or (0.0, 0.0)
    assert (hot, share) == (0.8, 1.0)
    feats = {"cpu_hotspot_share": hot, "cpu_hotspot_request_share": share,
             "cpu_seconds_per_s": 0.4}  # fmt: skip
    why = kinds.doubt("cpu-saturation", feats)
    assert why is not None and "100% of it while serving requests" in why, why
    assert "--diff-base" in why, why
    # doubted however much CPU the path burns (a route planner at 1.06 CPUs with one
    # function at 75%, healthy), spread over the service's work (Prometheus's range
    # evaluation at 34% of 1.8 CPUs) or at half a CPU (a report endpoint at its usual cost)
    assert kinds.doubt("cpu-saturation", {**feats, "cpu_seconds_per_s": 1.13}) is not None
    spread = {**feats, "cpu_hotspot_share": 0.34, "cpu_seconds_per_s": 1.8}
    assert kinds.doubt("cpu-saturation", spread) is not None
    assert kinds.doubt("cpu-saturation", {**feats, "cpu_seconds_per_s": 0.52}) is not None
    own = Profile(types, (Sample(stack(loop), (1, 80)), Sample(stack(work, serve), (1, 20))))
    hot, share = _hotspot_share(own, None) or (0.0, 0.0)
    assert (hot, share) == (0.8, 0.0)
    feats = {"cpu_hotspot_share": hot, "cpu_hotspot_request_share": share}
    assert kinds.doubt("cpu-saturation", feats) is None
    # other kinds have no such doubt
    assert kinds.doubt("memory-leak", feats) is None


def test_garbage_made_serving_requests_is_not_sure_unless_gogc_is_tiny() -> None:
    """gc-pressure's site allocating under request handlers is what the requests cost, as a
    hot request path is; with GOGC at 25% or less the setting is the cause."""
    from godiag.analysis.rootcause import kinds

    why = kinds.doubt("gc-pressure", {"alloc_request_share": 0.64, "gogc_percent": 100.0})
    assert why is not None and "64% of what its site allocated" in why, why
    assert "--type allocs --diff-base" in why, why
    assert kinds.doubt("gc-pressure", {"alloc_request_share": 0.64, "gogc_percent": 20.0}) is None
    assert kinds.doubt("gc-pressure", {"alloc_request_share": 0.1}) is None
    assert kinds.doubt("gc-pressure", {"alloc_request_share": None}) is None


def test_a_connection_leak_placed_by_traffic_says_so_and_names_the_other_clients() -> None:
    """Allocation under HTTP client calls ranks clients by use: a proxy's own load generator
    out-allocates the outbound client that leaks. The location it gives is flagged, with
    the other clients, instead of read as the place connections are kept."""
    from godiag.analysis.rootcause.derived import derive
    from godiag.analysis.rootcause.kinds import connection_leak
    from godiag.model.observation import Observation
    from godiag.model.profile import Function, Line, Location, Profile, Sample, ValueType

    do = Function(1, "net/http.(*Client).Do", "", "/go/src/net/http/client.go")
    load = Function(2, "main.loadClient", "", "/src/proxy/main.go")
    fwd = Function(3, "main.(*proxy).forward", "", "/src/proxy/main.go")

    def under(fn: Function, line: int, alloc: int) -> Sample:
        locs = (Location(1, None, lines=(Line(do, 590),)),
                Location(fn.id * 100 + line, None, lines=(Line(fn, line),)))  # fmt: skip
        return Sample(locs, (1, alloc, 0, 0))

    types = (ValueType("alloc_objects", "count"), ValueType("alloc_space", "bytes"),
             ValueType("inuse_objects", "count"), ValueType("inuse_space", "bytes"))  # fmt: skip
    heap = Profile(types, (under(load, 96, 4 << 20), under(fwd, 53, 1 << 20)))
    obs = Observation("test", heap=[heap, heap])
    loc, ev = connection_leak.locator(obs, derive(obs))
    assert loc is not None and loc["function"] == "main.loadClient"
    assert "HTTP client allocation: 4.00 MiB" in ev[0]
    assert ev[1].startswith("not sure of the place: HTTP client allocation measures traffic")
    assert "main.(*proxy).forward (/src/proxy/main.go:53) (1.00 MiB)" in ev[1]


def test_a_call_waiting_for_a_connection_is_not_what_a_response_keeps() -> None:
    """Live under HTTP client calls in the end snapshot: the load generator's call waiting
    for a connection (Transport.getConn's wantConn, dropped once it has one) and the
    outbound call whose unread response keeps its request (NewRequest). The request is
    the leak's; the wait is any client's at that moment, even one sample bigger."""
    from godiag.analysis.rootcause.derived import derive
    from godiag.analysis.rootcause.kinds import connection_leak
    from godiag.model.observation import Observation
    from godiag.model.profile import Function, Line, Location, Profile, Sample, ValueType

    get = Function(1, "net/http.(*Client).Get", "", "/go/src/net/http/client.go")
    wait = Function(2, "net/http.(*Transport).getConn", "", "/go/src/net/http/transport.go")
    build = Function(3, "net/http.NewRequest", "", "/go/src/net/http/request.go")
    load = Function(4, "main.runLoad.func1", "", "/src/freight/load.go")
    rate = Function(5, "main.(*quoter).carrierRate", "", "/src/freight/main.go")

    def at(fn: Function, line: int) -> Location:
        return Location(fn.id * 1000 + line, None, lines=(Line(fn, line),))

    types = (ValueType("alloc_objects", "count"), ValueType("alloc_space", "bytes"),
             ValueType("inuse_objects", "count"), ValueType("inuse_space", "bytes"))  # fmt: skip
    waiting = Sample((at(wait, 1552), at(get, 489), at(load, 22)), (1, 524344, 1, 524344))
    kept = Sample((at(build, 863), at(get, 485), at(rate, 45)), (1, 524312, 1, 524312))
    heap = Profile(types, (waiting, kept))
    obs = Observation("test", heap=[heap, heap])
    loc, ev = connection_leak.locator(obs, derive(obs))
    assert loc is not None and (loc["function"], loc["line"]) == ("main.(*quoter).carrierRate", 45)
    assert "live objects under HTTP client calls" in ev[0]


def test_a_lock_with_no_queue_is_no_lock_contention_verdict() -> None:
    """Two paths meeting on a lock now and then (0.03 goroutines waiting at a time, one
    seen in a dump) is every service with a lock: lock-contention may rank first, as a
    weak fault looks the same, but the verdict is not sure. A queue decides."""
    from godiag.analysis.rootcause import kinds

    why = kinds.doubt("lock-contention", {"lock_wait_s_per_s": 0.03, "lock_waiters": 1})
    assert why is not None and "0.03 goroutines waited on a lock at a time" in why
    assert kinds.doubt("lock-contention", {"lock_wait_s_per_s": 0.8, "lock_waiters": 1}) is None
    assert kinds.doubt("lock-contention", {"lock_wait_s_per_s": 0.03, "lock_waiters": 4}) is None
    # no lock-wait profile: the dumps alone do not say how long anyone waited
    assert kinds.doubt("lock-contention", {"lock_wait_s_per_s": None, "lock_waiters": 1}) is None
