"""Profiles collected from a real Go service (go/cmd/profiled) through `godiag profile`."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from godiag.collect.http import HttpClient
from godiag.collect.pprof import collect_cmdline, collect_profile, service_meta
from godiag.errors import CollectError
from godiag.formats.pprof import decode
from godiag.schemas import validate
from tests.pprof_compare import godiag_top, pprof_top
from tests.servers import loopback, reply

pytestmark = pytest.mark.integration


def godiag(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "godiag", *args], capture_output=True, text=True, timeout=300,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def doc_of(*args: str) -> dict[str, Any]:
    res = godiag(*args, "--format", "json")
    assert res.returncode == 0, res.stderr
    doc: dict[str, Any] = json.loads(res.stdout)
    validate(doc)
    return doc


@pytest.fixture
def service(goprog: Callable[..., Any]) -> Any:
    return goprog("cmd/profiled", "-blockrate=1", "-mutexfrac=1", "-password=hunter2")


def test_cpu_profile_names_the_hot_function_and_matches_pprof(service: Any, tmp_path: Path) -> None:
    raw = tmp_path / "cpu.pb.gz"
    res = godiag("profile", service.url, "--seconds", "2", "--format", "pprof", "-o", str(raw))
    assert res.returncode == 0, res.stderr
    assert "profiling [" not in res.stderr  # stderr is a pipe: no countdown bar in logs
    doc = doc_of("profile", str(raw), "--top", "0")
    cum = {r["function"]: r["cum"] for r in doc["top"]}
    assert cum["main.godiagHotLoop"] >= 0.3 * doc["total"]
    assert doc["profile_type"] == "cpu"
    assert godiag_top(raw, 20) == pprof_top(raw, 20)


def _take(service: Any, tmp_path: Path, kind: str, name: str, *extra: str) -> Path:
    out = tmp_path / name
    res = godiag(
        "profile", service.url, "--type", kind, *extra, "--format", "pprof", "-o", str(out)
    )
    assert res.returncode == 0, res.stderr
    return out


def test_heap_leak_tops_the_diff_of_two_captures(service: Any, tmp_path: Path) -> None:
    time.sleep(0.5)
    before = _take(service, tmp_path, "heap", "h1.pb.gz", "--gc")
    time.sleep(2.0)
    after = _take(service, tmp_path, "heap", "h2.pb.gz", "--gc")
    doc = doc_of("profile", str(after), "--base", str(before), "--sample-index", "inuse_space")
    assert doc["top"][0]["function"] == "main.retainLeakyBuffers"
    assert doc["top"][0]["flat"] > 0
    assert doc["growth"]["per_second"] > 0 and doc["growth"]["seconds"] > 1
    assert godiag_top(after, 20, "inuse_space") == pprof_top(after, 20, "inuse_space")


@pytest.mark.parametrize(
    ("kind", "sample_index", "expect"),
    [
        ("allocs", "alloc_space", "main.retainLeakyBuffers"),
        ("block", "delay", "main.blockOnChannel"),
        ("mutex", "delay", "main.holdSharedLock"),
        ("goroutine", None, "main.parkForever"),
    ],
)
def test_other_profiles(
    service: Any, tmp_path: Path, kind: str, sample_index: str | None, expect: str
) -> None:
    time.sleep(1.0)  # let the contention accumulate
    path = _take(service, tmp_path, kind, f"{kind}.pb.gz")
    args = ["profile", str(path), "--top", "0"]
    if sample_index:
        args += ["--sample-index", sample_index]
    doc = doc_of(*args)
    assert expect in {r["function"] for r in doc["top"]}
    if kind == "goroutine":
        cum = {r["function"]: r["cum"] for r in doc["top"]}
        assert cum["main.parkForever"] >= 50
    assert godiag_top(path, 20, sample_index) == pprof_top(path, 20, sample_index)


def test_text_html_and_writers_from_a_live_capture(service: Any, tmp_path: Path) -> None:
    path = _take(service, tmp_path, "goroutine", "g.pb.gz")
    res = godiag("profile", str(path), "--tree")
    assert res.returncode == 0 and "main.parkForever" in res.stdout
    folded = godiag("profile", str(path), "--format", "folded").stdout
    assert any(line.endswith(" 50") or "main.parkForever" in line for line in folded.splitlines())
    ss = json.loads(godiag("profile", str(path), "--format", "speedscope").stdout)
    assert ss["profiles"][0]["type"] == "sampled"
    # Every sample with a stack is there (Go may add one with an empty stack: no frame to show).
    assert sum(ss["profiles"][0]["weights"]) == sum(
        s.values[0] for s in decode(path.read_bytes(), "g").samples if s.locations
    )
    svg = godiag("profile", str(path), "--format", "svg")
    assert svg.returncode == 0 and "<svg" in svg.stdout and "main.parkForever" in svg.stdout


def test_trace_writes_flame_graph_and_raw_profile(service: Any, tmp_path: Path) -> None:
    page = tmp_path / "cpu.html"
    res = godiag("trace", service.url, "--duration", "1s", "-o", str(page))
    assert res.returncode == 0, res.stderr
    assert page.exists() and "flame-canvas" in page.read_text()
    raw = tmp_path / "cpu.pb.gz"
    assert decode(raw.read_bytes(), str(raw)).profile_type == "cpu"


def test_cmdline_is_redacted_and_metadata_read(service: Any) -> None:
    client = HttpClient()
    args = collect_cmdline(client, service.url)
    assert "-password=REDACTED" in args and "hunter2" not in " ".join(args)
    meta = service_meta(client, service.url)
    assert meta.go_version and meta.go_version.startswith("go1.")


def test_clear_errors(goprog: Callable[..., Any]) -> None:
    nopprof = goprog("cmd/profiled", "-nopprof")
    res = godiag("profile", nopprof.url, "--seconds", "1")
    assert res.returncode == 2 and "does not serve net/http/pprof" in res.stderr
    assert "Traceback" not in res.stderr

    # Go 1.23+ pprof extends the write deadline by the window, so a short WriteTimeout
    # no longer fails (older Go answers 400, handled in collect.pprof._explain) ...
    short = goprog("cmd/profiled", "-writetimeout=1s")
    res = godiag("profile", short.url, "--seconds", "2", "-q")
    assert res.returncode == 0, res.stderr
    # ... but a timeout middleware in front of pprof still cuts the window short.
    cut = goprog("cmd/profiled", "-handlertimeout=1s")
    res = godiag("profile", cut.url, "--seconds", "2", "-q")
    assert res.returncode == 2 and "shorter than 2s" in res.stderr, res.stderr

    # The mutex profile's rate is read back (sampling period=0 in its debug=1 text): a
    # fact with its evidence. The block profile's rate cannot be read: only likely.
    norate = goprog("cmd/profiled")
    res = godiag("profile", norate.url, "--type", "mutex")
    assert res.returncode == 2 and "rate is 0" in res.stderr and "sampling period=0" in res.stderr
    res = godiag("profile", norate.url, "--type", "block")
    assert res.returncode == 2 and "not sure" in res.stderr and "likely" in res.stderr
    assert "rate is 0" not in res.stderr and "SetBlockProfileRate" in res.stderr

    # profiling on and nothing contended yet: the empty mutex profile is data (the rate is
    # read from its debug=1 text), not the error above
    quiet = goprog("cmd/profiled", "-mutexfrac=1000000", "-lockers=0")
    res = godiag("profile", quiet.url, "--type", "mutex", "--format", "json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["total"] == 0

    with pytest.raises(CollectError, match="no goroutineleak profile"):
        collect_profile(HttpClient(), norate.url, "goroutineleak")

    authed = goprog("cmd/profiled", "-token=s3cret")
    res = godiag("profile", authed.url, "--type", "goroutine")
    assert res.returncode == 2 and "401" in res.stderr and "auth" in res.stderr
    cap = collect_profile(
        HttpClient(headers={"Authorization": "Bearer s3cret"}), authed.url, "goroutine"
    )
    assert decode(cap.data, cap.source).samples

    res = godiag("profile", "/nonexistent/file.pb.gz")
    assert res.returncode == 2 and "not a file, a URL or a configured target" in res.stderr


def test_goroutineleak_profile_with_the_experiment(goprog: Callable[..., Any]) -> None:
    from tests.gohelpers import GoProcess, build

    binary = build("cmd/profiled", env={"GOEXPERIMENT": "goroutineleakprofile"})
    proc = GoProcess(binary, [])
    try:
        cap = collect_profile(HttpClient(), proc.url, "goroutineleak")
        prof = decode(cap.data, cap.source)
        assert [st.type for st in prof.sample_types] == ["goroutineleak"]
        names = {ln.function.name for loc in prof.locations for ln in loc.lines if ln.function}
        assert "main.sendForever" in names  # the abandoned senders, proven unreachable
    finally:
        proc.close()


def test_countdown_bar_only_on_a_terminal(service: Any, tmp_path: Path) -> None:
    import os
    import pty

    master, slave = pty.openpty()
    try:
        p = subprocess.run(
            [sys.executable, "-m", "godiag", "profile", service.url, "--seconds", "2"],
            stdout=subprocess.DEVNULL,
            stderr=slave,
            timeout=300,
        )
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the pty is closed and drained
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
    assert p.returncode == 0
    assert b"profiling [" in b"".join(chunks)


Asked = list[tuple[str, dict[str, list[str]]]]


@pytest.fixture
def mounted(service: Any) -> Iterator[tuple[str, Asked]]:
    """The service behind a reverse proxy that mounts it at /prefix/ and wants ?token=abc,
    recording the path and query of every request; anything else is a 404."""
    asked: Asked = []
    upstream = urlsplit(service.url).netloc

    class Proxy(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query, keep_blank_values=True)
            asked.append((parts.path, dict(query)))
            if not parts.path.startswith("/prefix/") or query.pop("token", None) != ["abc"]:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            path = parts.path[len("/prefix") :] + "?" + urlencode(query, doseq=True)
            conn = http.client.HTTPConnection(upstream, timeout=60)
            try:
                conn.request("GET", path)
                resp = conn.getresponse()
                body = resp.read()
            finally:
                conn.close()
            reply(self, resp.status, body, resp.getheader("Content-Type") or "text/plain")

        def log_message(self, *args: object) -> None:
            pass

    with loopback(Proxy) as url:
        yield f"{url}/prefix/?token=abc", asked


def test_a_mounted_service_with_a_token_is_asked_under_its_prefix(
    mounted: tuple[str, Asked], tmp_path: Path
) -> None:
    base, asked = mounted
    doc = doc_of("profile", base, "--type", "heap", "--gc")
    assert doc["total"] > 0 and "token=REDACTED" in doc["source"] and "abc" not in doc["source"]
    assert doc_of("profile", base, "--seconds", "1")["profile_type"] == "cpu"
    res = godiag("goroutines", base, "--format", "json")
    assert res.returncode == 0, res.stderr
    res = godiag("check", base, "--rule", "goroutine-leak", "--window", "1s")
    assert res.returncode in (0, 1), res.stderr
    res = godiag("diagnose", base, "--window", "2s", "--cpu", "0", "--format", "json",
                 env={"GODIAG_HOME": str(tmp_path / "home")})  # fmt: skip
    assert res.returncode in (0, 1), res.stderr
    assert json.loads(res.stdout)["notes"] is not None
    off = [(p, q) for p, q in asked if not p.startswith("/prefix/") or q.get("token") != ["abc"]]
    assert off == [], off
    paths = {p for p, _ in asked}
    assert {"/prefix/debug/pprof/heap", "/prefix/debug/pprof/profile",
            "/prefix/debug/pprof/goroutine", "/prefix/metrics"} <= paths, paths  # fmt: skip
    assert ("/prefix/debug/pprof/heap", {"token": ["abc"], "gc": ["1"]}) in asked
    assert ("/prefix/debug/pprof/profile", {"token": ["abc"], "seconds": ["1"]}) in asked
    assert ("/prefix/debug/pprof/goroutine", {"token": ["abc"], "debug": ["2"]}) in asked
