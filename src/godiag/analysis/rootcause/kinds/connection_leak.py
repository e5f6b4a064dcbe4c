"""connection-leak: connections are opened and never released.

Location: where the service's code obtains the connections, from the site whose in-use heap
grew (a leaked connection's buffers are allocated under the dial); see `locator`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from godiag.analysis import sites
from godiag.analysis.rootcause import locate
from godiag.analysis.rootcause.derived import Derived
from godiag.analysis.rootcause.features import holds_client_conn, peer_samples
from godiag.analysis.rootcause.kinds.base import (
    PLACE_UNSURE,
    Features,
    Kind,
    change_in,
    measured_line,
    would_decide,
)
from godiag.analysis.rootcause.longterm import fds as fd_rule
from godiag.limits import OBSERVER_CONNECTIONS
from godiag.model.profile import Profile
from godiag.words import agree, many

ACCEPT = ("net.(*TCPListener).Accept", "net.(*netFD).accept", "net.(*UnixListener).Accept")
# building an HTTP request: an unclosed response keeps its request (and what it points at)
REQUEST = ("net/http.NewRequest", "net/http.Get", "net/http.Post", "net/http.Head")
# a call waiting for a connection: what it allocates there (the transport's wantConn) is
# dropped once it has one, whatever becomes of the response; live in a snapshot, it is a
# call in progress at that moment, any client's (a load generator's as much as a leak's)
WAITING_FOR_CONN = ("net/http.(*Transport).getConn", "net/http.(*Transport).queueFor")


def locator(obs: locate.Observed, derived: Derived) -> locate.Located:
    """Where the service's code obtains the connections it never gives back.

    Evidence about connections comes first, memory in general last. In order: live
    objects allocated under a dial (connections, their buffers, the registry entries);
    goroutines waiting for a connection (a pool that is used up waits in
    `database/sql.(*DB).conn`, a dial in progress); goroutines reading or writing a
    client connection, at the code that started them (it handed them the connection; both
    tiers of goroutines need two over both dumps, one is a connection in use that moment);
    live objects under HTTP client calls (a response whose body is never closed keeps
    its request alive); allocation under HTTP client calls (transports dial on their own
    goroutines, so the client call is the owner); goroutines inside HTTP client calls;
    then, where the service holds connections at all, live-heap growth and live objects
    outside in-process servers. A site in the service's main package wins over the kind
    of evidence found first. A helper returning a connection (dial, get, acquire...)
    hands over to its caller, unless the live memory of dials falls under two callers of
    it or more (a pool shared by several code paths): then the helper, with its callers.
    """
    prefix = derived.prefix
    if not obs.heap:
        return _from_dumps(obs, prefix)
    own = sites.pick_owner
    dial = sites.has_prefix(sites.DIAL)
    server = _server_side(obs)

    def client_side(frames: list[sites.Site]) -> bool:
        return not any(f[0].startswith(ACCEPT) or f[0] in server for f in frames)

    # live memory anywhere on the client side is a connection's only where the service
    # holds connections at all: else it names whatever the heap holds (a map, a cache)
    held = _connected(obs)
    calls = sites.has_prefix(sites.NET_CLIENT + REQUEST)
    waits = sites.has_prefix(WAITING_FOR_CONN)

    def client(frames: list[sites.Site]) -> bool:
        return calls(frames) and not waits(frames)

    def dials(f: list[sites.Site]) -> bool:
        return dial(f) and client_side(f)

    def mine(frames: list[sites.Site], prefix: str | None) -> sites.Site | None:
        # memory in general is a connection's only in the service's own code: a library's
        # live objects (a metrics registry built at start-up) name no place to look
        s = own(frames, prefix)
        return s if s is not None and sites.is_user(s[0], prefix) else None

    tries = [
        (DIALS, sites.by_site(obs.heap[-1], "inuse_space", prefix, dials, own)),
        ("goroutines waiting for a connection", _several(locate.dump_sites(
            obs, prefix, lambda g, frames: dials(frames), own))),
        ("goroutines on client connections", _several(conn_users(obs, prefix, server))),
        ("live objects under HTTP client calls", sites.by_site(
            obs.heap[-1], "inuse_space", prefix, lambda f: client(f) and client_side(f), own)),
        ("HTTP client allocation", sites.by_site(
            obs.heap[-1], "alloc_space", prefix, sites.has_prefix(sites.NET_CLIENT), own)),
        # a handful of heap samples at seconds of uptime can all fall elsewhere; the dumps
        # show the service's code inside HTTP client calls at that moment
        ("goroutines in HTTP client calls", in_client_calls(obs, prefix)),
        ("live heap growth", sites.growth(
            *(sites.by_site(p, "inuse_space", prefix, client_side, mine) for p in obs.heap))
         if len(obs.heap) == 2 and held else {}),
        ("live objects, client side", sites.by_site(
            obs.heap[-1], "inuse_space", prefix, client_side, mine) if held else {}),
    ]  # fmt: skip
    not_http = _not_http(obs)
    if not_http is not None:
        tries = [(what, f) for what, f in tries if what not in BY_TRAFFIC]
    peers = [line] if (line := _peers(obs)) is not None else []
    # evidence in the main package wins over an earlier kind of evidence elsewhere
    # (libraries, shared plumbing): connections are obtained by the service's own code
    found_any = [(what, hit) for what, f in tries if (hit := sites.top(f, strict=True))]
    found_any.sort(key=lambda wh: not sites.is_main(wh[1][0][0]))  # stable: keeps order
    if found_any:
        what, hit = found_any[0]
        loc = locate.loc(hit[0])
        ev = [f"connections obtained at {locate.where(loc)} ({what}: {_size(what, hit[1])})"]
        if what == DIALS and (shared := _shared_helper(obs.heap[-1], dials, prefix, hit[0])):
            helper, callers = shared
            loc = locate.loc(helper)
            named = ", ".join(f"{fn} ({n / 2**20:.2f} MiB)" for fn, n in callers)
            ev = [f"connections obtained at {locate.where(loc)} ({what}: "
                  f"{_size(what, sum(n for _, n in callers))}), called from {named}: "
                  f"the code that does not give them back is one of its callers, and what "
                  f"a dial leaves live does not say which"]  # fmt: skip
        if what in BY_TRAFFIC:
            ev.append(_by_traffic(what, dict(tries)[what], hit[0]))
        return loc, ev + peers
    if not_http is not None or (held and peers):
        # the fds say what leaks, and the peers to what; no sample says where: the
        # goroutines an unrelated HTTP client keeps would be a guess
        why = not_http or "the service holds connections"
        where = (f"{why}; no heap sample or goroutine shows where they are obtained "
                 f"(a heap profile once more have piled up would)")  # fmt: skip
        return None, [where, *peers]
    return _from_dumps(obs, prefix)


def _from_dumps(obs: locate.Observed, prefix: str | None) -> locate.Located:
    """With no heap sample under a connection: goroutines on client connections, else
    inside HTTP client calls, at the code that started or made them; else nowhere. Not
    the fastest-growing blocked group whatever it waits on (goroutine-leak's place): a
    goroutine blocked sending on a channel holds no connection, and its place beside
    connection-leak read as one (a trial's gRPC service)."""
    server = _server_side(obs)
    for what, found in (
        ("goroutines on client connections", conn_users(obs, prefix, server)),
        ("goroutines in HTTP client calls", in_client_calls(obs, prefix)),
    ):
        if (hit := sites.top(_several(found), strict=True)) is not None:
            loc = locate.loc(hit[0])
            return loc, [f"connections obtained at {locate.where(loc)} ({what}: "
                         f"{_size(what, hit[1])})"]  # fmt: skip
    return None, ["no heap sample or goroutine on a connection shows where connections are "
                  "obtained"]  # fmt: skip


def _peers(obs: locate.Observed) -> str | None:
    """The remote ends the local process's TCP connections pile up on (/proc, procfs#N),
    with the change over the window: the service a leak's connections go to."""
    held = peer_samples(obs)
    if not held:
        return None
    first, last = held[0], held[-1]
    top = sorted(((v, k) for k, v in last.items()), reverse=True)[:3]

    def one(v: float, k: str) -> str:
        more = f", {v - first[k]:+.0f} over the window" if k in first and len(held) > 1 else ""
        return f"{k} ({v:.0f} open{more})"

    return "TCP connections by remote end (/proc): " + ", ".join(one(v, k) for v, k in top)


DIALS = "live objects from dials"


def _not_http(obs: locate.Observed) -> str | None:
    """Why the leaked connections are not an HTTP client's: more of the process's own
    sockets sit in CLOSE_WAIT (rule 11) than HTTP client connections are open, or open fds
    grew past the observer's own while no HTTP client connection was opened (each keeps
    its loop goroutines as long as it is open). The busiest HTTP client then says nothing
    of them."""
    fds = _open_fds(obs)

    def loops(d: Any, names: tuple[str, ...] = sites.HTTP_CONN_LOOPS) -> int:
        return sum(g.count for g in d.goroutines
                   if any(f.function.startswith(names) for f in g.frames))  # fmt: skip

    # sockets their peers closed (rule 11's CLOSE_WAIT lead), more than the HTTP clients
    # have connections (one read loop each, which stays while its body is unread): at
    # least the rest are not an HTTP client's, whatever the fds did in the window
    if obs.dumps and fd_rule.closed_by_peers(obs) is not None:
        conns = loops(obs.dumps[-1], READ_LOOPS)
        if (last := fd_rule.close_waits(obs)[-1][1]) > conns:
            return (f"{last:.0f} sockets in CLOSE_WAIT and "
                    f"{many(conns, 'HTTP client connection')}: what is left open is not an "
                    f"HTTP connection")  # fmt: skip
    if len(fds) < 2 or fds[-1] - fds[0] <= OBSERVER_CONNECTIONS or len(obs.dumps) < 2:
        return None

    if loops(obs.dumps[-1]) <= loops(obs.dumps[0]):
        return (f"open fds grew by {fds[-1] - fds[0]:.0f} while the HTTP clients' connections "
                f"did not: what is left open is not an HTTP connection")  # fmt: skip
    # rule 11's climb: fds that rose sample after sample with no goroutine more to hold
    # them; an HTTP client's connection keeps its loop goroutines as long as it is open
    if fd_rule.climbing(obs) is not None:
        return (f"open fds grew by {fds[-1] - fds[0]:.0f} with no goroutine more to hold "
                f"them, where an HTTP client's connection keeps two: what is left open is "
                f"not an HTTP connection")  # fmt: skip
    return None


def _shared_helper(
    profile: Profile,
    require: Callable[[list[sites.Site]], bool],
    prefix: str | None,
    owner: sites.Site,
) -> tuple[sites.Site, list[tuple[str, int]]] | None:
    """When `owner` was named through a connection helper (sites.pick_owner: a pool's get,
    a dial wrapper) that two functions or more of the service call in these samples, the
    helper's site and its callers with the bytes under each: a pool shared by several
    code paths is left full by one of them, and the live memory of its dials falls under
    whichever caller happened to dial. None when the helper has one caller."""
    callers: dict[sites.Site, dict[str, int]] = {}
    mine: sites.Site | None = None
    for frames, v in sites.stacks(profile, "inuse_space"):
        if sites.observing(frames, prefix) or not require(frames):
            continue
        helper, by = sites.pick(frames, prefix), sites.pick_owner(frames, prefix)
        if helper is None or by is None or helper == by:
            continue
        per = callers.setdefault(helper, {})
        per[by[0]] = per.get(by[0], 0) + v
        mine = helper if by == owner else mine
    if mine is None or len(callers[mine]) < 2:
        return None
    return mine, sorted(callers[mine].items(), key=lambda kv: (-kv[1], kv[0]))


# Tiers that rank HTTP clients by how much they are used, not by what they keep: the busiest
# client is named, which is the leaking one only when it is the one client (a proxy's
# outbound client beside its own load generator's is not).
BY_TRAFFIC = ("HTTP client allocation", "goroutines in HTTP client calls")
# an HTTP client connection's one reader (its writer is the other loop goroutine)
READ_LOOPS = ("net/http.(*persistConn).readLoop", "net/http.(*http2ClientConn).readLoop",
              "golang.org/x/net/http2.(*ClientConn).readLoop")  # fmt: skip


def _size(what: str, n: int) -> str:
    # goroutines are counted over both dumps: one held at both ends counts twice
    return f"{n} over both dumps" if what.startswith("goroutines") else f"{n / 2**20:.2f} MiB"


def _by_traffic(what: str, found: dict[sites.Site, int], top: sites.Site) -> str:
    """What a location from a traffic tier rests on: the other clients it was chosen over."""
    others = sorted(((n, s) for s, n in found.items() if s != top and n > 0), reverse=True)
    also = ", ".join(f"{locate.where(locate.loc(s))} ({_size(what, n)})" for n, s in others[:2])
    return (f"{PLACE_UNSURE}{what} measures traffic, and the busiest HTTP client "
            f"is not always the one that leaves connections open"
            + (f"; other clients: {also}" if also else "")
            + "; a longer --window shows the live objects of the one that does")  # fmt: skip


# A pool used up keeps goroutines waiting for a connection; one goroutine in a dial, seen
# in one dump, is a connection being made at that moment (any client does that). So is one
# goroutine reading a connection in one dump only: a request in flight, not one held.
MIN_DIAL_WAITERS = 2


def _several(found: dict[sites.Site, int]) -> dict[sites.Site, int]:
    """The sites where MIN_DIAL_WAITERS goroutines or more (over both dumps) wait."""
    return {site: n for site, n in found.items() if n >= MIN_DIAL_WAITERS}


def _connected(obs: locate.Observed) -> bool:
    """The service holds connections it obtained: live memory under a dial, a goroutine
    holding a client connection, or open fds that grew over the window."""
    if obs.heap and sites.total(obs.heap[-1], "inuse_space", sites.has_prefix(sites.DIAL)) > 0:
        return True
    if obs.dumps and any(holds_client_conn(g) for g in obs.dumps[-1].goroutines):
        return True
    fds = _open_fds(obs)
    return len(fds) >= 2 and fds[-1] - fds[0] > OBSERVER_CONNECTIONS


def _open_fds(obs: locate.Observed) -> list[float]:
    return [s.values["process_open_fds"] for s in obs.samples if "process_open_fds" in s.values]


def conn_users(obs: locate.Observed, prefix: str | None, server: set[str]) -> dict[sites.Site, int]:
    """Goroutines (over both dumps) reading or writing a client connection, by the site
    that started them: a goroutine handed a connection (`go readAcks(conn)`) was started
    where the connection was obtained. Transports' own loops (started by net/http) and
    in-process servers' connection goroutines are not the service's client code; a
    goroutine started by the runtime or a library names its own user frame instead."""

    callers: dict[str, sites.Site | None] = {}

    def site(g: Any) -> sites.Site | None:
        if not holds_client_conn(g) or not g.frames or g.frames[-1].function in server:
            return None
        frames = [(f.function, f.file, f.line) for f in g.frames]
        if sites.has_prefix(sites.CONN_LOOPS + sites.NET_CLIENT + sites.DIAL)(frames):
            return None  # the tiers above and below weigh these
        made = g.created_by
        if made is None or not sites.is_user(made.function, prefix):
            return sites.pick_owner(frames, prefix)
        # started inside a helper that hands the connection out (`open` returns a stream
        # and leaves a reader on it): the caller it hands it to keeps it, as pick_owner
        if sites.helper_named(made.function):
            if made.function not in callers:
                callers[made.function] = sites.caller_of(_stacks(obs), made.function, prefix)
            if (by := callers[made.function]) is not None:
                return by
        return (made.function, made.file, made.line)

    out: dict[sites.Site, int] = {}
    for d in obs.dumps:
        for g in d.goroutines:
            if (s := site(g)) is not None:
                out[s] = out.get(s, 0) + g.count
    return out


def _stacks(obs: locate.Observed) -> Iterator[list[sites.Site]]:
    """Every stack the window saw: the dumps' goroutines, the heap profiles' samples."""
    for d in obs.dumps:
        for g in d.goroutines:
            yield [(f.function, f.file, f.line) for f in g.frames]
    for p in obs.heap:
        for frames, _ in sites.stacks(p, "alloc_space"):
            yield frames


def in_client_calls(obs: locate.Observed, prefix: str | None) -> dict[sites.Site, int]:
    """Goroutines (over both dumps) inside an HTTP client call, by the owner's frame."""
    client = sites.has_prefix(sites.NET_CLIENT)
    return locate.dump_sites(obs, prefix, lambda g, frames: client(frames), sites.pick_owner)


def _server_side(obs: locate.Observed) -> set[str]:
    """Entry functions of goroutines serving accepted connections (in-process servers:
    their buffers are the far end of the service's own connections, not its leak).

    An accept loop is a goroutine blocked in Accept; the goroutines it started (their
    `created by` is the loop's function) serve one connection each. net/http's own
    per-connection goroutine is left out: request handlers are where clients are used.
    """
    loops: set[str] = set()
    for d in obs.dumps:
        for g in d.goroutines:
            names = [f.function for f in g.frames]
            hits = [i for i, n in enumerate(names) if n.startswith(ACCEPT)]
            if hits and hits[-1] + 1 < len(names):  # the caller of the outermost Accept
                loops.add(names[hits[-1] + 1])
    out = {
        g.frames[-1].function
        for d in obs.dumps
        for g in d.goroutines
        if g.frames and g.created_by is not None and g.created_by.function in loops
    }
    return out - {"net/http.(*conn).serve"}


def title(feats: Features, where: str) -> str:
    return f"connections are opened and never released{where}"


# connections that accumulate: in the window (fds, goroutines holding them) or since the
# stored reference and over the Prometheus history (the goroutines that hold them)
ACCUMULATED = ("fd_growth_per_min", "client_conn_growth", "baseline_goroutine_growth_per_min",
               "history_goroutines_delta")  # fmt: skip


# An HTTP/1 connection has two goroutines of its own (the transport's read and write loops):
# a client's keep-alive pool that holds one connection more at the end of a few seconds
# than at their start is the pool's size moving with the load, the count's resolution (the
# scenarios' healthy runs gained 1-2 in 12 runs of 136 with nothing else growing, their
# connection leaks 1 of 50), not connections left open.
ONE_CONNECTION = 2


# Goroutines and open fds are read at different instants (the dumps, the metrics): "as many"
# within a fifth. The scenarios' stuck-handler deadlocks grew 0.90-1.01 goroutines per fd.
SAME_PACE = 0.8


# open connections accumulate on a starved machine too: not a timing verdict
def _inbound(feats: Features) -> str | None:
    """Open fds that grew with as many new goroutines, none of them on a client connection
    (counted at both ends of the window), while request handlers are stuck across it: the
    fds are inbound connections of requests that do not finish (a deadlock, a dependency
    that never answers), each with its handler goroutine; a leak is outbound connections
    opened and not released."""
    fds, gs = feats.get("fd_growth_per_min") or 0, feats.get("goroutine_growth_per_min") or 0
    client, stuck = feats.get("client_conn_growth"), feats.get("stuck_handlers") or 0
    # one connection more is the pool's size moving with the load, as in `unsupported`
    if client is None or client > ONE_CONNECTION or not stuck or gs < SAME_PACE * fds:
        return None
    return (f"open fds grew by {fds:.0f}/min with {many(gs, 'goroutine', '.0f')}/min, none more "
            f"on a client connection, while {stuck} request handlers are stuck across the "
            f"window: inbound connections of requests that do not finish, not connections "
            f"left open; what the stuck handlers wait on is the cause")  # fmt: skip


def _own_fds(feats: Features) -> bool:
    """Open fds that rose over the window by no more than the observer's own connections
    (limits.OBSERVER_CONNECTIONS): those are godiag's, not the service's (healthy
    recordings here rose by 6 at most, connection leaks by 10 and more)."""
    grew = feats.get("fd_growth")
    return grew is not None and grew <= OBSERVER_CONNECTIONS


def unsupported(feats: Features) -> str | None:
    """No connection-leak without a connection: open fds that grow, goroutines holding
    client connections (HTTP transports' read/write loops, client calls), or live memory
    allocated under a dial. Parked goroutines alone (retries sleeping, say) are not it.
    And a leak accumulates: when the dumps at both ends were counted, connections held
    at both ends in the same number, with nothing growing since the reference, are a pool
    (keep-alive connections of a healthy client)."""
    grew = [n for n in ACCUMULATED if (feats.get(n) or 0) > 0
            and not (n == "fd_growth_per_min" and _own_fds(feats))
            and not (n == "client_conn_growth" and feats[n] <= ONE_CONNECTION)]  # fmt: skip
    if grew == ["fd_growth_per_min"] and (why := _inbound(feats)) is not None:
        return why
    if grew:
        return None
    held = feats.get("client_conn_goroutines") or 0
    if feats.get("client_conn_growth") is not None and held > 0:
        more = feats.get("client_conn_growth") or 0
        more_s = (f"{more} more at its end (one connection's read and write loops)"
                  if more > 0 else "none more at its end")  # fmt: skip
        return (f"{many(held, 'goroutine')} {agree(held, 'holds', 'hold')} client connections "
                f"at both ends of the window, "
                f"{more_s}, and open fds did not grow: a pool of connections "
                f"in use, not connections left open; "
                f"{would_decide(feats, 'process_open_fds history')}")  # fmt: skip
    seen = ("client_conn_goroutines", "dial_live_bytes")
    if any((feats.get(n) or 0) > 0 for n in seen):
        return None
    if feats.get("open_fds") is None:
        return (
            "no connection was seen: open fds are not measured (no process_open_fds in "
            "/metrics, not a local process), no goroutine holds a client connection and no "
            "live memory was allocated under a dial; process_open_fds in /metrics would decide"
        )
    return (
        "no connection was seen: open fds did not grow, no goroutine holds a client "
        "connection and no live memory was allocated under a dial; "
        + would_decide(feats, "process_open_fds history")
    )


def measured(feats: Features, window_s: float) -> list[str]:
    """What the window saw of connections: the open fds (from /metrics, or /proc for a
    local process) and the goroutines holding a client connection, each with its change."""
    parts = []
    if (f := feats.get("open_fds")) is not None:
        parts.append(f"{f:.0f} open fds{change_in(feats.get('fd_growth_per_min'), window_s)}")
    if (n := feats.get("client_conn_goroutines")) is not None:
        grew = feats.get("client_conn_growth")
        more = "" if grew is None else f" ({grew:+.0f} between the dumps)"
        parts.append(
            f"{many(n, 'goroutine', '.0f')} on connections other than an HTTP server's{more}"
        )
    return measured_line(parts)


def _to_itself(feats: Features) -> str | None:
    """Connections that grew mostly to the service's own address (/proc, a local process):
    requests it makes to itself, an in-process client or a self-call, each served by its
    own server side. They rise and fall with that traffic (a load that ramps up, long
    polls waiting), so a window that saw them rise has not seen a leak yet."""
    mine, total = feats.get("self_conn_growth"), feats.get("peer_conn_growth")
    if not mine or not total or mine <= ONE_CONNECTION or mine < total / 2:
        return None
    return (f"{mine:.0f} of the {total:.0f} TCP connections gained over the window go to "
            f"the service's own address: requests it makes to itself (an in-process "
            f"client, a self-call), each served by its own server side, rise and fall with "
            f"that traffic; a diagnosis when that traffic is steady (the count levels off, "
            f"or climbs on) would decide")  # fmt: skip


KIND = Kind(
    "connection-leak",
    title,
    locator,
    unsupported=unsupported,
    doubt=_to_itself,
    measured=measured,
    explained_by=frozenset({"unclosed-response-body", "transport-per-request"}),
)
