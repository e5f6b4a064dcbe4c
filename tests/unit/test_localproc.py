"""Which local process serves a loopback URL (collect/localproc.py): taken only when its
command line is the one the service reports at /debug/pprof/cmdline, so a proxy's port
never lends the proxy's /proc to the service behind it."""

from __future__ import annotations

import http.server
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from godiag.collect import procfs
from godiag.collect.http import HttpClient
from godiag.collect.localproc import serving_pid


def _serve(cmdline: bytes | None) -> Iterator[str]:
    """An HTTP server in this process whose /debug/pprof/cmdline answers `cmdline`
    (None: 404), as net/http/pprof does (os.Args joined by NUL)."""

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if cmdline is None or self.path != "/debug/pprof/cmdline":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(cmdline)))
            self.end_headers()
            self.wfile.write(cmdline)

        def log_message(self, *a: object) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


def _own_args() -> bytes:
    return Path("/proc/self/cmdline").read_bytes().rstrip(b"\x00")


@pytest.fixture
def itself() -> Iterator[str]:
    yield from _serve(_own_args())


@pytest.fixture
def proxy() -> Iterator[str]:
    yield from _serve(b"/usr/local/bin/backend\x00-listen\x00:8080")


@pytest.fixture
def no_cmdline() -> Iterator[str]:
    yield from _serve(None)


def test_the_process_with_the_reported_command_line_is_taken(itself: str) -> None:
    found = serving_pid(itself, HttpClient(), 5.0)
    assert found.pid == os.getpid(), found.why
    assert f"local process {os.getpid()}" in found.why


def test_a_proxy_in_front_of_another_process_is_not_taken(proxy: str) -> None:
    found = serving_pid(proxy, HttpClient(), 5.0)
    assert found.pid is None
    assert "does not have the command line the service reports" in found.why
    assert str(os.getpid()) in found.why  # which process was looked at, never its argv
    assert "backend" not in found.why


def test_without_pprof_cmdline_nothing_is_taken(no_cmdline: str) -> None:
    found = serving_pid(no_cmdline, HttpClient(), 5.0)
    assert found.pid is None and "HTTP 404" in found.why


def test_a_port_nobody_listens_on_finds_no_process() -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    assert procfs.listener_pids(port) == []
    found = serving_pid(f"http://127.0.0.1:{port}", HttpClient(), 2.0)
    assert found.pid is None and "no process" in found.why


def test_listeners_are_matched_by_port_in_both_tables(tmp_path: Path) -> None:
    """A fake /proc: tcp6's wildcard listener on 1F90 (8080) held by PID 7 as fd 3; an
    established row on the same port and another PID's listener elsewhere are not taken."""
    (tmp_path / "net").mkdir()
    tail = "00000000:00000000 00:00000000 00000000     0        0"

    def row(local: str, remote: str, state: str, inode: int) -> str:
        return f"   0: {local} {remote} {state} {tail} {inode} 1\n"

    head = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n"
    (tmp_path / "net" / "tcp").write_text(
        head
        + row("0100007F:1F90", "0100007F:D431", "01", 555)
        + row("0100007F:1F91", "00000000:0000", "0A", 666)
    )
    (tmp_path / "net" / "tcp6").write_text(
        head + row("0" * 32 + ":1F90", "0" * 32 + ":0000", "0A", 777)
    )
    for pid, inode in ((7, 777), (8, 555), (9, 666)):
        fd = tmp_path / str(pid) / "fd"
        fd.mkdir(parents=True)
        os.symlink(f"socket:[{inode}]", fd / "3")
    assert procfs.listener_pids(8080, tmp_path) == [7]
    assert procfs.listener_pids(8081, tmp_path) == [9]
    assert procfs.listener_pids(9999, tmp_path) == []
