"""/proc fd snapshots of a local process (procfs#N captures) and their decoding."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime

import pytest

from godiag.collect.procfs import fd_snapshot
from godiag.errors import CollectError, ParseError
from godiag.formats.observation import procfs_values
from godiag.model.capture import Capture


def _cap(data: bytes) -> Capture:
    return Capture(data, "/proc/1", "procfs", datetime.now(UTC), "text/plain")


def test_own_process_counts_an_established_connection() -> None:
    srv = socket.create_server(("127.0.0.1", 0))
    cli = socket.create_connection(srv.getsockname())
    conn, _ = srv.accept()
    try:
        values = procfs_values(_cap(fd_snapshot(os.getpid())))
    finally:
        for s in (cli, conn, srv):
            s.close()
    assert values["process_open_fds"] >= 3
    assert values["godiag_proc_sockets"] >= 3
    assert values["godiag_proc_tcp_established"] >= 2  # both ends are this process's


def test_a_gone_process_is_a_collect_error() -> None:
    with pytest.raises(CollectError):
        fd_snapshot(2**22 + 1)


@pytest.mark.parametrize("data", [b"", b"sockets 3\n", b"open_fds -1\n", b"\xff" * 64])
def test_what_is_not_a_snapshot_is_a_parse_error(data: bytes) -> None:
    with pytest.raises(ParseError):
        procfs_values(_cap(data))


def test_unknown_lines_are_ignored() -> None:
    assert procfs_values(_cap(b"open_fds 7\nweird 1\nsockets x\n")) == {"process_open_fds": 7.0}
