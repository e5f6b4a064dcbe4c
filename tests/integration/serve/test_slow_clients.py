"""Slow clients against a real `godiag serve`: headers trickled one piece at a time
(slowloris) lose their connection at `header_timeout_seconds`, a webhook body trickled
in gets 408 at `body_timeout_seconds`, and the server keeps answering others."""

from __future__ import annotations

import select
import socket
import time

import httpx
import pytest

from tests.integration.serve.harness import ADMIN

pytestmark = pytest.mark.integration
EXTRA = "header_timeout_seconds = 1\nbody_timeout_seconds = 1"


def closed_by_server(sock: socket.socket) -> bool:
    ready, _, _ = select.select([sock], [], [], 0)
    if not ready:
        return False
    try:
        return sock.recv(4096) == b""
    except ConnectionError:
        return True


def test_trickled_headers_lose_the_connection(serve_factory) -> None:  # type: ignore[no-untyped-def]
    sp = serve_factory({"svc": "http://127.0.0.1:9"}, EXTRA)
    with socket.create_connection(("127.0.0.1", sp.port), timeout=5) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        closed = False
        for i in range(40):  # 40 pieces, one every 0.25 s: 10 s, ten times the deadline
            time.sleep(0.25)
            try:
                sock.sendall(b"X-Slow-%d: y\r\n" % i)
            except (BrokenPipeError, ConnectionResetError):
                closed = True
            if closed or closed_by_server(sock):
                closed = True
                break
        assert closed, "the server kept a connection whose headers never ended"
    assert httpx.get(f"{sp.url}/healthz", timeout=5).status_code == 200


def test_trickled_body_gets_408(serve_factory) -> None:  # type: ignore[no-untyped-def]
    sp = serve_factory({"svc": "http://127.0.0.1:9"}, EXTRA)
    head = (
        "POST /api/v1/alerts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {ADMIN}\r\nContent-Length: 1000\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", sp.port), timeout=5) as sock:
        sock.sendall(head)
        answer = b""
        for _ in range(40):
            # look for the answer before trickling more: a byte sent after the server
            # answered and closed makes its kernel reset the connection, which can drop
            # the 408 still unread on this side
            ready, _, _ = select.select([sock], [], [], 0.25)
            if ready:
                answer = sock.recv(4096)
                break
            try:
                sock.sendall(b" ")
            except (BrokenPipeError, ConnectionResetError):
                break
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert httpx.get(f"{sp.url}/healthz", timeout=5).status_code == 200
