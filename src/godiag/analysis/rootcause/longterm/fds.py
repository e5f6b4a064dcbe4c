"""Rule 11: open fds that climbed through the window with no goroutine per connection.

A connection that a goroutine serves or reads (a handler, an HTTP transport's loops, a
stream) shows in the dumps, and the goroutine rules weigh it. A socket or file that is
opened and kept with no goroutine on it (a raw `net.Conn` a pool loses on an error path,
a file never closed) shows only as the process's open fds: climbing sample after sample
while the goroutine count stays where it was. The model, trained mostly on leaks that
keep a goroutine per connection, reads that as healthy. A pool still filling climbs the
same way, so this rule points at connection-leak without deciding (`leads`), and never
decides from the window alone.
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


def undecided(line: str) -> str:
    """The verdict's doubt when rule 11 put connection-leak first."""
    later = "a diagnosis a few minutes later (the count climbs on, or levels off)"
    return f"{line}, as a leak does and as a pool still filling does: {later} would tell them apart"
