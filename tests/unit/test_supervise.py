"""Unit tests of the `godiag run` building blocks: /proc readers on a fake root,
/proc/locks, cgroup files, dump extraction, go argument handling, the -x filter."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from godiag.toolchain.supervise import dumps, goargs
from godiag.toolchain.supervise.procfs import ProcFS
from godiag.toolchain.supervise.stallfind import network_wait, state_findings
from godiag.toolchain.supervise.system import (
    Cgroups,
    frozen,
    locks_of_tree,
    memory_counter_files,
    oom_kill_count,
    oom_kills,
    parse_locks,
)
from tests import datapaths

LOCKS = """1: FLOCK  ADVISORY  WRITE 4242 00:2f:1234 0 EOF
1: -> FLOCK  ADVISORY  WRITE 4343 00:2f:1234 0 EOF
2: POSIX  ADVISORY  READ 99 08:01:777 0 EOF
"""

DUMP = """SIGQUIT: quit
PC=0x4930a1 m=0 sigcode=0

goroutine 1 gp=0xc000002380 m=nil [chan receive]:
runtime.gopark(0x0?)
\truntime/proc.go:462 +0xce
main.main()
\t/src/main.go:10 +0x20

goroutine 7 [sync.Mutex.Lock, 3 minutes]:
sync.runtime_SemacquireMutex(0x0?)
\truntime/sema.go:95 +0x25
sync.(*Mutex).Lock(...)
\tsync/mutex.go:46
example.com/app.TestDeadlock(0xc000003a40)
\t/src/a_test.go:11 +0x45
created by testing.(*T).Run in goroutine 1
\ttesting/testing.go:1997 +0x465
exit status 2
FAIL\texample.com/app\t2.1s
"""


def fake_proc(root: Path, pid: int, ppid: int, state: str = "S", comm: str = "go") -> None:
    d = root / str(pid)
    (d / "fd").mkdir(parents=True)
    (d / "stat").write_text(
        f"{pid} ({comm}) {state} {ppid} {pid} 0 0 0 0 0 0 0 0 17 4 0 0 20 0 1 0\n"
    )
    (d / "status").write_text(
        f"Name:\t{comm}\nState:\t{state} (sleeping)\nSigBlk:\t0000000000000000\n"
        "Seccomp:\t2\nSeccomp_filters:\t1\nNoNewPrivs:\t1\nCapEff:\t000001ffffffffff\n"
    )
    (d / "io").write_text("rchar: 100\nwchar: 50\nread_bytes: 0\n")
    (d / "wchan").write_text("do_wait")
    (d / "syscall").write_text("61 0xffffffffffffffff 0x7ffd 0x0 0x0 0x0 0x0 0x7ffc 0x7f00")
    (d / "cmdline").write_bytes(b"go\0build\0./...\0")
    (d / "cgroup").write_text("6:freezer:/job\n0::/\n")


def test_procfs_reads_a_fake_root(tmp_path: Path) -> None:
    fake_proc(tmp_path, 10, 1)
    fake_proc(tmp_path, 11, 10, "T", comm="my (odd) name")
    fake_proc(tmp_path, 12, 11, "D")
    fake_proc(tmp_path, 50, 1)
    fs = ProcFS(tmp_path)
    assert fs.tree(10) == [10, 11, 12]
    info = fs.info(11)
    assert info is not None
    assert info.stat.comm == "my (odd) name" and info.stat.state == "T"
    assert (info.stat.utime, info.stat.stime) == (17, 4)
    assert info.status["Seccomp"] == "2" and info.status["NoNewPrivs"] == "1"
    assert info.io["rchar"] == 100
    assert info.cmdline == ["go", "build", "./..."]
    assert fs.info(999) is None
    assert not fs.is_go_binary(10)  # no exe link in the fake root


def test_procfs_reads_this_process() -> None:
    fs = ProcFS()
    me = fs.info(os.getpid())
    assert me is not None and me.stat.pid == os.getpid()
    assert not fs.is_go_binary(os.getpid())  # python is not a Go binary


def test_locks_pair_waiter_with_holder(tmp_path: Path) -> None:
    locks = parse_locks(LOCKS)
    assert [(lk.ordinal, lk.waiting, lk.pid) for lk in locks] == [
        (1, False, 4242),
        (1, True, 4343),
        (2, False, 99),
    ]
    assert locks[0].dev == (0, 0x2F) and locks[0].inode == 1234
    (tmp_path / "locks").write_text(LOCKS)
    fake_proc(tmp_path, 4343, 1)
    out = locks_of_tree(ProcFS(tmp_path), [4343])
    assert out[0]["state"] == "awaited" and out[0]["holder_pid"] == 4242


@given(st.text(max_size=400))
def test_fuzz_locks_never_raise(text: str) -> None:
    parse_locks(text)


def test_cgroup_v1_freezer_and_oom(tmp_path: Path) -> None:
    (tmp_path / "freezer/job").mkdir(parents=True)
    (tmp_path / "freezer/job/freezer.state").write_text("FROZEN\n")
    (tmp_path / "memory/m").mkdir(parents=True)
    (tmp_path / "memory/m/memory.oom_control").write_text(
        "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"
    )
    cg = Cgroups(tmp_path).state(["6:freezer:/job", "4:memory:/m", "0::/"])
    assert frozen(cg) == "/job/freezer.state: FROZEN"
    assert oom_kills(cg) == 3


def test_memory_counter_files_v1_and_v2(tmp_path: Path) -> None:
    (tmp_path / "memory/a/b").mkdir(parents=True)
    (tmp_path / "memory/a/b/memory.oom_control").write_text("oom_kill_disable 0\noom_kill 2\n")
    (tmp_path / "unified/job").mkdir(parents=True)
    (tmp_path / "unified/job/memory.events").write_text("oom 1\noom_kill 1\n")
    files = memory_counter_files(Cgroups(tmp_path), ["4:memory:/a/b", "6:freezer:/", "0::/job"])
    assert files == [
        tmp_path / "memory/a/b/memory.oom_control",
        tmp_path / "unified/job/memory.events",
    ]
    assert [oom_kill_count(f) for f in files] == [2, 1]
    assert memory_counter_files(Cgroups(tmp_path), ["4:memory:/gone"]) == []
    assert oom_kill_count(tmp_path / "nope") is None


def _proc(pid: int, ppid: int, state: str, wchan: str, stack: str = "") -> dict[str, object]:
    return {
        "pid": pid, "ppid": ppid, "comm": f"p{pid}", "cmdline": [f"/bin/p{pid}"],
        "state": state, "wchan": wchan, "stack": stack, "cgroup_state": {},
        "status": {"Name": f"p{pid}", "State": f"{state} (x)"},
    }  # fmt: skip


def test_state_d_names_vfork_child_or_filesystem() -> None:
    vfork = {"processes": [_proc(10, 1, "D", "kernel_clone"), _proc(11, 10, "S", "hrtimer")]}
    (f,) = state_findings(vfork)
    assert f.id == "uninterruptible-io" and "pid 10" in f.title and "kernel_clone" in f.title
    assert "vfork()" in f.detail and "pid 11" in f.detail
    nfs = {"processes": [_proc(20, 1, "D", "", "rpc_wait_bit_killable+0x1d/0x90\nnfs_read")]}
    (g,) = state_findings(nfs)
    assert "rpc_wait_bit_killable" in g.title and "NFS" in g.detail
    assert any("/proc/20/stack" in e.command for e in g.evidence)


def test_cgroup_v2_freeze_and_events(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("cpu memory\n")
    (tmp_path / "job").mkdir()
    (tmp_path / "job/cgroup.freeze").write_text("1\n")
    (tmp_path / "job/cgroup.events").write_text("populated 1\nfrozen 1\n")
    (tmp_path / "job/memory.events").write_text("low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\n")
    cg = Cgroups(tmp_path).state(["0::/job"])
    assert frozen(cg) == "/job/cgroup.events: frozen 1"
    assert oom_kills(cg) == 1


CORPUS = datapaths.CORPUS / "goroutines"
# A real SIGQUIT dump (a console capture: a runtime.Stack dump first, then `^\\SIGQUIT: quit`).
SIGQUIT_CAPTURE = CORPUS / "go-profiler-notes" / "runtime-stack.txt"
PANICS = sorted((CORPUS / "clusterfuzz").glob("golang_*panic*.txt"))
# A logger's `file.go:LINE (0xPC)` stack: neither a dump start nor goroutines.
LOGGER_STACK = (
    CORPUS / "clusterfuzz" / "golang_panic_runtime_error_slice_bounds_with_log_header.txt"
)


def test_dump_found_among_go_test_output() -> None:
    found, warnings = dumps.find("building...\n" + DUMP, "test")
    assert warnings == [] and len(found) == 1
    assert found[0].text.startswith("SIGQUIT: quit")
    doc = found[0].analysis
    assert doc["schema"] == "godiag.goroutines/v1" and doc["total"] == 2
    lock = next(g for g in doc["groups"] if g["state"] == "sync.Mutex.Lock")
    assert lock["category"] == "lock" and lock["wait_minutes"]["max"] == 3
    assert lock["user_frame"]["function"] == "example.com/app.TestDeadlock"
    assert lock["user_frame"]["line"] == 11
    assert lock["created_by"]["function"] == "testing.(*T).Run"


def test_real_sigquit_dump_is_read_like_the_parser_reads_it() -> None:
    """Only the SIGQUIT dump counts (not the earlier runtime.Stack text), and the run
    sees exactly what `godiag goroutines` would see in it."""
    from godiag.analysis.goroutines import analyze
    from godiag.formats.goroutines import parse

    text = SIGQUIT_CAPTURE.read_text()
    found, warnings = dumps.find(text + "exit status 2\nFAIL\tapp\t70.1s\n", "run")
    assert warnings == [] and len(found) == 1
    alone = text[text.index("SIGQUIT: quit") :]
    want = analyze(parse(alone.encode(), "run", strict=False), "run")
    assert found[0].analysis["total"] == want["total"] > 1
    assert found[0].analysis["groups"] == want["groups"]


def test_two_processes_dumping_on_one_stream_give_two_dumps() -> None:
    text = SIGQUIT_CAPTURE.read_text()
    alone = text[text.index("SIGQUIT: quit") :]
    found, _ = dumps.find(DUMP + alone, "run")
    assert [f.analysis["total"] for f in found] == [2, found[1].analysis["total"]]
    assert found[1].analysis["total"] > 1


@pytest.mark.parametrize("path", [p for p in PANICS if p != LOGGER_STACK], ids=lambda p: p.name)
def test_real_panics_are_read(path: Path) -> None:
    found, warnings = dumps.find(path.read_text(errors="replace"), "panic output")
    assert not warnings and found and found[0].analysis["total"] >= 1


def test_dump_the_parser_refuses_becomes_a_warning() -> None:
    """GOTRACEBACK=none: the panic line alone. A logger's stack is no dump at all."""
    found, warnings = dumps.find("panic: boom\n\nexit status 2\n", "panic output")
    assert found == []
    assert len(warnings) == 1 and "panic: boom" in warnings[0]
    assert "no goroutine dump found" in warnings[0]
    found, warnings = dumps.find(LOGGER_STACK.read_text(errors="replace"), "panic output")
    assert (found, warnings) == ([], [])


