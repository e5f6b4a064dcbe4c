"""`godiag run` against the real go command, real processes and loopback servers.

Every "Supervised commands" finding id is reproduced here with the real cause: a
proxy that never answers, a deadlocked test, a lock held by another process, stopped
and frozen processes, signals, a real seccomp filter, a git server asking for
credentials, a proxy serving other bits than go.sum records.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import http.server
import io
import json
import os
import socket
import subprocess
import sys
import termios
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from godiag.report import render
from godiag.schemas import validate
from tests.gohelpers import hermetic_go_env

pytestmark = pytest.mark.integration

HERE = Path(__file__).resolve().parent


# -- helpers ---------------------------------------------------------------------------


def write_module(root: Path, files: dict[str, str], path: str = "example.com/app") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "go.mod").write_text(f"module {path}\n\ngo 1.22\n")
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def go_env(tmp: Path, **over: str) -> dict[str, str]:
    return hermetic_go_env(
        GOMODCACHE=str(tmp / "modcache"), GOFLAGS="-buildvcs=false -modcacherw", **over
    )


def godiag(
    args: list[str], cwd: Path, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "godiag", "run", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def run_json(
    args: list[str], cwd: Path, env: dict[str, str], timeout: float = 120
) -> tuple[dict[str, Any], subprocess.CompletedProcess[bytes]]:
    res = godiag(["--format", "json", *args], cwd, env, timeout)
    assert res.stdout, res.stderr.decode()[-3000:]
    doc = json.loads(res.stdout)
    validate(doc)
    assert "godiag run:" in str(render(doc, "text"))  # the terminal view handles it too
    return doc, res


def ids(doc: dict[str, Any]) -> list[str]:
    return [f["id"] for f in doc["findings"]]


def finding(doc: dict[str, Any], fid: str) -> dict[str, Any]:
    for f in doc["findings"]:
        if f["id"] == fid:
            return f
    raise AssertionError(f"no {fid} finding in {ids(doc)}: {json.dumps(doc['findings'])[:2000]}")


def evidence_text(f: dict[str, Any]) -> str:
    return "\n".join(f"{e['command']}: {e['output']}" for e in f["evidence"]) + f["title"]


class Server:
    """A loopback HTTP server in a thread (stopped at test end)."""

    def __init__(self, handler: type[http.server.BaseHTTPRequestHandler]) -> None:
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def servers() -> Iterator[list[Any]]:
    started: list[Any] = []
    yield started
    for s in started:
        s.close()


def h1(files: dict[str, bytes]) -> str:
    """The go.sum `h1:` hash (dirhash.Hash1) of named file contents."""
    summary = "".join(
        f"{hashlib.sha256(files[n]).hexdigest()}  {n}\n" for n in sorted(files)
    ).encode()
    return "h1:" + base64.b64encode(hashlib.sha256(summary).digest()).decode()


def proxy_tree(root: Path, mod: str, ver: str, code: str) -> dict[str, str]:
    """Write a GOPROXY directory for one module version; return its real hashes."""
    base = root / mod / "@v"
    base.mkdir(parents=True)
    gomod = f"module {mod}\n\ngo 1.22\n".encode()
    files = {"go.mod": gomod, "dep.go": code.encode()}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(f"{mod}@{ver}/{name}", data)
    (base / f"{ver}.zip").write_bytes(buf.getvalue())
    (base / f"{ver}.mod").write_bytes(gomod)
    (base / f"{ver}.info").write_text(json.dumps({"Version": ver, "Time": "2024-01-01T00:00:00Z"}))
    (base / "list").write_text(ver + "\n")
    return {
        "zip": h1({f"{mod}@{ver}/{n}": d for n, d in files.items()}),
        "mod": h1({"go.mod": gomod}),
    }


def file_proxy(root: Path) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a: Any, **kw: Any) -> None:
            super().__init__(*a, directory=str(root), **kw)

        def log_message(self, *a: Any) -> None:
            pass

    return Handler


class SilentProxy:
    """Accepts connections and never answers (a wedged proxy or firewall)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.conns: list[socket.socket] = []
        self.stop = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self) -> None:
        while not self.stop:
            with contextlib.suppress(OSError):
                self.conns.append(self.sock.accept()[0])

    def close(self) -> None:
        self.stop = True
        self.thread.join(2)
        for c in [*self.conns, self.sock]:
            c.close()


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


# -- hangs -----------------------------------------------------------------------------


def test_proxy_that_never_answers_is_named(tmp_path: Path, servers: list[Any]) -> None:
    proxy = SilentProxy()
    servers.append(proxy)
    mod = write_module(tmp_path / "app", {"main.go": "package main\nfunc main(){}\n"})
    (mod / "go.mod").write_text(
        "module example.com/app\n\ngo 1.22\n\nrequire example.com/dep v1.0.0\n"
    )
    env = go_env(tmp_path, GOPROXY=proxy.url)
    doc, res = run_json(["--stall", "2s", "--", "go", "mod", "download"], mod, env)
    assert res.returncode == 1
    assert doc["exit"]["ended_by"] == "stall"
    f = finding(doc, "stalled-network-fetch")
    assert f"{proxy.url}/example.com/dep/@v/v1.0.0.mod" in f["title"]
    # measured from the `# get` line, after which nothing happened for --stall
    waited = float(f["detail"].split("got no answer in ")[1].split("s.")[0])
    assert waited >= 2.0
    text = evidence_text(f)
    assert "ESTABLISHED" in text  # the open connection to the proxy, from /proc/net/tcp
    assert "net/http" in text  # the go command's own dump shows it waiting on the response
    assert doc["dumps"] and doc["dumps"][0]["analysis"]["total"] > 1
    # -x was added by godiag and its lines are not echoed.
    assert doc["x_added"] is True
    assert b"# get " not in res.stderr


