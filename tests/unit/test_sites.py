"""Which frame of a stack is the service's: sites.pick and sites.pick_owner."""

from __future__ import annotations

from godiag.analysis import sites
from tests.profile_fixtures import cpu_profile

# the stack of an unlock deferred in commit (leaf first), as a mutex profile records it
_UNLOCK_AT_RETURN = [
    ("sync.(*Mutex).Unlock", "/go/src/sync/mutex.go", 229),
    ("main.(*store).commit.deferwrap1", "/src/app/store.go", 136),
    ("main.(*store).commit", "/src/app/store.go", 150),
    ("main.(*api).put", "/src/app/api.go", 40),
]


def test_a_deferred_call_is_the_function_that_deferred_it() -> None:
    """`defer mu.Unlock()` runs in the compiler's wrapper F.deferwrap1 at F's return: the
    critical section, and the site, are F's (the wrapper's line is the defer statement)."""
    assert sites.pick(_UNLOCK_AT_RETURN, None) == ("main.(*store).commit", "/src/app/store.go", 150)
    assert sites.pick_owner(_UNLOCK_AT_RETURN, None)[0] == "main.(*store).commit"  # type: ignore[index]


def test_a_function_named_like_a_wrapper_is_kept() -> None:
    """Only a wrapper called by its own function hands over: a closure or method whose
    caller is something else stays the site."""
    frames = [("main.deferwrapper", "/src/app/x.go", 3), ("main.main", "/src/app/x.go", 9)]
    assert sites.pick(frames, None) == frames[0]
    lone = [("main.run.deferwrap2", "/src/app/x.go", 5), ("runtime.goexit", "", 0)]
    assert sites.pick(lone, None) == lone[0]


# serving a scrape of /metrics: the handler, Gather, a collector run in its own goroutine
_SCRAPE = ["github.com/prometheus/common/expfmt.MetricFamilyToText",
           "github.com/prometheus/client_golang/prometheus/promhttp.HandlerForTransactional.func1",
           "net/http.HandlerFunc.ServeHTTP", "net/http.(*conn).serve"]  # fmt: skip
_COLLECT = ["github.com/prometheus/procfs.Proc.Limits",
            "github.com/prometheus/client_golang/prometheus.(*Registry).Gather.func1"]  # fmt: skip
# the service's own handler under promhttp's instrumenting middleware, and its labelled work
_HANDLER = ["main.(*api).search",
            "github.com/prometheus/client_golang/prometheus/promhttp.InstrumentHandlerCounter.func1",
            "net/http.(*conn).serve"]  # fmt: skip
_LABELLED = ["main.rebuild", "runtime/pprof.Do", "main.(*jobs).run"]


def test_the_observers_own_work_is_no_site() -> None:
    """Serving /metrics (and the collectors a scrape runs), profiles or dumps is the
    diagnosis looking at the service: it has no site, however hot, while the service's
    own handlers under promhttp's middleware and its pprof.Do work keep theirs."""
    cpu = cpu_profile([(_SCRAPE, 50), (_COLLECT, 30), (_HANDLER, 5), (_LABELLED, 4)])
    assert {s[0]: v for s, v in sites.by_site(cpu, "cpu", None).items()} == {
        "main.(*api).search": 50_000_000,
        "main.rebuild": 40_000_000,
    }
    hot = sites.function_hotspot(sites.by_site(cpu, "cpu", None))
    assert hot is not None and hot[0][0] == "main.(*api).search"
    dump = [("runtime/pprof.writeGoroutineStacks", "", 0), ("net/http/pprof.Index", "", 0)]
    assert sites.observing(dump) and sites.observing([(n, "", 0) for n in _COLLECT])
    assert not sites.observing([(n, "", 0) for n in _HANDLER + _LABELLED])
    labels = [("runtime/pprof.WithLabels", "", 0), ("main.(*jobs).run", "", 0)]
    assert not sites.observing(labels)


def test_the_services_own_collector_is_its_work() -> None:
    """A Collect method of the service's own runs under Gather at every scrape, and can be
    the fault (a collector that waits for a lock of the service): its stack is the
    service's, so it keeps its site; the library collectors around it do not."""
    own = [
        ("sync.(*Mutex).Lock", "", 0),
        ("main.(*stats).Collect", "/src/app/stats.go", 40),
        ("github.com/prometheus/client_golang/prometheus.(*Registry).Gather.func1", "", 0),
    ]
    assert not sites.observing(own)
    cpu = cpu_profile([([f[0] for f in own], 7), (_COLLECT, 30)])
    assert [s[0] for s in sites.by_site(cpu, "cpu", None)] == ["main.(*stats).Collect"]
    # the module's own packages count as the service's too, given its prefix
    lib = [("github.com/acme/shop/metrics.(*pool).Collect", "", 0), *own[2:]]
    assert sites.observing(lib) and not sites.observing(lib, "github.com/acme/shop/")


