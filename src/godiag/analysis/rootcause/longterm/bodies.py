"""Rule 10: HTTP responses whose bodies nobody reads, each holding its connection.

net/http's transport reads an HTTP/1 connection on a goroutine of its own
(`persistConn.readLoop`). Once a response's headers are handed to the caller, that
goroutine parks in a select in readLoop itself until the body is read to its end or
closed: the connection is neither reused nor closed before. A caller reading the body is
inside `bodyEOFSignal.Read` meanwhile (a stream consumer waiting for its next bytes, a
proxy copying). So a dump's read loops parked there, beyond the goroutines reading a body,
are responses nobody is reading: a body never closed (the branch that returns on a status
code before `defer resp.Body.Close()`), or a stream abandoned. Seen at both ends of the
window they are not one response between its headers and its first read.

It reaches before the window the way rule 7 does: the dump prints how long a goroutine
has waited once it is a minute or more. Read loops that have waited that long beyond the
readers are bodies held a minute at least: decisive for connection-leak, as rule 1 is.
Younger ones point at it without deciding (`leads`): a stream read in bursts, or a body
read after slower work, looks the same for seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from godiag.model.goroutine import Frame, Goroutine
from godiag.model.observation import Observation

BODY_WAIT = "net/http.(*persistConn).readLoop"
BODY_READ = "net/http.(*bodyEOFSignal).Read"
# A caller still inside the round trip on the same connection (debug=2 prints the
# receiver, the *persistConn, as the first argument of both frames): readLoop's other
# selects hand it the response or an error, a moment's wait unless the machine is
# starved (a deadlocked server's clients on a saturated host: 6 to 10 at each end).
CALLER = ("net/http.(*persistConn).roundTrip", "net/http.(*persistConn).mapRoundTripError")
# Responses unread at each end of the window at least. A stream consumer is outside its
# Read now and then (handling what it read): the streaming services recorded had up to 3
# of ~30 streams so at one end, none at both; a body left open per failed call, 7 to
# thousands.
UNREAD_MIN = 5


@dataclass(frozen=True)
class Unread:
    start: int  # read loops waiting on a body beyond the readers, start dump
    end: int  # the same, end dump
    readers: int  # goroutines reading a response body, end dump
    old: int  # end dump: read loops waiting a minute or more, beyond the readers

    @property
    def both(self) -> int:
        """Responses unread at both ends (the smaller count)."""
        return max(0, min(self.start, self.end))

    @property
    def found(self) -> bool:
        return self.both >= UNREAD_MIN

    @property
    def held(self) -> bool:
        """Decisive: found, and as many waiting a minute or more."""
        return self.found and self.old >= UNREAD_MIN


def _body_wait(g: Goroutine) -> Frame | None:
    """The readLoop frame of a goroutine parked in readLoop's own select (the first frame
    below the runtime's), else None."""
    frames = [f for f in g.frames if not f.function.startswith("runtime.")]
    if not frames or frames[0].function != BODY_WAIT:
        return None
    return frames[0] if not g.state or g.state.startswith("select") else None


def _conn(args: str) -> str:
    """The receiver (first argument) of a frame, "" when the dump printed none."""
    return args.split(",", 1)[0].strip()


def _count(goroutines: Sequence[Goroutine]) -> tuple[int, int, int]:
    """(read loops waiting on a body, of them a minute or more, goroutines reading one).

    A read loop whose connection has a caller in its round trip is not waiting on a body."""
    calling = {
        _conn(f.args) for g in goroutines for f in g.frames if f.function in CALLER and f.args
    }
    waiting = old = readers = 0
    for g in goroutines:
        if (loop := _body_wait(g)) is not None:
            if (conn := _conn(loop.args)) and conn in calling:
                continue
            waiting += g.count
            old += g.count if g.wait_minutes >= 1 else 0
        elif any(f.function == BODY_READ for f in g.frames):
            readers += g.count
    return waiting, old, readers


def unread(obs: Observation) -> Unread | None:
    """Rule 10's counts (None without the two dumps of the window)."""
    if len(obs.dumps) != 2:
        return None
    w0, _, r0 = _count(obs.dumps[0].goroutines)
    w1, old, r1 = _count(obs.dumps[1].goroutines)
    return Unread(w0 - r0, w1 - r1, r1, max(0, old - r1))


def line(u: Unread) -> str:
    old = f", {u.old:,} of them for a minute or more" if u.old else ""
    return (f"{u.end:,} HTTP responses hold their connections with nobody reading their "
            f"bodies ({u.start:,} at the window's start, {u.readers:,} bodies being read"
            f"{old}): a connection is neither reused nor closed until its body is read to "
            f"the end or closed")  # fmt: skip


def undecided(u: Unread) -> str:
    return (f"{line(u)}; for seconds a stream read in bursts, or a body read after slower "
            f"work, looks the same: a diagnosis a minute from now that finds them unread, "
            f"waiting a minute or more, would decide (a client timeout that closes them "
            f"keeps them younger; a body only such a timeout closes is a leak too)")  # fmt: skip