def test_deadlocked_test_binary_dump_names_frame(tmp_path: Path) -> None:
    mod = write_module(
        tmp_path / "app",
        {
            "lock.go": "package app\n",
            "lock_test.go": (
                'package app\n\nimport (\n\t"sync"\n\t"testing"\n)\n\n'
                "func TestDeadlock(t *testing.T) {\n\tvar mu sync.Mutex\n\tmu.Lock()\n"
                "\tmu.Lock()\n}\n"
            ),
        },
    )
    doc, res = run_json(["--stall", "2s", "--", "go", "test", "."], mod, go_env(tmp_path))
    assert res.returncode == 1
    f = finding(doc, "blocked-in-go-code")
    assert "TestDeadlock" in f["title"] or "TestDeadlock" in f["detail"]
    assert "sync.Mutex.Lock" in f["title"] or "Mutex" in evidence_text(f)
    # the go command ignores SIGQUIT in test mode: the test binary was signalled.
    signalled = [e for e in doc["timeline"] if e["event"] == "signal" and e["detail"] == "SIGQUIT"]
    assert signalled and all(e["comm"] != "go" for e in signalled)
    assert any(d["reason"] == "SIGQUIT" for d in doc["dumps"])


TICKER_DEADLOCK = {
    "bank.go": """package bank

import (
	"sync"
	"time"
)

var work int

// Background ticks every 10 ms and computes a little each time, like a metrics flusher
// beside the real work: the process never stops using CPU.
func Background(stop chan struct{}) {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			for i := 0; i < 20000; i++ {
				work += i
			}
		case <-stop:
			return
		}
	}
}

func Transfer(from, to *sync.Mutex, done *sync.WaitGroup) {
	defer done.Done()
	from.Lock()
	time.Sleep(50 * time.Millisecond)
	to.Lock() // the other Transfer holds it and waits for ours
	to.Unlock()
	from.Unlock()
}
""",
    "bank_test.go": """package bank

import (
	"sync"
	"testing"
)

func TestTransfers(t *testing.T) {
	stop := make(chan struct{})
	go Background(stop)
	var a, b sync.Mutex
	var wg sync.WaitGroup
	wg.Add(2)
	go Transfer(&a, &b, &wg)
	go Transfer(&b, &a, &wg)
	wg.Wait()
	close(stop)
}
""",
}


def test_deadlock_beside_a_busy_ticker_is_a_stall(tmp_path: Path) -> None:
    """The ticker keeps the test binary on the CPU every 10 ms; the stall is still
    declared (before, only go test's own 10-minute timeout ended it). --timeout is a
    backstop so that a regression fails here instead of hanging."""
    mod = write_module(tmp_path / "bank", TICKER_DEADLOCK, "example.com/bank")
    doc, res = run_json(
        ["--stall", "3s", "--timeout", "90s", "--", "go", "test", "-count=1", "."],
        mod, go_env(tmp_path),
    )  # fmt: skip
    assert res.returncode == 1
    assert doc["exit"]["ended_by"] == "stall"
    f = finding(doc, "blocked-in-go-code")
    text = evidence_text(f)
    assert "example.com/bank.Transfer" in f["title"]
    # both sides of the cycle, at the line of the second Lock
    assert text.count("example.com/bank.Transfer\n") == 2 and "bank.go:31" in text
    assert "runtime.gopark" not in text and "_testmain.go" not in text
    # the dump godiag asked for is evidence: in the document, not in the user's output
    assert any("SIGQUIT: quit" in d["text"] for d in doc["dumps"])
    assert b"SIGQUIT: quit" not in res.stderr and b"goroutine 1 " not in res.stderr
    assert doc["withheld_output_bytes"] > 0


def test_go_test_timeout_names_the_stuck_code_not_the_harness(tmp_path: Path) -> None:
    mod = write_module(tmp_path / "bank", TICKER_DEADLOCK, "example.com/bank")
    doc, res = run_json(
        ["--", "go", "test", "-count=1", "-timeout", "3s", "."], mod, go_env(tmp_path)
    )
    assert res.returncode == 1
    f = finding(doc, "go-panic")
    assert f["title"] == "test timed out after 3s"
    assert "example.com/bank.Transfer" in f["detail"] and "_testmain.go" not in f["detail"]
    assert "runtime.gopark" not in evidence_text(f)
    # no --timeout given: godiag's own default applies and the document says so
    assert doc["timeout_s"] == 3600 and doc["timeout_default"] is True


def test_go_test_timeout_is_a_parsed_panic(tmp_path: Path) -> None:
    mod = write_module(
        tmp_path / "app",
        {
            "a.go": "package app\n",
            "a_test.go": (
                'package app\n\nimport (\n\t"testing"\n\t"time"\n)\n\n'
                "func TestSlow(t *testing.T) { time.Sleep(time.Hour) }\n"
            ),
        },
    )
    doc, res = run_json(
        ["--stall", "30s", "--", "go", "test", "-timeout", "2s", "."], mod, go_env(tmp_path)
    )
    assert res.returncode == 1
    assert doc["exit"]["ended_by"] == "exit"
    f = finding(doc, "go-panic")
    assert f["title"] == "test timed out after 2s"
    assert "TestSlow" in evidence_text(f)