def test_the_main_modules_prefix_from_the_file_of_package_main() -> None:
    from godiag.analysis.sites import main_file_prefix

    cases = {
        # -trimpath (Debian's prometheus), a local module name under -trimpath
        "github.com/prometheus/prometheus/cmd/prometheus/main.go": (
            "github.com/prometheus/prometheus/"
        ),
        "myservice/cmd/api/main.go": "myservice/",
        # built from the module cache, with and without -trimpath
        "/root/go/pkg/mod/go.etcd.io/etcd/server/v3@v3.5.17/main.go": "go.etcd.io/",
        "go.etcd.io/etcd/server/v3@v3.5.17/main.go": "go.etcd.io/",
        # a GOPATH build
        "/build/p/_build/src/github.com/seaweedfs/seaweedfs/weed/weed.go": (
            "github.com/seaweedfs/seaweedfs/"
        ),
        # a plain local path, a file built by name: the import path is not there
        "/home/me/repo/cmd/api/main.go": None,
        "main.go": None,
        "command-line-arguments/main.go": None,
    }
    for file, want in cases.items():
        assert main_file_prefix(file) == want, file


def test_the_hot_functions_share_is_its_own_time_not_its_system_calls() -> None:
    """A connection wrapper's writes spend their CPU in the kernel: that time is under the
    wrapper's frame, but it is not the wrapper burning the CPU."""
    from godiag.analysis.rootcause.features import _hotspot_share

    write = ["syscall.Syscall", "syscall.write", "internal/poll.(*FD).Write",
             "net.(*conn).Write", "example.com/svc/util.(*Conn).Write"]  # fmt: skip
    busy = ["example.com/svc/index.(*Tree).insert", "example.com/svc/api.put"]
    cpu = cpu_profile([(write, 60), (busy, 30), (["runtime.gcBgMarkWorker"], 10)])
    assert _hotspot_share(cpu, "example.com/svc/") == (0.3, 0.0)


def test_a_hot_functions_commonest_callers_are_its_call_path() -> None:
    """A rate limiter's check is hot because a loop calls it with no pause: the profile's
    commonest chain of the service's callers above it names the loop."""
    allow = ["time.Now", "main.(*gcra).allow", "main.(*relay).submit", "main.(*dispatcher).deliver"]
    other = ["main.(*gcra).allow", "main.(*api).send", "net/http.HandlerFunc.ServeHTTP"]
    cpu = cpu_profile([(allow, 90), (other, 10), (["main.idle"], 5)])
    path = sites.call_path(cpu, "cpu", "main.(*gcra).allow", None)
    assert path is not None
    assert [f[0] for f in path[0]] == ["main.(*relay).submit", "main.(*dispatcher).deliver"]
    assert path[1] == 90 * 10_000_000
    # a function no service code calls has no path
    assert sites.call_path(cpu, "cpu", "main.idle", None) is None


def test_a_helpers_one_caller_is_found_in_other_stacks() -> None:
    """A goroutine started inside `open` names `open` as its creator; a heap sample or a
    goroutine passing through `open` shows who called it. One caller: that one; two: none
    (which one keeps the stream is not known); another package's caller is no handover."""
    open_ = ("main.(*mirror).open", "/src/hub/traffic.go", 203)
    run = ("main.(*mirror).run", "/src/hub/traffic.go", 222)
    get = ("net/http.(*Client).Get", "/go/src/net/http/client.go", 480)
    stacks = [[get, open_, run], [get, open_, run], [("main.other", "/src/hub/x.go", 1)]]
    assert sites.caller_of(stacks, open_[0], "main") == run
    assert sites.caller_of(stacks[2:], open_[0], "main") is None
    two = [*stacks, [get, open_, ("main.(*mirror).retry", "/src/hub/traffic.go", 240)]]
    assert sites.caller_of(two, open_[0], "main") is None
    elsewhere = [[get, open_, ("example.com/lib.Start", "/src/lib/lib.go", 9)]]
    assert sites.caller_of(elsewhere, open_[0], None) is None
    assert sites.helper_named("main.(*mirror).openStream")
    assert not sites.helper_named("main.(*mirror).run")