@given(st.text(max_size=300), st.integers(min_value=0, max_value=len(DUMP)))
def test_fuzz_dump_extraction(noise: str, cut: int) -> None:
    """Truncated or noisy dumps give analyses or warnings, never exceptions."""
    found, warnings = dumps.find(noise + "\n" + DUMP[:cut] + noise, "fuzz")
    for f in found:
        assert f.analysis["total"] >= 1
    assert all(isinstance(w, str) for w in warnings)


@pytest.mark.parametrize(
    ("argv", "sub", "output", "packages", "x"),
    [
        (["go", "build", "-o", "bin/x", "./cmd/x"], "build", "bin/x", ["./cmd/x"], False),
        (["go", "build", "-o=out", "-x", "."], "build", "out", ["."], True),
        (["go", "mod", "download", "-json"], "mod download", None, [], False),
        (["go", "run", ".", "-o", "arg"], "run", None, ["."], False),
        (["go", "test", "-run", "X", "./..."], "test", None, ["./..."], False),
        # -json is boolean: the pattern after it is a package, not its value
        (["go", "test", "-json", "./..."], "test", None, ["./..."], False),
        (["go", "vet", "-json", "./a", "./b"], "vet", None, ["./a", "./b"], False),
    ],
)
def test_goargs(
    argv: list[str], sub: str, output: str | None, packages: list[str], x: bool
) -> None:
    ga = goargs.parse(argv)
    assert (ga.sub, ga.output, ga.packages, ga.user_x) == (sub, output, packages, x)