NETWORK_WAITS = {
    # http.Get through the default client (no timeout) to a server that accepts and never
    # answers: the caller parks in a select inside the Transport, not in IO wait.
    "http": (
        'package app\n\nimport "net/http"\n\n'
        "func Fetch(url string) (int, error) {\n"
        "\tresp, err := http.Get(url)\n"
        "\tif err != nil {\n\t\treturn 0, err\n\t}\n"
        "\tresp.Body.Close()\n\treturn resp.StatusCode, nil\n}\n",
        "fmt.Sprint(Fetch(addr))",
        "an HTTP client call",
    ),
    # a raw read in a goroutine while the test waits on a channel for its result: the
    # network wait is the root, the channel receive only waits for it
    "read": (
        'package app\n\nimport "net"\n\n'
        "func Greeting(addr string) chan string {\n"
        "\tdone := make(chan string)\n"
        "\tgo func() {\n"
        '\t\tc, err := net.Dial("tcp", addr)\n'
        "\t\tif err != nil {\n\t\t\tdone <- err.Error()\n\t\t\treturn\n\t\t}\n"
        "\t\tbuf := make([]byte, 16)\n"
        "\t\tn, _ := c.Read(buf)\n"
        "\t\tdone <- string(buf[:n])\n"
        "\t}()\n"
        "\treturn done\n}\n",
        '<-Greeting(addr[len("http://"):])',
        "a read or write on a network connection",
    ),
}
SILENT_SERVER_TEST = """package app

import (
	"fmt"
	"net"
	"testing"
)

var _ = fmt.Sprint

func TestCall(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c) // accepted, never answered
		}
	}()
	addr := "http://" + ln.Addr().String()
	_ = CALL
}
"""


@pytest.mark.parametrize("case", sorted(NETWORK_WAITS))
def test_hang_in_a_network_call_says_so_at_the_callers_line(tmp_path: Path, case: str) -> None:
    """A test stuck on a peer that never answers was advised as a lock/channel cycle; the
    advice is now a deadline, at the user's line that made the call (the listener's
    Accept beside it is a server idling, not the answer)."""
    code, call, what = NETWORK_WAITS[case]
    mod = write_module(
        tmp_path / "app",
        {"call.go": code, "call_test.go": SILENT_SERVER_TEST.replace("CALL", call)},
    )
    doc, res = run_json(
        ["--stall", "3s", "--timeout", "90s", "--", "go", "test", "-count=1", "."],
        mod, go_env(tmp_path),
    )  # fmt: skip
    assert res.returncode == 1 and doc["exit"]["ended_by"] == "stall"
    f = finding(doc, "blocked-in-go-code")
    assert f["title"].startswith("waiting on the network in example.com/app.")
    assert what in f["title"]
    line = 6 if case == "http" else 14  # http.Get / c.Read in call.go
    assert f["location"]["file"].endswith("call.go") and f["location"]["line"] == line
    assert f"call.go:{line}" in evidence_text(f)
    assert "Timeout" in f["fix"] and "SetReadDeadline" in f["fix"]
    assert "lock holder" not in f["fix"] and "Accept" not in f["title"]


def test_go_test_timeout_in_a_network_call_asks_for_a_deadline(tmp_path: Path) -> None:
    """go test's own -timeout on the same hang: 'raise -timeout' was the advice; the read
    goroutine is named before the test waiting on its channel."""
    code, call, what = NETWORK_WAITS["read"]
    mod = write_module(
        tmp_path / "app",
        {"call.go": code, "call_test.go": SILENT_SERVER_TEST.replace("CALL", call)},
    )
    doc, res = run_json(
        ["--", "go", "test", "-count=1", "-timeout", "3s", "."], mod, go_env(tmp_path)
    )
    assert res.returncode == 1
    f = finding(doc, "go-panic")
    assert f["title"] == "test timed out after 3s"
    assert f"waiting on the network ({what})" in f["detail"] and "call.go:14" in f["detail"]
    assert "SetReadDeadline" in f["fix"] and "Raise -timeout" not in f["fix"]


def test_lock_held_by_another_process(tmp_path: Path, servers: list[Any]) -> None:
    proxy_dir = tmp_path / "proxy"
    proxy_tree(proxy_dir, "example.com/dep", "v1.0.0", "package dep\n")
    srv = Server(file_proxy(proxy_dir))
    servers.append(srv)
    mod = write_module(tmp_path / "app", {"main.go": "package main\nfunc main(){}\n"})
    lockfile = tmp_path / "modcache/cache/download/example.com/dep/@v/v1.0.0.lock"
    lockfile.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl,sys,time\nf=open(sys.argv[1],'w')\nfcntl.flock(f,fcntl.LOCK_EX)\n"
            "print('locked',flush=True)\ntime.sleep(120)\n",
            str(lockfile),
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"locked\n"
        env = go_env(tmp_path, GOPROXY=srv.url)
        doc, res = run_json(
            ["--stall", "2s", "--", "go", "mod", "download", "example.com/dep@v1.0.0"], mod, env
        )
    finally:
        holder.kill()
        holder.wait()
    assert res.returncode == 1
    f = finding(doc, "file-lock-wait")
    assert str(lockfile) in f["title"]
    assert f"held by pid {holder.pid}" in f["title"]
    assert "syscall.Flock" in evidence_text(f)


STOPPER = """package main

import (
	"fmt"
	"os"
	"syscall"
)

// A Go program that stops itself does not always stay stopped: under a parent that
// waits for it (go run, a Go program, bash) about 1 run in 40 to 80 went on at once on a
// loaded 2-core machine, then exited 0, and godiag rightly reported success. So it stops
// again until it is ended (godiag's SIGTERM, or SIGKILL once it is stopped again).
func main() {
	fmt.Println("stopping", os.Getpid())
	for {
		syscall.Kill(os.Getpid(), syscall.SIGSTOP)
		fmt.Println("continued")
	}
}
"""


def test_stopped_process_in_tree(tmp_path: Path) -> None:
    mod = write_module(tmp_path / "app", {"main.go": STOPPER})
    doc, res = run_json(["--stall", "2s", "--", "go", "run", "."], mod, go_env(tmp_path))
    assert res.returncode == 1
    f = finding(doc, "process-stopped")
    assert "State T" in f["title"]
    assert "State:\tT (stopped)" in evidence_text(f)
    pid = int(res.stderr.split(b"stopping ")[1].split()[0])
    assert not alive(pid)


