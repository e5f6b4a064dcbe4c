"""served.request_work: CPU spent in workers a request handler started is the request's
work (a handler fanning a computation out and waiting spends nothing itself), a loop the
service started at boot is not."""

from __future__ import annotations

from godiag.analysis.rootcause import served
from godiag.analysis.rootcause.features import _hotspot_share
from godiag.formats.goroutines import parse
from godiag.model.observation import Observation
from tests.profile_fixtures import cpu_profile

DUMP = """goroutine 7 [semacquire]:
sync.(*WaitGroup).Wait(0xc000010000)
	/go/src/sync/waitgroup.go:206 +0x85
main.(*app).sky(0xc0000a0000, {0x7fc668, 0xc0000b0000}, 0xc0000c0000)
	/src/starmap/main.go:65 +0x28a
net/http.HandlerFunc.ServeHTTP(0x0, {0x0, 0x0}, 0x0)
	/go/src/net/http/server.go:2286 +0x29
net/http.(*conn).serve(0xc0000d0000, {0x7fcde8, 0xc0000e0000})
	/go/src/net/http/server.go:2067 +0x690
created by net/http.(*Server).Serve in goroutine 1
	/go/src/net/http/server.go:3464 +0x485

goroutine 9 [select]:
main.refresh()
	/src/starmap/main.go:140 +0x85
created by main.main in goroutine 1
	/src/starmap/main.go:30 +0xf9
"""


def _obs() -> Observation:
    d = parse(DUMP.encode(), "test")
    return Observation(url="http://127.0.0.1:1", duration=5.0, dumps=[d, d])


def test_workers_a_handler_started_are_its_work() -> None:
    # the workers' stacks end at the closure the handler wrote (runtime.goexit below it)
    prof = cpu_profile([(["main.toHorizontal", "main.(*app).sky.func1", "runtime.goexit"], 80),
                (["main.refresh", "runtime.goexit"], 20)])  # fmt: skip
    assert _hotspot_share(prof, None) == (0.8, 0.0)  # by net/http frames alone: its own
    hot = _hotspot_share(prof, None, served.request_work(_obs(), None))
    assert hot == (0.8, 1.0)


def test_a_loop_started_by_main_stays_its_own() -> None:
    worker = ["main.toHorizontal", "main.(*app).sky.func1", "runtime.goexit"]
    prof = cpu_profile([(["main.spin", "main.refresh", "runtime.goexit"], 90), (worker, 10)])
    assert _hotspot_share(prof, None, served.request_work(_obs(), None)) == (0.9, 0.0)


def test_closures_and_wrappers_name_their_enclosing_function() -> None:
    assert served.enclosing("main.(*app).sky.func1") == "main.(*app).sky"
    assert served.enclosing("main.(*app).sky.gowrap1") == "main.(*app).sky"
    assert served.enclosing("main.run.func2.func1") == "main.run"
    assert served.enclosing("main.funcName") == "main.funcName"


QUERY = """goroutine 31 [runnable]:
main.(*query).scan(0xc000010000)
	/src/starmap/query.go:40 +0x85
created by main.(*executor).start in goroutine 12
	/src/starmap/query.go:22 +0xf9
"""


def _came_and_went() -> Observation:
    # a query goroutine in the start dump, gone at the end; the boot loop in both
    start = parse((DUMP + "\n" + QUERY).encode(), "start")
    end = parse(DUMP.encode(), "end")
    return Observation(url="http://127.0.0.1:1", duration=5.0, dumps=[start, end])


def test_work_in_goroutines_that_came_and_went_is_asked_for() -> None:
    # its starter (main.(*executor).start) is on no handler's stack: it had returned
    scan = ["main.(*query).scan", "runtime.goexit"]
    gone = ["main.(*query).merge", "runtime.goexit"]  # in neither dump: came and went
    prof = cpu_profile([(scan, 50), (gone, 30), (["main.refresh", "runtime.goexit"], 20)])
    asked = served.request_work(_came_and_went(), None)
    assert asked([(f, "", 0) for f in scan]) and asked([(f, "", 0) for f in gone])
    assert not asked([(f, "", 0) for f in ["main.refresh", "runtime.goexit"]])
    assert _hotspot_share(prof, None, asked) == (0.5, 1.0)


def test_one_dump_or_a_cut_stack_says_nothing_of_coming_and_going() -> None:
    start = _came_and_went().dumps[0]
    one = Observation(url="http://127.0.0.1:1", duration=5.0, dumps=[start])
    scan = [("main.(*query).scan", "", 0), ("runtime.goexit", "", 0)]
    assert not served.request_work(one, None)(scan)
    # a stack at the profiler's depth limit may have lost the root it started in
    deep = [(f"main.rec{i}", "", 0) for i in range(served.MAX_DEPTH)]
    assert not served.request_work(_came_and_went(), None)(deep)
