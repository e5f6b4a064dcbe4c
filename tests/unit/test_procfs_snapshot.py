"""/proc fd snapshots of a local process (procfs#N captures) and their decoding."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from godiag.collect.procfs import fd_snapshot
from godiag.errors import CollectError, ParseError
from godiag.formats.observation import PEER, procfs_values
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


def test_connections_to_one_remote_end_are_counted_by_peer() -> None:
    """Three connections to one listener: `peer HOST:PORT 3`, read back as its sample; the
    accepted ends (each with its own client port) are no peer of two or more."""
    srv = socket.create_server(("127.0.0.1", 0))
    host, port = srv.getsockname()
    clients = [socket.create_connection((host, port)) for _ in range(3)]
    accepted = [srv.accept()[0] for _ in clients]
    try:
        data = fd_snapshot(os.getpid())
    finally:
        for s in (*clients, *accepted, srv):
            s.close()
    assert f"peer {host}:{port} 3\n".encode() in data, data
    values = procfs_values(_cap(data))
    assert values[f"{PEER}{host}:{port}"] == 3.0
    assert sum(k.startswith(PEER) for k in values) <= 5


def test_close_wait_is_counted_apart_on_the_connections_the_process_opened() -> None:
    """Real sockets of this process: three connections it opened whose peer (the accepted
    end) closed them, and two it accepted whose client closed them. All five are in
    CLOSE_WAIT; the three on no listening port of the process are its outbound ones (a
    leak's), the two on its listening port are requests whose clients gave up."""
    import time

    # what other tests of this process left behind is counted apart
    before = procfs_values(_cap(fd_snapshot(os.getpid())))
    out_srv = socket.create_server(("127.0.0.1", 0))
    opened = [socket.create_connection(out_srv.getsockname()) for _ in range(3)]
    for _ in opened:
        out_srv.accept()[0].close()  # the peer hangs up; this end never closes
    in_srv = socket.create_server(("127.0.0.1", 0))
    clients = [socket.create_connection(in_srv.getsockname()) for _ in range(2)]
    accepted = [in_srv.accept()[0] for _ in clients]
    for c in clients:
        c.close()  # the client gives up; the accepted end stays open
    time.sleep(0.2)  # the FINs are delivered on loopback within moments
    try:
        values = procfs_values(_cap(fd_snapshot(os.getpid())))
    finally:
        for s in (*opened, *accepted, out_srv, in_srv):
            s.close()
    for name, n in (("godiag_proc_tcp_close_wait", 5), ("godiag_proc_tcp_close_wait_outbound", 3)):
        assert values[name] - before[name] == n, (name, values, before)


@pytest.mark.parametrize(
    "line",
    [
        b"peer 10.0.0.1:5432",
        b"peer a\x00b:1 2",
        b"peer host.example:80 3",
        b"peer 1.2.3.4:5 -1",
        b"peer " + b"1" * 200 + b":1 2",
    ],
)
def test_odd_peer_lines_are_ignored(line: bytes) -> None:
    values = procfs_values(_cap(b"open_fds 7\n" + line + b"\n"))
    assert values == {"process_open_fds": 7.0}


def test_a_gone_process_is_a_collect_error() -> None:
    with pytest.raises(CollectError):
        fd_snapshot(2**22 + 1)


@pytest.mark.parametrize("data", [b"", b"sockets 3\n", b"open_fds -1\n", b"\xff" * 64])
def test_what_is_not_a_snapshot_is_a_parse_error(data: bytes) -> None:
    with pytest.raises(ParseError):
        procfs_values(_cap(data))


def test_unknown_lines_are_ignored() -> None:
    assert procfs_values(_cap(b"open_fds 7\nweird 1\nsockets x\n")) == {"process_open_fds": 7.0}


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_any_bytes_decode_or_are_a_parse_error(data: bytes) -> None:
    """A replayed bundle's procfs#N is untrusted: values or ParseError, nothing else."""
    try:
        values = procfs_values(_cap(data))
    except ParseError:
        return
    assert "process_open_fds" in values
    assert all(v >= 0 for v in values.values())
    assert sum(k.startswith(PEER) for k in values) <= 16


def test_the_uptime_is_read_without_a_wall_clock(tmp_path: Path) -> None:
    """Field 22 of /proc/PID/stat counts after the command name, which may hold spaces and
    parentheses; the machine's uptime less the start in ticks is the process's age."""
    from godiag.collect.procfs import process_uptime

    up = process_uptime(os.getpid())
    assert up is not None and 0 <= up < 86_400 * 365
    read = procfs_values(_cap(fd_snapshot(os.getpid())))["godiag_proc_uptime_seconds"]
    assert up <= read <= up + 2
    tick = os.sysconf("SC_CLK_TCK")
    (tmp_path / "7").mkdir()
    (tmp_path / "uptime").write_text("1000.50 1800.00\n")
    rest = " ".join(["S"] + ["0"] * 18 + [str(400 * tick)] + ["0"] * 20)
    (tmp_path / "7" / "stat").write_text(f"7 (my (odd) svc) {rest}\n")
    assert process_uptime(7, tmp_path) == 600
    (tmp_path / "7" / "stat").write_text("7 (cut")
    assert process_uptime(7, tmp_path) is None
    assert process_uptime(8, tmp_path) is None


def test_the_cpu_used_is_read_from_stat_and_decoded_in_seconds(tmp_path: Path) -> None:
    """utime and stime (fields 14 and 15, after a command name holding a parenthesis) in
    clock ticks: `cpu_ms`, read back as seconds; this process burns some and it counts."""
    import time

    from godiag.collect.procfs import cpu_ms

    tick = os.sysconf("SC_CLK_TCK")
    (tmp_path / "7").mkdir()
    rest = " ".join(["S"] + ["0"] * 10 + [str(3 * tick), str(2 * tick)] + ["0"] * 30)
    (tmp_path / "7" / "stat").write_text(f"7 (a) b) {rest}\n")
    assert cpu_ms(7, tmp_path) == 5000
    assert cpu_ms(8, tmp_path) is None
    before = cpu_ms(os.getpid())
    end = time.process_time() + 0.3
    while time.process_time() < end:
        pass
    after = procfs_values(_cap(fd_snapshot(os.getpid())))["godiag_proc_cpu_seconds_total"]
    assert before is not None and after >= before / 1000 + 0.2


def test_the_proc_cpu_is_the_measure_of_last_resort() -> None:
    """No process_cpu_seconds_total and no CPU profile (another profiler held it): the
    CPU a local process used per /proc is cpu_seconds_per_s; /metrics, when it exports
    the counter, is read first."""
    from godiag.analysis.rootcause.features import extract
    from godiag.model.observation import MetricSample, Observation

    def obs(extra: dict[str, float]) -> Observation:
        samples = [MetricSample(2.0 * i, {"go_goroutines": 20.0,
                                          "godiag_proc_cpu_seconds_total": 10.0 + 0.6 * i, **{
                                              k: v * i for k, v in extra.items()}})
                   for i in range(4)]  # fmt: skip
        return Observation("http://svc", samples=samples)

    assert extract(obs({}))["cpu_seconds_per_s"] == pytest.approx(0.3)
    exported = extract(obs({"process_cpu_seconds_total": 0.2}))
    assert exported["cpu_seconds_per_s"] == pytest.approx(0.1)