def test_goargs_patterns_leave_out_test_flags_after_the_packages() -> None:
    ga = goargs.parse(["go", "test", "./a", "./b/...", "-run", "X", "-count=1", "-v", "./c"])
    assert ga.patterns() == ["./a", "./b/...", "./c"]
    assert goargs.parse(["go", "test"]).patterns() == []


def test_goargs_adds_x_after_subcommand() -> None:
    assert goargs.parse(["go", "mod", "download", "m@v"]).with_x() == [
        "go", "mod", "download", "-x", "m@v",
    ]  # fmt: skip
    assert goargs.parse(["go", "build"], goflags="-mod=mod -x").user_x


def test_x_filter_keeps_real_output() -> None:
    f = goargs.XFilter()
    lines = [
        ("WORK=/tmp/go-build1", True),
        ("mkdir -p $WORK/b001/", True),
        ("cat >/tmp/go-build1/b001/importcfg << 'EOF' # internal", True),
        ("# import config", True),
        ("packagefile fmt=/x.a", True),
        ("EOF", True),
        ("/usr/local/go/pkg/tool/linux_amd64/compile -o $WORK/b001/_pkg_.a", True),
        ("/tmp/go-build1/b001/exe/main", True),
        ("# get https://proxy.golang.org/x/@v/list", True),
        ("# example.com/app", False),
        ("./main.go:3:2: undefined: x", False),
        ("hello from the program", False),
    ]
    assert [f.is_x(text) for text, _ in lines] == [want for _, want in lines]


