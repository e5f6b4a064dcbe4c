"""Rule 11 (longterm/fds.py): open fds that climb through the window with no goroutine
per connection point at connection-leak without deciding; a pool that stays, a burst, a
rise within the observer's own connections, or fds that grow with goroutines do not."""

from __future__ import annotations

from godiag.analysis.rootcause.longterm import fds
from godiag.analysis.rootcause.longterm.common import LongTerm
from godiag.analysis.rootcause.longterm.rules import adjust, leads
from godiag.model.observation import MetricSample, Observation


def _obs(fd: list[float], gs: list[float]) -> Observation:
    samples = [MetricSample(6.0 * i, {"process_open_fds": f, "go_goroutines": g})
               for i, (f, g) in enumerate(zip(fd, gs, strict=True))]  # fmt: skip
    return Observation("http://svc", samples=samples)


FLAT = [15.0, 15.0, 17.0, 16.0, 15.0, 15.0]


def test_fds_climbing_with_goroutines_flat_is_rule_11() -> None:
    # a raw-socket pool losing a connection per timeout (a trial service, 30 s window)
    line = fds.climbing(_obs([208, 215, 222, 232, 243, 242], FLAT))
    assert line is not None and line.startswith("open fds climbed from 208 to 242"), line
    assert "(+34 in 30 s, up at 4 of 5 samples)" in line


def test_what_is_not_a_climb_is_not_rule_11() -> None:
    assert fds.climbing(_obs([243, 243, 243, 244, 244, 244], FLAT)) is None  # a pool that stays
    assert fds.climbing(_obs([57, 58, 58, 58, 63, 61], FLAT)) is None  # the observer's own
    assert fds.climbing(_obs([20, 20, 60, 60, 60, 60], FLAT)) is None  # one step: a burst
    assert fds.climbing(_obs([60, 70, 80, 40, 50, 80], FLAT)) is None  # falls back between
    # stuck handlers each hold an inbound connection: goroutine rules weigh those
    stuck = _obs([106, 111, 116, 122, 131, 128], [111, 116, 123, 129, 137, 135])
    assert fds.climbing(stuck) is None
    assert fds.climbing(_obs([208, 230, 242], FLAT[:3])) is None  # too few samples


def test_rule_11_leads_connection_leak_over_healthy_and_stays_not_sure() -> None:
    line = fds.climbing(_obs([208, 215, 222, 232, 243, 242], FLAT))
    assert line is not None
    lt = LongTerm(fds=(fds.CLIMBED, line))
    assert "pool still filling" in leads(lt)["connection-leak"]
    ranked, notes = adjust([("healthy", 0.51), ("memory-leak", 0.15), ("connection-leak", 0.07)],
                           lt)  # fmt: skip
    assert ranked[0] == ("connection-leak", 0.6), ranked
    assert notes["connection-leak"].startswith("points to it without deciding: open fds")


def _dump(http_conns: int) -> str:
    """A debug=2 dump with `http_conns` HTTP/1 client connections (two loops each)."""
    out = ["goroutine 1 [IO wait]:\nmain.main()\n\t/src/main.go:10 +0x1\n"]
    for i in range(http_conns):
        for loop in ("readLoop", "writeLoop"):
            out.append(f"goroutine {100 + 2 * i + (loop == 'writeLoop')} [select]:\n"
                       f"net/http.(*persistConn).{loop}(0xc000100000)\n"
                       f"\t/go/src/net/http/transport.go:2000 +0x1\n"
                       f"created by net/http.(*Transport).dialConn in goroutine 7\n"
                       f"\t/go/src/net/http/transport.go:1900 +0x1\n")  # fmt: skip
    return "\n".join(out)


