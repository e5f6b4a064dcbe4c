"""What happened before the window: the stored baseline and the Prometheus history.

A diagnosis window is seconds long; real leaks are slow (a goroutine a second, tens of KB
a minute), below the window's noise and below the heap sampler, and obvious over
minutes. Two references reach further back:

- the service's stored reference capture (`Observation.baseline_heap` / `baseline_dump`:
  its newest marked baseline, else its oldest capture within the lookback): growth per
  allocation site and per goroutine group since then, with the baseline's age;
- the target's series in the configured Prometheus over the lookback
  (`Observation.trends`), each reduced to a `history.Trend` (slope, monotonicity, shape).

Neither is a model input (the training data has neither). They act after the model, in
one place (`adjust` and `doubt`), by two rules, each written into the cause's evidence:

1. decisive (`adjust`): memory-leak when the live heap grew by MBs since the baseline at
   one site (the site holds at least half of the growth, the site and the total each
   grew by HEAP_MIN_BYTES or more) and the window does not contradict it (the site did
   not shrink by two sampling periods during the window); goroutine-leak when one
   blocked group grew by GOROUTINE_MIN or more since the baseline (or by
   GOROUTINE_MIN_DOUBLED and at least doubled) and its goroutines
   have waited a minute or more (a burst that drains has young waits); or either kind
   when Prometheus shows its series growing linearly over CORROBORATE_MIN_S or more
   (its evidence line then says "corroborates"). Goroutines that grew that way are a
   connection-leak instead when a share of them are connections' own goroutines and almost
   none wait in a client call on them (`connections_left_open`: response bodies or clients
   never closed; a call that never returns keeps a caller per connection and stays a
   goroutine leak), or when they wait for a pooled connection (`_pool_exhausted`). Neither
   baseline rule decides when Prometheus saw the series stop growing (`_stopped`). The
   kind's probability moves half-way
   to 1 and to at least RAISED; the others share the rest in their proportions.
2. doubt (`doubt`): a confident "healthy" while the baseline shows heap growth of rule
   1's size that rule 1 did not find decisive (spread over sites, or shrinking in the
   window), or a Prometheus series growing linearly over a shorter span, is reported as
   not sure, naming the growth. Goroutines that grew since the baseline with young waits
   are a batch running now, not a doubt.

Two more act in the same places. 5. cleared (`cleared`, in `adjust`): since a reference
CLEAR_AGE_S old or more under which nothing stayed (the heap under HEAP_MIN_BYTES at any
site; goroutines added only with young waits), or with a Prometheus series flat, periodic
or declining, the kinds that accumulate keep CLEARED of their probability. 6. looping
(`looping_line`): a deadlock whose named goroutines were blocked at the same place in a
reference a minute old or more, yet have waited less than its age, is not sure, and
deadlock keeps CLEARED of its probability as in rule 5. 7. inversion
(decisive in `adjust` as rule 1 is): a lock-order cycle in the end dump (lockcycle,
`LongTerm.cycle`), or (`inversion`) lock waiters that have waited a minute or more in two
functions or more with no holder seen, or (`held_blocked`) behind a holder blocked a
minute or more on a lock, a channel or a WaitGroup, are a deadlock; the dump's own wait ages reach
before the window, and a cycle never resolves. 8. arrivals (`arrivals`, decisive in
`adjust` as rule 1 is): with no baseline dump, a go_goroutines history that grew linearly
for two minutes or more, held by one blocked group whose goroutines parked one by one
throughout it and stayed (their waits spread over ARRIVAL_MINUTES whole minutes or more,
half of them a minute old or more, the oldest as old as the history): the count's trend
says the goroutines grew, the waits say they are the same goroutines and never left. A
ramp's goroutines are requests in flight (young waits); a pool or a set of watches started
at once parks at one time (one or two wait values). Without that history (`stayed`), the
same spread of waits in a group that grew in the window and lost none of its goroutines
there at the window's start (by id), where a group turning over would have lost five or
more. 9. kept (`retained`, `leads` in
`adjust`): with no baseline heap, a live-heap history grown linearly by HEAP_MIN_BYTES or
more over CLEAR_AGE_S or more, go_goroutines not growing alongside, and a site of the
end heap profile holding KEEP_SHARE or more of all it allocated since the process started
(alloc_space is cumulative): memory-leak ranks first at LEAD, at that site, not sure
(`undecided`): a cache still filling keeps what it allocates too. Without that history
(`kept_now`), a site of the window's two heap profiles that kept WINDOW_SHARE of all it
allocated since the start and of what it allocated in the window, over "healthy" only.
10. bodies (`unread`,
decisive in `adjust` as rule 1 is, else `leads` as rule 9): HTTP/1 responses whose bodies
nobody reads, at both ends of the window, each holding its connection (bodies.py).
11. fds (`climbing`, `leads` as rule 9): open fds that rose at half the window's samples
or more, by more than the observer's own connections, with no goroutine more alongside (a
raw socket or file kept with no goroutine on it), or five TCP sockets or more of its own
(not on a port it listens on) in CLOSE_WAIT at every /proc sample (closed by their peers,
never by the process): connection-leak at LEAD, not sure (a pool still filling climbs the
same way; an idle pool whose server closed its connections holds them until it uses them
again) (fds.py).
12. orphans (`left_behind`, `leads` as rule 11): goroutines blocked sending in the service's
code whose creator left the function that was to receive, five or more of one group
stuck across the window: goroutine-leak at LEAD over "healthy" only, not sure (a channel
handed to another receiver looks the same) (orphans.py).

One module per part: `since` (rule 1 from the stored reference, and rule 6), `connections`
(goroutines that grew as connections left open or waiting for a pooled one), `inversion`
(rule 7 without a cycle), `arrivals` (rule 8), `kept` (rule 9), `bodies` (rule 10),
`fds` (rule 11), `orphans` (rule 12), `rules` (how they move the ranking and the verdict:
rules 1, 3, 5 and the leads of 9 to 12), `report` (features and evidence lines),
`common` (the record `gather` fills and what the rules share).

goroutine-leak's own `unsupported` reads `history_goroutines_shape`: a count that
Prometheus saw flat, periodic or declining over the lookback is not a leak (batches that
drain).
"""