def build_c(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    out = tmp_path_factory.mktemp(name) / name
    try:
        subprocess.run(
            ["gcc", "-O", "-o", str(out), str(HERE / "data" / f"{name}.c")],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"no C compiler to build {name}: {exc}")
    return out


@pytest.fixture(scope="session")
def vfork_launcher(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_c(tmp_path_factory, "vfork_launcher")


def test_process_in_state_d(tmp_path: Path, vfork_launcher: Path) -> None:
    code = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("started") }\n'
    mod = write_module(tmp_path / "app", {"main.go": code})
    doc, res = run_json(
        ["--stall", "2s", "--", "go", "run", "-exec", str(vfork_launcher), "."],
        mod, go_env(tmp_path),
    )  # fmt: skip
    assert res.returncode == 1 and doc["exit"]["ended_by"] == "stall"
    parent = int(res.stderr.split(b"vfork parent ")[1].split()[0])
    procs = {p["pid"]: p for p in doc["snapshots"][0]["processes"]}
    assert procs[parent]["state"] == "D"  # what /proc/PID/stat said while it hung
    child = next(p for p in procs.values() if p["ppid"] == parent)
    f = finding(doc, "uninterruptible-io")
    assert f"pid {parent}" in f["title"] and "State D" in f["title"]
    text = evidence_text(f)
    assert "State:\tD" in text and f"/proc/{parent}/wchan" in text
    assert procs[parent]["wchan"] and procs[parent]["wchan"] in text
    assert "vfork()" in f["detail"] and f"pid {child['pid']}" in f["detail"]
    assert not alive(parent) and not alive(child["pid"])


SPINNER = """package main

import (
	"os"
	"strconv"
)

func main() {
	os.WriteFile(os.Args[1], []byte(strconv.Itoa(os.Getpid())), 0o644)
	n := 0
	for {
		n++
	}
}
"""


def test_frozen_cgroup(tmp_path: Path) -> None:
    freezer = Path("/sys/fs/cgroup/freezer")
    cg = freezer / f"godiag-test-{os.getpid()}"
    try:
        cg.mkdir()
    except OSError as exc:
        pytest.skip(f"cannot create a v1 freezer cgroup here: {exc}")
    mod = write_module(tmp_path / "app", {"main.go": SPINNER})
    pidfile = tmp_path / "pid"
    proc = subprocess.Popen(
        [sys.executable, "-m", "godiag", "run", "--stall", "2s", "--format", "json",
         "--", "go", "run", ".", str(pidfile)],
        cwd=mod, env=go_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not pidfile.exists() or not pidfile.read_text():
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.1)
        pid = int(pidfile.read_text())
        (cg / "cgroup.procs").write_text(str(pid))
        (cg / "freezer.state").write_text("FROZEN")
        out, _err = proc.communicate(timeout=60)
    finally:
        with contextlib.suppress(OSError):
            (cg / "freezer.state").write_text("THAWED")
        if proc.poll() is None:
            proc.kill()
        for _ in range(50):
            with contextlib.suppress(OSError):
                cg.rmdir()
                break
            time.sleep(0.1)
    doc = json.loads(out)
    validate(doc)
    assert proc.returncode == 1
    f = finding(doc, "process-stopped")
    assert "frozen cgroup" in f["title"] and f"pid {pid}" in f["title"]
    assert "freezer.state: FROZEN" in evidence_text(f)
    assert doc["thawed_cgroups"]  # godiag had to thaw it to end the tree
    assert not alive(pid)


# -- exits -----------------------------------------------------------------------------


def test_program_killed_by_sigkill(tmp_path: Path) -> None:
    code = (
        'package main\n\nimport (\n\t"os"\n\t"syscall"\n)\n\n'
        "func main() { syscall.Kill(os.Getpid(), syscall.SIGKILL) }\n"
    )
    mod = write_module(tmp_path / "app", {"main.go": code})
    doc, res = run_json(["--", "go", "run", "."], mod, go_env(tmp_path))
    assert res.returncode == 1
    assert doc["exit"]["child_signal"] == "SIGKILL"
    assert "SIGKILL" in finding(doc, "killed-by-signal")["title"]


HOG = """package main

import (
	"fmt"
	"os"
	"time"
)

// Grows by 2 MiB every 50 ms (pages touched) until the memory cgroup's limit is hit.
func main() {
	fmt.Fprintln(os.Stderr, "hog", os.Getpid())
	var keep [][]byte
	for i := 0; i < 400; i++ {
		b := make([]byte, 2<<20)
		for j := range b {
			b[j] = byte(j)
		}
		keep = append(keep, b)
		time.Sleep(50 * time.Millisecond)
	}
	fmt.Println("never killed", len(keep))
}
"""


@pytest.fixture
def memory_cgroup() -> Iterator[Path]:
    """A child of our own v1 memory cgroup limited to 64 MiB (memory+swap), removed after."""
    root = Path("/sys/fs/cgroup/memory")
    own = next(
        (ln.split(":", 2)[2] for ln in Path("/proc/self/cgroup").read_text().splitlines()
         if "memory" in ln.split(":")[1].split(",")),
        None,
    )  # fmt: skip
    if own is None or not (root / "memory.oom_control").exists():
        pytest.skip("no cgroup v1 memory hierarchy at /sys/fs/cgroup/memory")
    cg = root / own.lstrip("/") / f"godiag-oom-{os.getpid()}"
    try:
        cg.mkdir()
    except OSError as exc:
        pytest.skip(f"cannot create a v1 memory cgroup at {cg}: {exc}")
    try:
        limit = str(64 << 20)
        (cg / "memory.limit_in_bytes").write_text(limit)
        if (cg / "memory.memsw.limit_in_bytes").exists():
            (cg / "memory.memsw.limit_in_bytes").write_text(limit)  # no escape to swap
    except OSError as exc:
        cg.rmdir()
        pytest.skip(f"cannot set a memory limit on {cg}: {exc}")
    yield cg
    for _ in range(50):  # the killed process may take a moment to leave the cgroup
        with contextlib.suppress(OSError):
            cg.rmdir()
            break
        time.sleep(0.1)
    assert not cg.exists(), f"could not remove {cg}"


def test_oom_kill_in_a_memory_cgroup(tmp_path: Path, memory_cgroup: Path) -> None:
    launcher = tmp_path / "in-cgroup"
    launcher.write_text(f'#!/bin/sh\necho $$ > {memory_cgroup}/cgroup.procs && exec "$@"\n')
    launcher.chmod(0o755)
    mod = write_module(tmp_path / "app", {"main.go": HOG})
    doc, res = run_json(
        ["--", "go", "run", "-exec", str(launcher), "."], mod, go_env(tmp_path), timeout=180
    )
    assert res.returncode == 1
    assert doc["exit"]["child_signal"] == "SIGKILL"
    hog = int(res.stderr.split(b"hog ")[1].split()[0])
    f = finding(doc, "killed-by-signal")
    assert "out of memory" in f["title"]
    counter = f"{memory_cgroup}/memory.oom_control"
    assert counter in f["detail"]
    assert f"grep oom_kill {counter}: oom_kill 0 -> 1" in evidence_text(f)
    assert f"pid {hog}" in evidence_text(f)
    cgs = {c["file"]: c for c in doc["memory_cgroups"]}
    assert hog in cgs[counter]["pids"] and cgs[counter]["oom_kill_after"] == 1
    assert not alive(hog)


SEGV = """package main

import (
	"os"
	"syscall"
	"unsafe"
)

// The Go runtime turns SIGSEGV into a panic; restore the default action with a raw
// rt_sigaction so the process really dies from the signal.
func main() {
	var act [4]uint64 // handler SIG_DFL, flags, restorer, mask
	syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(syscall.SIGSEGV),
		uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0)
	syscall.Kill(os.Getpid(), syscall.SIGSEGV)
	select {}
}
"""


def test_program_killed_by_sigsegv(tmp_path: Path) -> None:
    mod = write_module(tmp_path / "app", {"main.go": SEGV})
    doc, res = run_json(["--stall", "20s", "--", "go", "run", "."], mod, go_env(tmp_path))
    assert res.returncode == 1
    assert doc["exit"]["child_signal"] == "SIGSEGV"
    assert "SIGSEGV" in finding(doc, "killed-by-signal")["title"]
    assert "go-panic" not in ids(doc)


def test_exit_from_init(tmp_path: Path) -> None:
    code = 'package main\n\nimport "os"\n\nfunc init() { os.Exit(3) }\n\nfunc main() {}\n'
    mod = write_module(tmp_path / "app", {"main.go": code})
    doc, res = run_json(["--", "go", "run", "."], mod, go_env(tmp_path))
    assert res.returncode == 1
    assert doc["exit"]["code"] == 1 and doc["exit"]["child_exit_status"] == 3
    assert doc["exit"]["child_signal"] is None
    assert not {"killed-by-signal", "go-panic"} & set(ids(doc))


@pytest.fixture(scope="session")
def seccomp_launcher(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_c(tmp_path_factory, "seccomp_launcher")


@pytest.mark.parametrize("mode", ["eperm", "kill"])
def test_seccomp_filter_refusing_threads(tmp_path: Path, seccomp_launcher: Path, mode: str) -> None:
    code = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("started") }\n'
    mod = write_module(tmp_path / "app", {"main.go": code})
    doc, res = run_json(
        ["--", "go", "run", "-exec", f"{seccomp_launcher} {mode}", "."], mod, go_env(tmp_path)
    )
    assert res.returncode == 1
    f = finding(doc, "seccomp-filtered")
    if mode == "kill":
        assert doc["exit"]["child_signal"] == "SIGSYS"
        assert "SIGSYS" in f["title"]
    else:
        assert "EPERM" in f["title"]
        assert "errno=1" in evidence_text(f)
    assert "go-panic" not in ids(doc)


# -- postconditions --------------------------------------------------------------------


def test_build_output_path_not_writable(tmp_path: Path) -> None:
    mod = write_module(tmp_path / "app", {"main.go": "package main\nfunc main(){}\n"})
    (mod / "notadir").write_text("a regular file")
    target = mod / "notadir" / "app"
    doc, res = run_json(["--", "go", "build", "-o", str(target), "."], mod, go_env(tmp_path))
    assert res.returncode == 1
    f = finding(doc, "postcondition-failed")
    assert str(target) in f["title"] and "not created" in f["title"]


def test_build_succeeds_without_expected_file(tmp_path: Path) -> None:
    mod = write_module(tmp_path / "app", {"lib/lib.go": "package lib\n\nfunc F() {}\n"})
    expected = mod / "bin" / "lib"
    doc, res = run_json(
        ["--expect-output", str(expected), "--", "go", "build", "./lib"], mod, go_env(tmp_path)
    )
    assert doc["exit"]["code"] == 0
    assert res.returncode == 1  # the command "worked" but did not do its job
    assert str(expected) in finding(doc, "postcondition-failed")["title"]


def test_build_that_does_its_job_passes_and_streams_unchanged(tmp_path: Path) -> None:
    code = (
        'package main\n\nimport (\n\t"fmt"\n\t"os"\n)\n\n'
        'func main() { fmt.Print("out-1\\nout-2 no newline"); '
        'fmt.Fprint(os.Stderr, "err line\\n") }\n'
    )
    mod = write_module(tmp_path / "app", {"main.go": code})
    res = godiag(["--", "go", "run", "."], mod, go_env(tmp_path))
    assert res.returncode == 0, res.stderr
    assert res.stdout == b"out-1\nout-2 no newline"  # byte for byte, no report on stdout
    assert b"err line\n" in res.stderr
    assert b"WORK=" not in res.stderr and b"compile" not in res.stderr
    # JSON mode: stdout carries only the document, the program's stdout goes to stderr.
    doc, res2 = run_json(["--", "go", "run", "."], mod, go_env(tmp_path))
    assert res2.returncode == 0 and doc["findings"] == [] and not doc["failed"]
    assert b"out-1\nout-2 no newline" in res2.stderr
    # The user's own -x is kept.
    res3 = godiag(
        ["--", "go", "build", "-x", "-o", str(tmp_path / "bin"), "."], mod, go_env(tmp_path)
    )
    assert res3.returncode == 0 and b"WORK=" in res3.stderr


def test_install_into_gobin_that_is_a_file(tmp_path: Path) -> None:
    mod = write_module(tmp_path / "app", {"main.go": "package main\nfunc main(){}\n"})
    gobin = tmp_path / "gobin"
    gobin.write_text("a regular file, not a directory")
    env = go_env(tmp_path, GOBIN=str(gobin), GOPATH=str(tmp_path / "gopath"))
    doc, res = run_json(["--", "go", "install", "."], mod, env)
    assert res.returncode == 1 and doc["exit"]["code"] == 1
    f = finding(doc, "postcondition-failed")
    assert f["title"] == f"go install did not update {gobin}/app"
    assert f"{gobin} is not a directory" in f["detail"]
    assert gobin.read_text() == "a regular file, not a directory"


def test_install_that_lands_elsewhere_than_expected(tmp_path: Path) -> None:
    mod = write_module(tmp_path / "app", {"main.go": "package main\nfunc main(){}\n"})
    gopath, other = tmp_path / "gopath", tmp_path / "other-bin"
    env = go_env(tmp_path, GOBIN=str(other), GOPATH=str(gopath))
    expected = gopath / "bin" / "app"  # where it goes when GOBIN is not set
    doc, res = run_json(["--expect-output", str(expected), "--", "go", "install", "."], mod, env)
    assert doc["exit"]["code"] == 0 and res.returncode == 1
    assert (other / "app").is_file() and not expected.exists()
    f = finding(doc, "postcondition-failed")
    assert str(expected) in f["title"] and "not created" in f["title"]
    assert f"go install puts the binary at {other}/app" in f["detail"]
    assert f"GOBIN={other}" in f["detail"]
    assert f"go list -f {{{{.Target}}}}: {other}/app" in evidence_text(f)


def test_install_that_does_its_job_has_no_finding(tmp_path: Path) -> None:
    mod = write_module(tmp_path / "app", {"main.go": "package main\nfunc main(){}\n"})
    gopath = tmp_path / "gopath"
    env = go_env(tmp_path, GOBIN="", GOPATH=str(gopath))
    for _ in range(2):  # the second install finds the binary up to date
        doc, res = run_json(
            ["--expect-output", str(gopath / "bin" / "app"), "--", "go", "install", "."], mod, env
        )
        assert res.returncode == 0 and doc["exit"]["code"] == 0, doc["findings"]
        assert doc["findings"] == [] and not doc["failed"]
    assert (gopath / "bin" / "app").is_file()


def test_test_run_without_tests_is_surfaced(tmp_path: Path) -> None:
    mod = write_module(
        tmp_path / "app",
        {"a.go": "package app\n", "a_test.go": "package app\n\nimport \"testing\"\n\n"
         "func TestA(t *testing.T) {}\n", "empty/e.go": "package empty\n"},
    )  # fmt: skip
    args = ["--", "go", "test", "-run", "Nope", ".", "./empty"]
    doc, res = run_json(args, mod, go_env(tmp_path))
    assert doc["exit"]["code"] == 0
    titles = [f["title"] for f in doc["findings"] if f["id"] == "postcondition-failed"]
    assert any("example.com/app/empty has no test files" in t for t in titles)
    assert any("example.com/app: no tests ran (the -run/-skip pattern" in t for t in titles)
    assert res.returncode == 0  # warnings only: the command did run


BENCH_ONLY = (
    'package bench\n\nimport "testing"\n\nfunc BenchmarkB(b *testing.B) {}\n'
)  # fmt: skip


def test_wildcard_packages_without_tests_are_expected(tmp_path: Path) -> None:
    """`go test ./...` takes in packages without test files or with benchmarks only:
    no warning for them (every `./...` of a real module drew one per such package),
    while the same packages named one by one keep theirs."""
    mod = write_module(
        tmp_path / "app",
        {"a.go": "package app\n", "a_test.go": "package app\n\nimport \"testing\"\n\n"
         "func TestA(t *testing.T) {}\n", "empty/e.go": "package empty\n",
         "bench/b.go": "package bench\n", "bench/b_test.go": BENCH_ONLY},
    )  # fmt: skip
    doc, res = run_json(["--", "go", "test", "./..."], mod, go_env(tmp_path))
    assert res.returncode == 0 and doc["findings"] == []
    doc, res = run_json(["--", "go", "test", "./...", "./bench"], mod, go_env(tmp_path))
    titles = [f["title"] for f in doc["findings"]]
    assert titles == ["example.com/app/bench has test files but no tests to run"]
    assert res.returncode == 0


TEST_MAINS = {
    # passes without running anything: os.Exit(0) before m.Run, or no m.Run at all
    "exits/a_test.go": 'package exits\n\nimport (\n\t"os"\n\t"testing"\n)\n\n'
    "func TestMain(m *testing.M) {\n\tos.Exit(0)\n\tos.Exit(m.Run())\n}\n\n"
    'func TestFails(t *testing.T) { t.Fatal("never runs") }\n'
    "func TestOther(t *testing.T) {}\n",
    "returns/a_test.go": 'package returns\n\nimport "testing"\n\n'
    "func TestMain(m *testing.M) {}\n\n"
    'func TestFails(t *testing.T) { t.Fatal("never runs") }\n',
    # runs its tests unless SKIP_ALL is set: only the output can tell which happened
    "maybe/a_test.go": 'package maybe\n\nimport (\n\t"os"\n\t"testing"\n)\n\n'
    'func TestMain(m *testing.M) {\n\tif os.Getenv("SKIP_ALL") != "" {\n\t\tos.Exit(0)\n\t}\n'
    "\tos.Exit(m.Run())\n}\n\n"
    "func TestMaybe(t *testing.T) {}\n",
    # the test binary re-run as a helper process by its own tests (x/tools' cmd/stringer):
    # the early exit is the child's branch, which this run's environment does not take
    "helper/a_test.go": 'package helper\n\nimport (\n\t"os"\n\t"testing"\n)\n\n'
    'func TestMain(m *testing.M) {\n\tif os.Getenv("APP_TEST_IS_HELPER") != "" {\n'
    '\t\tos.Exit(0)\n\t}\n\tos.Setenv("APP_TEST_IS_HELPER", "1")\n'
    "\tos.Exit(m.Run())\n}\n\n"
    "func TestHelper(t *testing.T) {}\n",
    # ordinary packages: go test's generated TestMain, and one with a proper TestMain
    "plain/a_test.go": 'package plain\n\nimport "testing"\n\nfunc TestPlain(t *testing.T) {}\n',
    "setup/a_test.go": 'package setup\n\nimport (\n\t"os"\n\t"testing"\n)\n\n'
    "func TestMain(m *testing.M) {\n\tcode := m.Run()\n\tos.Exit(code)\n}\n\n"
    "func TestSetup(t *testing.T) {}\n",
    "nofiles/n.go": "package nofiles\n",
}


def unrun(doc: dict[str, Any]) -> dict[str, str]:
    """Package -> severity of the 'tests did not run' findings."""
    out = {}
    for f in doc["findings"]:
        title = f["title"]
        ours = f["id"] == "postcondition-failed" and "example.com/app/" in title
        # the -run pattern's own warning (it matched none) is not a package's claim
        if ours and "no test files" not in title and "pattern matched none" not in title:
            out[title.split("example.com/app/")[1].split()[0]] = f["severity"]
    return out


@pytest.mark.parametrize("mode", ["default", "-v", "-json"])
def test_package_that_passes_without_running_its_tests(tmp_path: Path, mode: str) -> None:
    """go test prints `ok` for a test binary that exits 0 before m.Run; godiag said ok."""
    mod = write_module(tmp_path / "app", TEST_MAINS)
    flags = [] if mode == "default" else [mode]
    env = go_env(tmp_path, SKIP_ALL="1")
    doc, res = run_json(["--", "go", "test", "-count=1", *flags, "./..."], mod, env)
    assert doc["exit"]["code"] == 0 and res.returncode == 1 and doc["failed"]
    found = unrun(doc)
    if mode == "default":
        # the output cannot show it: what TestMain does decides, and 'maybe' is not sure
        assert found == {"exits": "error", "returns": "error", "maybe": "warning"}
    else:
        # -v and -json list the tests that ran: none did in all three
        assert found == {"exits": "error", "returns": "error", "maybe": "error"}
    f = next(f for f in doc["findings"] if "example.com/app/exits " in f["title"])
    text = evidence_text(f)
    assert "TestFails" in text and "TestOther" in text and "ok  \texample.com/app/exits" in text
    assert f["location"]["file"].endswith("exits/a_test.go") and f["location"]["line"] == 9
    assert "m.Run" in f["fix"]


def test_tests_that_ran_or_were_filtered_out_do_not_alarm(tmp_path: Path) -> None:
    mod = write_module(tmp_path / "app", TEST_MAINS)
    env = go_env(tmp_path)  # SKIP_ALL unset: maybe runs its test
    for flags in ([], ["-v"], ["-json"]):
        doc, res = run_json(["--", "go", "test", "-count=1", *flags, "./..."], mod, env)
        assert unrun(doc) == {"exits": "error", "returns": "error"}, flags
    # a -run pattern that selects nothing is the user's choice, in every package
    doc, res = run_json(["--", "go", "test", "-run", "NoMatch", "./..."], mod, env)
    assert unrun(doc) == {} and res.returncode == 0 and not doc["failed"]
    # a cached result means m.Run ran when it was recorded (cmd/go caches after that only)
    run_json(["--", "go", "test", "./plain", "./setup"], mod, env)
    doc, res = run_json(["--", "go", "test", "./plain", "./setup"], mod, env)
    assert b"(cached)" in res.stderr and unrun(doc) == {} and res.returncode == 0


def test_env_snapshot_says_where_each_setting_comes_from(tmp_path: Path) -> None:
    """doctor's attribution: process environment, GOENV file, $GOROOT/go.env, default;
    a proxy password never reaches the document."""
    goenv = tmp_path / "goenv"
    goenv.write_text("# written by go env -w\nGOPRIVATE=example.com/private\n"
                     "GOPROXY=https://ci:hunter2@127.0.0.1:9/mod\n")  # fmt: skip
    mod = write_module(tmp_path / "app", {"main.go": "package main\n\nfunc main() {}\n"})
    # An empty variable does not count as set: the GOENV file and go.env decide.
    env = go_env(tmp_path, GOENV=str(goenv), GOPROXY="", GOSUMDB="")
    doc, res = run_json(["--", "go", "version"], mod, env)
    assert res.returncode == 0 and doc["env"]["error"] is None
    assert doc["go"]["version"] and doc["go"]["version"].startswith("go")
    assert doc["env"]["goenv_file"] == str(goenv)
    s = {x["name"]: x for x in doc["env"]["settings"]}
    assert (s["GOPRIVATE"]["source"], s["GOPRIVATE"]["file"], s["GOPRIVATE"]["line"]) == (
        "goenv-file", str(goenv), 2,
    )  # fmt: skip
    assert s["GOPROXY"]["source"] == "goenv-file"
    assert s["GOPROXY"]["value"] == "https://[redacted]@127.0.0.1:9/mod"
    assert s["GOFLAGS"]["source"] == "environment"
    assert s["GOSUMDB"]["source"] == "goroot-go.env"
    assert s["GOSUMDB"]["file"] == str(Path(doc["go"]["goroot"]) / "go.env")
    assert s["GOEXE"]["source"] == "default"
    assert "hunter2" not in json.dumps(doc)
    shown = str(render(doc, "text", verbose=True, width=400))
    assert "GOPRIVATE=example.com/private  (GOENV file " + str(goenv) + ":2)" in shown
    assert "hunter2" not in shown


# -- fetch problems --------------------------------------------------------------------


def test_checksum_mismatch_names_both_hashes(tmp_path: Path, servers: list[Any]) -> None:
    proxy_dir = tmp_path / "proxy"
    real = proxy_tree(proxy_dir, "example.com/dep", "v1.0.0", "package dep\n\nconst V = 2\n")
    srv = Server(file_proxy(proxy_dir))
    servers.append(srv)
    mod = write_module(tmp_path / "app", {"main.go": "package main\nfunc main(){}\n"})
    (mod / "go.mod").write_text(
        "module example.com/app\n\ngo 1.22\n\nrequire example.com/dep v1.0.0\n"
    )
    recorded = "h1:" + base64.b64encode(hashlib.sha256(b"the bits we saw before").digest()).decode()
    (mod / "go.sum").write_text(
        f"example.com/dep v1.0.0 {recorded}\nexample.com/dep v1.0.0/go.mod {real['mod']}\n"
    )
    doc, res = run_json(["--", "go", "mod", "download"], mod, go_env(tmp_path, GOPROXY=srv.url))
    assert res.returncode == 1
    f = finding(doc, "checksum-mismatch")
    assert "example.com/dep@v1.0.0" in f["title"]
    assert real["zip"] in f["detail"] and recorded in f["detail"]
    assert f"proxy {srv.url}" in f["detail"]


class Unauthorized(http.server.BaseHTTPRequestHandler):
    """A git smart-HTTP server that wants credentials for every request."""

    def do_GET(self) -> None:
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="git"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_GET

    def log_message(self, *a: Any) -> None:
        pass


def test_git_waiting_for_credentials_on_a_terminal(tmp_path: Path, servers: list[Any]) -> None:
    srv = Server(Unauthorized)
    servers.append(srv)
    bare = tmp_path / "srv" / "private.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text(f'[url "{srv.url}/"]\n\tinsteadOf = https://example.com/\n')
    mod = write_module(tmp_path / "app", {"main.go": "package main\nfunc main(){}\n"})
    env = go_env(
        tmp_path,
        GOPROXY="direct",
        GOPRIVATE="example.com",
        GIT_TERMINAL_PROMPT="1",
        GIT_CONFIG_GLOBAL=str(gitconfig),
        GIT_CONFIG_NOSYSTEM="1",
    )
    report = tmp_path / "report.json"
    master, slave = os.openpty()

    def controlling_tty() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(
        [sys.executable, "-m", "godiag", "run", "--stall", "2s", "-o", str(report),
         "--", "go", "mod", "download", "example.com/private.git@latest"],
        cwd=mod, env=env, stdin=slave, stdout=slave, stderr=slave,
        preexec_fn=controlling_tty,
    )  # fmt: skip
    os.close(slave)
    screen = bytearray()
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            screen += chunk
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert b"Username for 'http://127.0.0.1" in screen  # git really asked on the terminal
    doc = json.loads(report.read_text())
    validate(doc)
    assert proc.returncode == 1
    f = finding(doc, "credential-prompt")
    assert "git" in f["title"]
    assert "/dev/" in evidence_text(f)


# -- cleanup ---------------------------------------------------------------------------

SPAWNER = """package main

import (
	"fmt"
	"os"
	"os/exec"
	"time"
)

func main() {
	c := exec.Command("sleep", "300")
	c.Start()
	fmt.Println("child", c.Process.Pid, "self", os.Getpid())
	for {
		time.Sleep(10 * time.Millisecond) // keeps the tree busy: only --timeout ends it
	}
}
"""


def test_timeout_leaves_no_process_behind(tmp_path: Path) -> None:
    mod = write_module(tmp_path / "app", {"main.go": SPAWNER})
    doc, res = run_json(
        ["--timeout", "4s", "--stall", "60s", "--", "go", "run", "."], mod, go_env(tmp_path)
    )
    assert res.returncode == 1
    assert doc["exit"]["ended_by"] == "timeout"
    words = res.stderr.split(b"child ")[1].split()
    child, prog = int(words[0]), int(words[2])
    assert not alive(child) and not alive(prog)
    for snap in doc["snapshots"]:
        for p in snap["processes"]:
            assert not alive(p["pid"]), p
    assert [e for e in doc["timeline"] if e["event"] == "signal" and e["detail"] == "SIGQUIT"]
    assert any(d["reason"] == "SIGQUIT" for d in doc["dumps"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], b"give the command after --"),
        (["--stall", "soon", "--", "go", "version"], b"--stall: 'soon' is not a duration"),
        # a stall shorter than one progress window (0 among them) declared a hang at once
        (["--stall", "0", "--", "go", "version"], b"--stall: at least 2s"),
        (["--stall", "500ms", "--", "go", "version"], b"--stall: at least 2s"),
        (["--stall", "-5s", "--", "go", "version"], b"--stall: '-5s' is negative"),
        (["--", "no-such-go-binary", "build"], b"not found on PATH"),
    ],
)
def test_usage_errors_are_one_line(tmp_path: Path, args: list[str], message: bytes) -> None:
    res = godiag(args, tmp_path, go_env(tmp_path))
    assert res.returncode == 2
    assert message in res.stderr and b"Traceback" not in res.stderr
