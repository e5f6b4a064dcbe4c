"""Rule 10: HTTP/1 responses whose bodies nobody reads hold their connections
(longterm/bodies.py), on dumps written as the runtime prints them and on recorded runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tools.slow_eval import SLOW

from godiag.analysis.rootcause import longterm
from godiag.analysis.rootcause.longterm import bodies
from godiag.formats.goroutines import parse
from godiag.model.observation import Observation
from godiag.pipeline.diagnose import DiagnoseOptions, replay

GO = "/usr/local/go/src/"
DIALED = ("created by net/http.(*Transport).dialConn in goroutine 9", "net/http/transport.go:1994")
POLL = ("internal/poll.(*pollDesc).waitRead(...)", "internal/poll/fd_poll_runtime.go:84")


def _goroutine(gid: int, state: str, *frames: tuple[str, str]) -> str:
    """A goroutine as debug=2 prints it: header, then each function and its file:line."""
    lines = [f"goroutine {gid} [{state}]:"]
    for fn, at in frames:
        lines += [fn, f"\t{at if at.startswith('/') else GO + at} +0x10"]
    return "\n".join(lines) + "\n"


def _waiting(gid: int, minutes: int = 0) -> str:
    """A read loop parked in its own select: headers handed over, body not read or closed."""
    state = f"select, {minutes} minutes" if minutes else "select"
    loop = (f"net/http.(*persistConn).readLoop(0xc000{gid:06x})", "net/http/transport.go:2450")
    return _goroutine(gid, state, loop, DIALED)


def _idle(gid: int) -> str:
    """An idle pooled connection: its read loop waits for the next response's first byte."""
    peek = (f"bufio.(*Reader).Peek(0xc000{gid:06x}, 0x1)", "bufio/bufio.go:152")
    loop = (f"net/http.(*persistConn).readLoop(0xc000{gid:06x})", "net/http/transport.go:2330")
    return _goroutine(gid, "IO wait", POLL, peek, loop, DIALED)


def _reader(gid: int) -> str:
    """A stream consumer waiting for its next bytes inside the body's Read."""
    return _goroutine(
        gid,
        "IO wait",
        POLL,
        (f"net/http.(*body).Read(0xc000{gid:06x})", "net/http/transfer.go:840"),
        (f"net/http.(*bodyEOFSignal).Read(0xc000{gid:06x})", "net/http/transport.go:2990"),
        (f"main.consume(0xc000{gid:06x})", "/src/app/main.go:40"),
        ("created by main.main in goroutine 1", "/src/app/main.go:20"),
    )


def _obs(*dumps: str) -> Observation:
    obs = Observation("http://127.0.0.1:1")
    obs.dumps = [parse(d.encode(), "test") for d in dumps]
    return obs


def _many(make: Callable[..., str], n: int, base: int, **kw: int) -> str:
    return "\n".join(make(base + i, **kw) for i in range(n))


def test_bodies_nobody_reads_at_both_ends_point_at_a_connection_leak() -> None:
    dump = _many(_waiting, 6, 100) + "\n" + _many(_idle, 20, 200)
    u = bodies.unread(_obs(dump, dump))
    assert u is not None and (u.start, u.end, u.readers) == (6, 6, 0)
    assert u.found and not u.held  # young: a stream read in bursts looks the same
    lt = longterm.LongTerm(unread=u)
    assert "connection-leak" in longterm.leads(lt)
    assert "connection-leak" not in longterm.decisive(lt)
    ranked, notes = longterm.adjust([("healthy", 0.9), ("connection-leak", 0.1)], lt)
    assert ranked[0] == ("connection-leak", pytest.approx(longterm.LEAD))
    assert "responses nobody reads" in notes["connection-leak"]
    why = longterm.undecided("connection-leak", lt)
    assert why is not None and "6 HTTP responses" in why and "would decide" in why


def test_bodies_unread_for_a_minute_decide_it() -> None:
    dump = _many(_waiting, 6, 100, minutes=3)
    u = bodies.unread(_obs(dump, dump))
    assert u is not None and u.held
    lt = longterm.LongTerm(unread=u)
    assert "connection-leak" in longterm.decisive(lt)
    assert "connection-leak" not in longterm.leads(lt)
    assert longterm.evidence("connection-leak", lt)[0].startswith("6 HTTP responses")


def test_streams_being_read_and_idle_connections_are_not_unread() -> None:
    # 30 streams, their consumers inside Read but for 3 handling what they read
    streams = _many(_waiting, 30, 100, minutes=5) + "\n" + _many(_reader, 27, 300)
    u = bodies.unread(_obs(streams, streams))
    assert u is not None and u.both == 3 and not u.found
    idle = _many(_idle, 40, 500)
    u = bodies.unread(_obs(idle, idle))
    assert u is not None and u.both == 0
    # at one end only: a response between its headers and its first read
    u = bodies.unread(_obs(idle, _many(_waiting, 8, 100)))
    assert u is not None and not u.found
    assert bodies.unread(_obs(idle)) is None  # one dump: no window


@pytest.mark.skipif(not SLOW.is_dir(), reason="no data/diagnose/slow (make collect-slow)")
@pytest.mark.parametrize("name", ["lrucache--missing-body-1", "fanout--webhook-body-1"])
def test_recorded_bodies_left_open_rank_connection_leak_first(name: str) -> None:
    """Two corpus services return on a status code before closing the body; a client
    timeout frees each connection seconds later, so nothing accumulates since the
    baseline and both read healthy before rule 10."""
    doc = replay(Path(SLOW / name / "captures"), DiagnoseOptions(store=False, flames=False))
    top = doc["causes"][0]
    assert top["kind"] == "connection-leak", doc["verdict"]
    assert not doc["confident"] and "would decide" in doc["verdict"]
    assert doc["features"]["unread_response_bodies"] >= bodies.UNREAD_MIN


@pytest.mark.skipif(not SLOW.is_dir(), reason="no data/diagnose/slow (make collect-slow)")
def test_recorded_streams_are_not_unread_bodies() -> None:
    """streamhub's browsers hold ~30 event streams open and read them: not rule 10's."""
    doc = replay(SLOW / "streamhub--steady-1" / "captures", DiagnoseOptions(store=False))
    assert doc["features"]["unread_response_bodies"] < bodies.UNREAD_MIN
    assert doc["causes"][0]["kind"] == "healthy", doc["verdict"]


def _handing_over(gid: int) -> str:
    """readLoop's other select, handing an error to a caller still in its round trip on the
    same connection (the receiver printed as both frames' first argument)."""
    conn = f"0xc000{gid:06x}"
    loop = (f"net/http.(*persistConn).readLoop({conn})", "net/http/transport.go:2356")
    caller = _goroutine(
        gid + 10_000,
        "chan receive",
        (
            f"net/http.(*persistConn).mapRoundTripError({conn}, 0xc0001, 0x0)",
            "net/http/transport.go:2248",
        ),
        (f"net/http.(*persistConn).roundTrip({conn}, 0xc0001)", "net/http/transport.go:2911"),
        ("main.publish()", "/src/app/main.go:91"),
    )
    return _goroutine(gid, "select", loop, DIALED) + "\n" + caller


def test_a_response_still_handed_to_its_caller_is_not_unread() -> None:
    """A deadlocked server's clients on a starved machine: read loops caught handing errors
    over, their callers still in the round trip (not unread bodies: the callers will read them)."""
    dump = _many(_handing_over, 9, 100)
    u = bodies.unread(_obs(dump, dump))
    assert u is not None and u.both == 0
