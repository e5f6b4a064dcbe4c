"""Rule 11: open fds that climbed through the window with no goroutine per connection.

A connection that a goroutine serves or reads (a handler, an HTTP transport's loops, a
stream) shows in the dumps, and the goroutine rules weigh it. A socket or file that is
opened and kept with no goroutine on it (a raw `net.Conn` a pool loses on an error path,
a file never closed) shows only as the process's open fds: climbing sample after sample
while the goroutine count stays where it was. The model, trained mostly on leaks that
keep a goroutine per connection, reads that as healthy. A pool still filling climbs the
same way, so this rule points at connection-leak without deciding (`leads`), and never
decides from the window alone.

A slow leak (a connection every few seconds) climbs by no more than the observer's own
connections in a window. Its sockets say more than their count when their peers hang up:
a TCP socket the peer closed stays in CLOSE_WAIT until the process closes it, and a Go
service closes what it still uses within moments of the peer's FIN (a server's
connection reader, an HTTP transport's read loop see the EOF). So five or more in
CLOSE_WAIT in every /proc sample of the window are sockets kept after their connection
ended (`closed_by_peers`), counted only on the process's own connections, not on the
ports it listens on (an accepted one in CLOSE_WAIT is a request whose client gave up,
held by a stuck handler: a deadlock's, not a leak's). An idle pool whose server closed
its connections (a database's idle timeout) holds such sockets too until it uses them
again: a lead, not a verdict, as the climb.
"""

from __future__ import annotations

import itertools

from godiag.limits import OBSERVER_CONNECTIONS
from godiag.model.observation import Observation

# samples with an fd count the climb is read from (a diagnosis takes 5 or more)
MIN_SAMPLES = 4
# the share of consecutive samples that must rise: a climb, not one step (a batch opening
# a burst of files at once and closing them later steps up once)
RISING_SHARE = 0.5
# goroutines that grew by this share of the fds' growth or more explain them (stuck
# handlers each hold an inbound connection; goroutine rules weigh those)
GOROUTINE_SHARE = 0.5
# CLOSE_WAIT sockets in every sample: past the one or two a service has between a peer's
# FIN and its own close (two at most in 111 diagnoses of local daemons and services:
# InfluxDB, Caddy, rclone, NATS, syncthing, dockerd, node_exporter...)
MIN_CLOSE_WAIT = 5
# only those the process opened: an accepted socket in CLOSE_WAIT is a request whose client
# gave up, held by its handler (a deadlocked inventory service's 1,100 stuck requests)
CLOSE_WAIT = "godiag_proc_tcp_close_wait_outbound"
# (the lead's name in the ranking's note, its evidence line)
Held = tuple[str, str]
CLIMBED = "open fds that climbed through the window with no goroutine per connection"
PEER_CLOSED = "sockets their peers closed, still open"


def kept_open(obs: Observation) -> Held | None:
    """Rule 11's lead: the climb, else the CLOSE_WAIT sockets."""
    if (line := climbing(obs)) is not None:
        return CLIMBED, line
    if (line := closed_by_peers(obs)) is not None:
        return PEER_CLOSED, line
    return None


def close_waits(obs: Observation) -> list[tuple[float, float]]:
    """(time, count) of the process's own sockets in CLOSE_WAIT, at each /proc sample."""
    return [(s.at, s.values[CLOSE_WAIT]) for s in obs.samples if CLOSE_WAIT in s.values]


def closed_by_peers(obs: Observation) -> str | None:
    """The line when MIN_CLOSE_WAIT or more TCP sockets were in CLOSE_WAIT at every /proc
    sample of the window (two samples or more), else None."""
    seen = close_waits(obs)
    counts = [n for _, n in seen]
    if len(counts) < 2 or min(counts) < MIN_CLOSE_WAIT:
        return None
    return (f"{min(counts):.0f} to {max(counts):.0f} TCP sockets in CLOSE_WAIT at every /proc "
            f"sample of the window ({len(counts)} over {seen[-1][0] - seen[0][0]:.0f} s, "
            f"{counts[-1]:.0f} at its end), on connections it opened: their peers closed "
            f"them and the process never did - sockets kept open after their connection "
            f"ended")  # fmt: skip


def climbing(obs: Observation) -> str | None:
    """The line of rule 11, or None when the fds did not climb that way."""
    rows = [
        (s.at, s.values["process_open_fds"], s.values.get("go_goroutines"))
        for s in obs.samples
        if "process_open_fds" in s.values
    ]
    if len(rows) < MIN_SAMPLES:
        return None
    fds = [f for _, f, _ in rows]
    grew = fds[-1] - fds[0]
    # the observer holds up to OBSERVER_CONNECTIONS connections of its own at a time
    if grew <= OBSERVER_CONNECTIONS:
        return None
    steps = list(itertools.pairwise(fds))
    rises = sum(b > a for a, b in steps)
    if rises < RISING_SHARE * len(steps) or any(a - b > OBSERVER_CONNECTIONS for a, b in steps):
        return None
    gs = [g for _, _, g in rows if g is not None]
    if len(gs) >= 2 and gs[-1] - gs[0] >= GOROUTINE_SHARE * grew:
        return None
    seconds = rows[-1][0] - rows[0][0]
    return (f"open fds climbed from {fds[0]:.0f} to {fds[-1]:.0f} over the window "
            f"({grew:+.0f} in {seconds:.0f} s, up at {rises} of {len(steps)} samples) with no "
            f"goroutine more to hold them: sockets or files opened and kept")  # fmt: skip


def undecided(held: Held) -> str:
    """The verdict's doubt when rule 11 put connection-leak first."""
    name, line = held
    if name == PEER_CLOSED:
        later = "a diagnosis a few minutes later (the count climbs on, or falls back)"
        return (f"{line}, as a leak does and as an idle pool does whose server closed "
                f"its connections (a database's idle timeout) until it uses them again: "
                f"{later} would tell them apart")  # fmt: skip
    later = "a diagnosis a few minutes later (the count climbs on, or levels off)"
    return f"{line}, as a leak does and as a pool still filling does: {later} would tell them apart"
