"""`godiag goroutines` against real Go programs: every category, debug=1 vs debug=2,
the leaking program (URL, PID, --diff), and the runtime's own crash output."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from godiag.analysis.goroutines import analyze
from godiag.collect.http import HttpClient
from godiag.formats.goroutines import parse
from godiag.model.goroutine import Dump
from godiag.schemas import validate
from tests.gohelpers import GO_DIR, hermetic_go_env

pytestmark = pytest.mark.integration

EXPECTED = {  # user frame -> category, as gstates parks them
    "main.chanSend": "channel",
    "main.chanReceive": "channel",
    "main.nilChan": "channel",
    "main.selectWait": "select",
    "main.mutexWait": "lock",
    "main.rwmutexWait": "lock",
    "main.waitgroupWait": "waitgroup",
    "main.condWait": "cond",
    "main.sleeper": "sleep",
    "main.ioWait": "io",
    "main.syscallWait": "syscall",
    "main.lockedThread": "channel",
    "main.dumpHandler": "running",
}


def godiag(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(
        [sys.executable, "-m", "godiag", *args], capture_output=True, text=True, timeout=120
    )
    if check and res.returncode != 0:
        raise AssertionError(f"godiag {args} -> {res.returncode}: {res.stderr}")
    return res


def get(url: str) -> bytes:
    return HttpClient().get(url, 30).body


def test_every_category_and_user_frame(goprog: Callable[..., Any]) -> None:
    prog = goprog("cmd/gstates")
    doc = analyze(parse(get(prog.url + "/dump?debug=2"), "gstates"), "gstates")
    validate(doc)
    seen: dict[str, dict[str, Any]] = {}
    for g in doc["groups"]:
        uf = g["user_frame"]
        if uf and uf["function"] in EXPECTED:
            assert uf["function"] not in seen or uf["function"] == "main.dumpHandler"
            seen[uf["function"]] = g
    assert {f: g["category"] for f, g in seen.items()} == EXPECTED
    for name, g in seen.items():
        if name != "main.dumpHandler":
            assert g["count"] == 3, name
    assert seen["main.nilChan"]["state"] == "chan receive (nil chan)"
    assert seen["main.lockedThread"]["locked_to_thread"] == 3
    assert any(s["kind"] == "nil-channel" for s in doc["suspects"])


def _stacks(dump: Dump) -> Counter[tuple[tuple[str, str, int], ...]]:
    """Goroutines per distinct stack of user code parked by gstates (runtime frames dropped:
    debug=1 and debug=2 hide different runtime frames)."""
    out: Counter[tuple[tuple[str, str, int], ...]] = Counter()
    for g in dump.goroutines:
        stack = tuple(
            (f.function, f.file, f.line) for f in g.frames if not f.function.startswith("runtime.")
        )
        if any(f[0] in EXPECTED and f[0] != "main.dumpHandler" for f in stack):
            out[stack] += g.count
    return out


def test_debug1_and_debug2_agree_per_stack(goprog: Callable[..., Any]) -> None:
    prog = goprog("cmd/gstates")
    d2 = parse(get(prog.url + "/dump?debug=2"), "d2")
    d1 = parse(get(prog.url + "/dump?debug=1"), "d1")
    assert d1.format == "debug1" and d2.format == "debug2"
    s1, s2 = _stacks(d1), _stacks(d2)
    assert len(s2) == len(EXPECTED) - 1
    assert s1 == s2


def test_leaky_url_json_puts_the_leak_first(goprog: Callable[..., Any]) -> None:
    prog = goprog("cmd/leaky")
    time.sleep(1.0)
    res = godiag("goroutines", prog.url + "/debug/pprof/goroutine", "--format", "json")
    doc = json.loads(res.stdout)
    validate(doc)
    first = doc["groups"][0]
    assert first["category"] == "channel" and first["state"] == "chan send"
    assert first["user_frame"]["function"] == "main.fetch.func1"
    assert first["user_frame"]["file"].endswith("cmd/leaky/main.go")
    assert first["created_by"]["function"] == "main.fetch"
    assert doc["suspects"][0]["group"] == 0 and doc["suspects"][0]["kind"] == "leak"
    assert "debug=2" in doc["source"]


def test_diff_of_two_dumps_seconds_apart(goprog: Callable[..., Any], tmp_path: Path) -> None:
    prog = goprog("cmd/leaky")
    time.sleep(0.5)
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes(get(prog.url + "/debug/pprof/goroutine?debug=2"))
    time.sleep(2.0)
    b.write_bytes(get(prog.url + "/debug/pprof/goroutine?debug=2"))
    doc = json.loads(godiag("goroutines", str(b), "--diff", str(a), "--format", "json").stdout)
    validate(doc)
    first = doc["groups"][0]
    assert first["user_frame"]["function"] == "main.fetch.func1"
    assert first["growth"] >= 20 and first["growth"] == first["count"] - first["before"]
    assert doc["diff"]["growth"] > 0
    text = godiag("goroutines", str(b), "--diff", str(a), "--no-color").stdout
    assert text.index("main.fetch.func1") < text.index("main.main")


def test_pid_source_finds_the_pprof_port(goprog: Callable[..., Any]) -> None:
    prog = goprog("cmd/leaky")
    doc = json.loads(godiag("goroutines", str(prog.pid), "--format", "json").stdout)
    assert doc["groups"][0]["user_frame"]["function"] == "main.fetch.func1"
    assert prog.url.removeprefix("http://") in doc["source"]


def test_pid_without_listening_port_is_a_clear_error() -> None:
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        res = godiag("goroutines", str(sleeper.pid), check=False)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert res.returncode == 2
    assert "listens on no TCP port" in res.stderr and "Traceback" not in res.stderr


class _RefusesDebug2(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        ok = "debug=1" in self.path
        self.send_response(200 if ok else 400)
        self.end_headers()
        self.wfile.write(self.body if ok else b"debug=2 disabled")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def refusing_server(corpus: Path) -> Iterator[str]:
    _RefusesDebug2.body = (
        corpus / "goroutines" / "go-profiler-notes" / "2.net.http.pprof.goroutine.debug1.txt"
    ).read_bytes()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RefusesDebug2)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_url_falls_back_to_debug1(refusing_server: str, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    godiag("goroutines", refusing_server, "-o", str(out))
    doc = json.loads(out.read_text())
    validate(doc)
    assert doc["format"] == "debug1" and doc["total"] == 10
    assert "debug=1" in doc["source"]


def test_html_report_is_self_contained(goprog: Callable[..., Any], tmp_path: Path) -> None:
    prog = goprog("cmd/leaky")
    out = tmp_path / "g.html"
    res = godiag("goroutines", prog.url, "-o", str(out))
    assert str(out) in res.stderr
    html = out.read_text()
    assert "main.fetch.func1" in html and 'type="search"' in html and "<details" in html
    assert 'src="http' not in html and 'href="http' not in html


# -- the runtime's own dumps ---------------------------------------------------------------


@pytest.fixture(scope="module")
def crashes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    from tests.gohelpers import build

    binary = build("cmd/gcrash")
    out: dict[str, bytes] = {}
    env = hermetic_go_env()
    for mode, extra in [
        ("panic", {}),
        ("deadlock", {}),
        ("sigquit", {"GOTRACEBACK": "crash", "GODEBUG": "tracebacklabels=1"}),
    ]:
        res = subprocess.run(
            [str(binary), mode], env={**env, **extra}, capture_output=True, timeout=60
        )
        out[mode] = res.stderr
    res = subprocess.run(
        ["go", "test", "-timeout", "2s", "-run", "TestHang", "./cmd/gcrash"],
        cwd=GO_DIR,
        env=env,
        capture_output=True,
        timeout=300,
    )
    out["timeout"] = res.stdout + res.stderr
    return out


def test_panic_output(crashes: dict[str, bytes]) -> None:
    d = parse(crashes["panic"], "panic")
    assert d.format == "panic" and d.header[0] == "panic: assignment to entry in nil map"
    assert d.goroutines[0].state == "running"
    assert d.goroutines[0].frames[0].function == "main.main.func1"


def test_deadlock_output(crashes: dict[str, bytes]) -> None:
    doc = analyze(parse(crashes["deadlock"], "deadlock"), "deadlock")
    assert "fatal error: all goroutines are asleep - deadlock!" in doc["header"]
    assert doc["suspects"][0]["kind"] == "deadlock"


def test_sigquit_crash_output(crashes: dict[str, bytes]) -> None:
    d = parse(crashes["sigquit"], "sigquit")
    assert d.format == "traceback" and "SIGQUIT: quit" in d.header
    # GOTRACEBACK=crash shows runtime frames too: the user frame skips them
    doc = analyze(d, "sigquit")
    users = {g["user_frame"]["function"] for g in doc["groups"] if g["user_frame"]}
    labelled = next(g for g in d.goroutines if g.labels)
    assert labelled.labels == (("handler", "checkout"),)
    deep = next(g for g in d.goroutines if any(f.function == "main.deep" for f in g.frames))
    assert deep.frames_elided and deep.state == "chan receive"
    assert {"main.parkedSleeper", "main.deep", "main.main"} <= users
    assert any(g.frames[0].function == "runtime.gopark" for g in d.goroutines)
    assert not d.warnings  # g0 of every M repeats id 0, which is not a repeated dump


def test_go_test_timeout_output(crashes: dict[str, bytes]) -> None:
    doc = analyze(parse(crashes["timeout"], "timeout"), "timeout")
    assert doc["format"] == "panic"
    assert doc["header"][0].startswith("panic: test timed out after 2s")
    funcs = {g["user_frame"]["function"] for g in doc["groups"] if g["user_frame"]}
    assert "godiag.test/cmd/gcrash.TestHang" in funcs


def _has_cc() -> bool:
    import shutil

    return shutil.which("gcc") is not None or shutil.which("cc") is not None


@pytest.mark.skipif(not _has_cc(), reason="the race detector needs a C compiler (cgo)")
def test_race_report() -> None:
    from tests.gohelpers import build

    binary = build("cmd/gcrash", flags=("-race",), env={"CGO_ENABLED": "1"})
    res = subprocess.run(
        [str(binary), "race"], env=hermetic_go_env(CGO_ENABLED="1"), capture_output=True, timeout=60
    )
    d = parse(res.stderr, "race")
    assert d.format == "race"
    states = sorted(g.state for g in d.goroutines)
    assert states == ["data race: previous write", "data race: read"]
    assert all(g.frames[0].function == "main.racer" for g in d.goroutines)
    assert all(g.created_by and g.created_by.function == "main.main" for g in d.goroutines)