def _group(state: str, functions: list[str], user: str) -> dict[str, object]:
    """A dump group as the analysis gives it: frames innermost first, the user's marked."""
    frames = [
        {"function": f, "file": f"/src/{i}.go", "line": i, "stdlib": f != user}
        for i, f in enumerate(functions)
    ]
    uf = next(f for f in frames if f["function"] == user)
    return {"state": state, "category": "io", "count": 1, "frames": frames, "user_frame": uf}


@pytest.mark.parametrize(
    ("functions", "user", "what"),
    [
        # http.Get parks in a select inside the Transport
        (
            ["runtime.gopark", "runtime.selectgo", "net/http.(*persistConn).roundTrip",
             "net/http.(*Transport).roundTrip", "net/http.(*Client).Do", "net/http.Get",
             "app.Fetch", "app.TestFetch"],
            "app.Fetch", "an HTTP client call waiting for the server",
        ),
        (
            ["runtime.gopark", "runtime.netpollblock", "internal/poll.(*FD).Read",
             "net.(*netFD).Read", "net.(*conn).Read", "app.Greet"],
            "app.Greet", "a read or write on a network connection",
        ),
        (
            ["runtime.gopark", "runtime.netpollblock", "internal/poll.(*FD).Read",
             "net.(*netFD).Read", "net.(*conn).Read", "crypto/tls.(*Conn).readRecordOrCCS",
             "crypto/tls.(*Conn).Handshake", "app.Dial"],
            "app.Dial", "a TLS connection waiting for its peer",
        ),
        (
            ["runtime.gopark", "runtime.netpollblock", "internal/poll.(*FD).WaitWrite",
             "net.(*netFD).connect", "net.(*sysDialer).dialSerial", "net.(*Dialer).DialContext",
             "net.Dial", "app.Connect"],
            "app.Connect", "a dial",
        ),
        # a listener waiting is a server idling, not a call that needs a deadline
        (
            ["runtime.gopark", "runtime.netpollblock", "internal/poll.(*FD).Accept",
             "net.(*netFD).accept", "net.(*TCPListener).Accept", "app.Serve"],
            "app.Serve", None,
        ),
        # a pipe read goes through the poller too, but not through the net package
        (
            ["runtime.gopark", "runtime.netpollblock", "internal/poll.(*FD).Read",
             "os.(*File).Read", "app.ReadChild"],
            "app.ReadChild", None,
        ),
        # a handler blocked on a lock: net/http is its caller, not its wait
        (
            ["runtime.gopark", "sync.(*Mutex).Lock", "app.Handler",
             "net/http.HandlerFunc.ServeHTTP", "net/http.(*conn).serve"],
            "app.Handler", None,
        ),
    ],
)  # fmt: skip
def test_network_wait_reads_the_calls_inside_the_user_frame(
    functions: list[str], user: str, what: str | None
) -> None:
    assert network_wait(_group("IO wait", functions, user)) == what
