"""Goroutines that grew as connections left open (connection-leak) or as callers waiting
for a pooled connection, rather than goroutines leaked on their own (rule 1's split)."""

from __future__ import annotations

from godiag.analysis import sites
from godiag.analysis.goroutines import GroupGrowth
from godiag.analysis.rootcause.longterm.common import GOROUTINE_MIN_DOUBLED, LongTerm
from godiag.model.observation import Observation
from godiag.words import agree, many

# A connection's own goroutines: net/http's transport loops (sites.CONN_LOOPS, created by
# dialConn), alive as long as the connection is open.
CONN_DIALER = "net/http.(*Transport).dialConn"
# Callers per leaked connection above which the goroutines that grew are stuck callers (a
# request that never returns holds its connection too: a goroutine leak whose goroutines
# happen to be in a client call), not connections nobody holds any more. A connection has
# two goroutines of its own; a stuck call adds one caller: 1/2 per connection. A body never
# closed adds none.
CONN_CALLERS_MAX = 0.25
# Of the goroutines added since the baseline, the share that are connections' own above
# which the leaked units hold connections: a net/http connection is two goroutines, a gRPC
# ClientConn one reader among eight (writer, keepalive, callback serializers), and a client
# with a resolver or balancer more; a goroutine leak without connections adds none.
CONN_GROWTH_SHARE = 1 / 16


# Any client library's connection has a reader: a goroutine parked in a network read
# (gRPC's transport reader, a database driver's) that the library started. One started
# by a server's side of a connection (an in-process server) is the far end, not the
# service's own connection: its creator names a server.
NET_READ = "internal/poll.(*pollDesc).waitRead"
# client calls of libraries other than net/http (gRPC's unary and stream calls)
CALLS = (*sites.NET_CLIENT, "google.golang.org/grpc.(*ClientConn).Invoke",
         "google.golang.org/grpc.(*clientStream)")  # fmt: skip


def _is_conn_goroutine(fns: list[str], made: str) -> bool:
    if made.startswith(CONN_DIALER) or any(fn.startswith(sites.CONN_LOOPS) for fn in fns):
        return True
    server = "server" in made.lower() or made.startswith("net/http.(*conn")
    return NET_READ in fns and bool(made) and not server and not made.startswith("main.")


def _connections(obs: Observation) -> tuple[int, int]:
    if not obs.dumps:
        return 0, 0
    own = callers = 0
    for g in obs.dumps[-1].goroutines:
        fns = [f.function for f in g.frames]
        made = g.created_by.function if g.created_by is not None else ""
        if _is_conn_goroutine(fns, made):
            own += g.count
        elif any(fn.startswith(CALLS) for fn in fns):
            callers += g.count
    return own, callers


def connections_left_open(lt: LongTerm) -> str | None:
    """Why the goroutines that grew are connections left open rather than leaked goroutines:
    a share of what grew since the baseline (with no baseline: most of the service's
    goroutines) are connections' own, and almost none has a caller waiting on it (a response
    body never read or closed, a client never closed, keeps its connection with no caller)."""
    own, callers = lt.connections
    g = lt.goroutines
    if own == 0 or callers > CONN_CALLERS_MAX * own:
        return None
    if g is not None:  # what grew since the baseline: connections, a share of it or more
        if g.conn_growth < max(GOROUTINE_MIN_DOUBLED, CONN_GROWTH_SHARE * g.total_growth):
            return None
    elif own < lt.end_goroutines / 2:  # history only: most goroutines are connections'
        return None
    return (f"{own:,} of the goroutines are connections' own (transport read/write loops, "
            f"network readers) and {callers:,} wait in a client call on them: connections "
            f"left open")  # fmt: skip


# Waiting to be handed a pooled connection: database/sql's pool has none free and is at
# its limit. Goroutines piling up there are the victims of connections not given back
# (rows or transactions left open), not leaked goroutines of their own.
POOL_WAIT = ("database/sql.(*DB).conn",)


def _pool_exhausted(lt: LongTerm) -> str | None:
    g = lt.goroutines
    top = g.top if g is not None else (lt.growing[0] if lt.growing is not None else None)
    if top is None or not any(f.function.startswith(POOL_WAIT) for f in top.frames):
        return None
    return (
        f"the {many(top.count, 'goroutine', ',')} that grew {agree(top.count, 'waits', 'wait')} "
        f"in {top.frames[0].function} for a "
        f"pooled connection: the pool is exhausted, its connections are not given back"
    )


def _is_conn_group(t: GroupGrowth) -> bool:
    made = t.group.created_by.function if t.group.created_by is not None else ""
    return _is_conn_goroutine([f.function for f in t.frames], made)