from __future__ import annotations

from godiag.analysis.goroutines import group
from godiag.analysis.rootcause.derived import Derived
from godiag.analysis.rootcause.longterm.arrivals import arrivals, stayed
from godiag.analysis.rootcause.longterm.bodies import unread
from godiag.analysis.rootcause.longterm.common import LongTerm, _trends, _uptime, before_start
from godiag.analysis.rootcause.longterm.connections import _connections
from godiag.analysis.rootcause.longterm.fds import kept_open
from godiag.analysis.rootcause.longterm.inversion import (
    address,
    held_blocked,
    inversion,
    likely_holder,
    lone_holder,
    owners_of,
)
from godiag.analysis.rootcause.longterm.kept import kept, retained
from godiag.analysis.rootcause.longterm.orphans import left_behind
from godiag.analysis.rootcause.longterm.since import _goroutines, _growing, _looping, heap_since
from godiag.model.observation import Observation


def gather(obs: Observation, derived: Derived) -> LongTerm:
    trends = _trends(obs)
    pair = None
    # grouped once for both comparisons; a reference from before a restart is none
    if obs.baseline_dump is not None and obs.dumps and before_start(obs, "goroutine") is None:
        pair = (group(obs.baseline_dump), group(obs.dumps[-1]))
    since = _goroutines(obs, pair, derived.prefix)
    came = None
    if since is None:  # rule 8, from the history, else from the window's two dumps
        came = arrivals(trends.get("go_goroutines"), derived) or stayed(obs, derived)
    heap = heap_since(obs, derived.prefix)
    kept9 = kept(obs, trends, derived.prefix)
    return LongTerm(heap, since, trends, obs.lookback,
                    derived.prefix, _uptime(obs), _growing(derived, since), _connections(obs),
                    obs.dumps[-1].total if obs.dumps else 0,
                    _looping(obs, pair, derived.prefix),
                    before_start(obs, "heap") or before_start(obs, "goroutine"),
                    inversion(derived), len(derived.cycle),
                    came, kept9, unread(obs), held_blocked(derived), kept_open(obs),
                    left_behind(obs, derived.prefix))  # fmt: skip


# What the rest of the diagnosis reads, in one namespace: `longterm.adjust(...)`.
from godiag.analysis.rootcause.longterm.arrivals import (  # noqa: E402
    ARRIVAL_MINUTES,
    STAY_SHARE,
    _old,
    arrived,
)
from godiag.analysis.rootcause.longterm.common import (  # noqa: E402
    CLEAR_AGE_S,
    CORROBORATE_MIN_S,
    HEAP_MIN_BYTES,
    HISTORY_MIN_S,
    NOT_GROWING,
    GoroutinesSince,
    HeapSince,
    Kept,
)
from godiag.analysis.rootcause.longterm.connections import connections_left_open  # noqa: E402
from godiag.analysis.rootcause.longterm.kept import KEPT_MIN_BYTES, kept_in  # noqa: E402
from godiag.analysis.rootcause.longterm.report import (  # noqa: E402
    FEATURES,
    evidence,
    features,
    goroutine_line,
    heap_line,
    summary,
    wait_line,
)
from godiag.analysis.rootcause.longterm.rules import (  # noqa: E402
    LEAD,
    RAISED,
    adjust,
    cleared,
    decisive,
    doubt,
    evidenced,
    leads,
    undecided,
)
from godiag.analysis.rootcause.longterm.since import (  # noqa: E402
    consistency,
    frees_most,
    goroutines_decisive,
    goroutines_since,
    heap_decisive,
    lived_through,
    looping_line,
    other_load,
    retention,
    turns_over,
)

__all__ = [
    "ARRIVAL_MINUTES", "CLEAR_AGE_S", "CORROBORATE_MIN_S", "FEATURES", "HEAP_MIN_BYTES",
    "HISTORY_MIN_S", "KEPT_MIN_BYTES", "LEAD", "NOT_GROWING", "RAISED", "STAY_SHARE",
    "GoroutinesSince", "HeapSince", "Kept", "LongTerm", "_old", "address", "adjust", "arrivals",
    "arrived", "before_start", "cleared", "connections_left_open", "consistency", "decisive",
    "doubt", "evidence", "evidenced", "features", "frees_most", "gather", "goroutine_line",
    "goroutines_decisive", "goroutines_since", "heap_decisive", "heap_line", "heap_since",
    "inversion", "kept_in", "leads", "likely_holder", "lived_through", "lone_holder",
    "looping_line", "other_load", "owners_of", "retained", "retention", "summary", "turns_over",
    "undecided", "wait_line",
]  # fmt: skip