def test_fds_that_climb_past_one_new_http_connection_are_not_http() -> None:
    """A trial service (inventory: a dial-per-lookup client to its own backend that keeps
    the socket on a timeout) whose in-process load generator opened one keep-alive
    connection in the window: the fds that climbed are not that client's, so the busiest
    HTTP client names no place (connection_leak._not_http)."""
    from godiag.analysis.rootcause.kinds import connection_leak
    from godiag.formats.goroutines import parse

    obs = _obs([46, 47, 49, 50, 55, 54], [27, 27, 28, 28, 29, 29])
    obs.dumps = [parse(_dump(2).encode(), "start"), parse(_dump(3).encode(), "end")]
    why = connection_leak._not_http(obs)
    assert why is not None and why.startswith("open fds grew by 8 with no goroutine more"), why
    # the same fds growing with as many HTTP connections (and their goroutines) are theirs
    obs = _obs([46, 47, 49, 50, 55, 54], [27, 30, 33, 36, 39, 41])
    obs.dumps = [parse(_dump(2).encode(), "start"), parse(_dump(9).encode(), "end")]
    assert connection_leak._not_http(obs) is None


def _waits(cw: list[float], fd: list[float] | None = None) -> Observation:
    fd = fd or [40.0 + i for i in range(len(cw))]
    samples = [MetricSample(1.0 * i, {"process_open_fds": f, "go_goroutines": 12.0,
                                      fds.CLOSE_WAIT: c})
               for i, (f, c) in enumerate(zip(fd, cw, strict=True))]  # fmt: skip
    return Observation("http://svc", samples=samples)


def test_sockets_in_close_wait_throughout_the_window_lead_connection_leak() -> None:
    """A trial service kept each raw connection to its audit collector after an error (24
    to 30 sockets in CLOSE_WAIT, fds +2 to +4 in 5 s: within the observer's own, no
    climb): the sockets its peers closed are the lead, and it stays not sure."""
    obs = _waits([24, 25, 25, 26, 26, 26])
    assert fds.climbing(obs) is None
    held = fds.kept_open(obs)
    assert held is not None and held[0] == fds.PEER_CLOSED
    assert held[1].startswith("24 to 26 TCP sockets in CLOSE_WAIT at every /proc sample"), held
    lt = LongTerm(fds=held)
    assert "an idle pool does whose server closed" in leads(lt)["connection-leak"]
    ranked, notes = adjust([("healthy", 0.61), ("deadlock", 0.12), ("connection-leak", 0.06)],
                           lt)  # fmt: skip
    assert ranked[0] == ("connection-leak", 0.6), ranked
    assert notes["connection-leak"].startswith("points to it without deciding: sockets their")


def test_close_wait_a_moment_long_or_in_one_sample_is_no_lead() -> None:
    # a service closes what its peer closed within moments: one or two at a time (at most
    # two in 111 diagnoses of local daemons), or a few in one sample only
    assert fds.closed_by_peers(_waits([0, 1, 2, 1, 0, 0])) is None
    assert fds.closed_by_peers(_waits([0, 0, 9, 0, 0, 0])) is None
    assert fds.closed_by_peers(_waits([6, 7, 8, 4, 6, 6])) is None  # fell under five once
    assert fds.closed_by_peers(_waits([30])) is None  # one sample
    assert fds.closed_by_peers(_obs([40, 41, 42], [12, 12, 12])) is None  # not measured


def test_close_wait_sockets_past_the_http_connections_are_not_http() -> None:
    """30 sockets in CLOSE_WAIT and one HTTP client connection: the leak is not an HTTP
    client's, and the busiest HTTP client (its load generator) names no place; as many
    HTTP connections as sockets (bodies unread after the server hung up) may be theirs."""
    from godiag.analysis.rootcause.kinds import connection_leak
    from godiag.formats.goroutines import parse

    obs = _waits([29, 30, 30, 30, 30, 30], [115, 116, 117, 118, 119, 119])
    obs.dumps = [parse(_dump(1).encode(), "start"), parse(_dump(1).encode(), "end")]
    why = connection_leak._not_http(obs)
    assert why == ("30 sockets in CLOSE_WAIT and 1 HTTP client connection: what is left "
                   "open is not an HTTP connection"), why  # fmt: skip
    obs.dumps = [parse(_dump(30).encode(), "start"), parse(_dump(30).encode(), "end")]
    assert connection_leak._not_http(obs) is None
