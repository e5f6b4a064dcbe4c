"""goroutine-leak: goroutines pile up blocked and are never released.

Location: the runtime's leaked goroutines (goroutineleak profile) when it reports them,
else the group that grew by a leak's amount since the stored baseline, else the group
whose goroutines parked one by one while Prometheus saw go_goroutines grow (longterm
rule 8), else the fastest-growing blocked group between the two dumps: its user frame,
and its creation site in the evidence.
"""

from __future__ import annotations

from godiag.analysis import sites
from godiag.analysis.rootcause import locate, longterm
from godiag.analysis.rootcause.derived import Derived
from godiag.analysis.rootcause.kinds.base import Features, Kind, would_decide
from godiag.analysis.rootcause.longterm.common import _ago
from godiag.words import many


def locator(obs: locate.Observed, derived: Derived) -> locate.Located:
    prefix = derived.prefix
    if obs.leak is not None:
        leaked = sites.top(sites.by_site(obs.leak, "goroutine", prefix))
        if leaked is not None:
            loc = locate.loc(leaked[0])
            return loc, [
                f"the runtime reports {leaked[1]} leaked goroutines at {locate.where(loc)}"
            ]
    # a group that grew by a leak's amount since the stored reference, with old waits, is
    # the location over the window's few (as memory-leak's decisive baseline site)
    since = longterm.goroutines_since(obs, prefix)
    if since is not None and since.top is not None and longterm.goroutines_decisive(since):
        t = since.top
        loc = locate.user(t, prefix)
        ev = [longterm.goroutine_line(since)]
        if t.created_by:
            ev.append(f"created at {locate.where(locate.loc(t.created_by))}")
        return loc, ev
    # with no baseline: the group that parked one by one while go_goroutines grew (rule 8)
    if since is None and (hit := longterm.arrived(obs, derived)) is not None:
        g, line = hit
        loc = locate.user(g, prefix)
        ev = [line]
        if g.created_by:
            ev.append(f"created at {locate.where(locate.loc(g.created_by))}")
        return loc, ev
    cands = locate.blocked_groups(derived)
    if not cands:
        return None, []
    g = max(cands, key=lambda g: (g.growth, g.count))
    loc = locate.user(g, prefix)
    at = locate.group_where(g, loc)
    ev = [
        f"{many(g.count, 'goroutine')} ({g.growth:+d} in the window) blocked on {g.state} in {at}"
    ]
    if g.created_by:
        ev.append(f"created at {locate.where(locate.loc(g.created_by))}")
    return loc, ev


def title(feats: Features, where: str) -> str:
    # A rate beside the location reads as that group's rate, so only the fastest-growing
    # group's own, and only when it is a blocked one (the group the window names); the
    # process's count moves with work that comes and goes (SeaweedFS at rest: +24/min
    # from +2 goroutines in 5 s, beside an idle group that grew by 0). Only growth: "+0/min"
    # beside "pile up" reads as a contradiction, and so does a rate from one or two more
    # goroutines in 5 s ("+12/min" beside a flat go_goroutines history): not growth at all.
    g = feats.get("top_growth_per_min") if feats.get("top_growth_blocked") else None
    grew = (feats.get("top_growth_count") or 0) >= MIN_GROUP_GROWTH
    return f"goroutines pile up blocked{where}" + (
        f" ({g:+.0f}/min)" if g and g > 0 and grew else ""
    )


# at least this share of the blocked goroutines are handlers stuck across the window: the
# requests themselves do not finish (a long poll's handlers too; a leak's goroutines were
# started by requests that returned)
STUCK_SHARE = 0.5
# growth of the count (window, Prometheus), of a blocked group since the stored reference,
# or goroutines the runtime proved leaked
GROWTH = ("goroutine_growth_per_min", "goroutines_delta_5m", "history_goroutines_delta",
          "baseline_goroutine_growth_per_min", "leaked_goroutines")  # fmt: skip
# what reaches before the window (or the runtime's proof), beside which the window's
# own small differences say nothing
LONGER = GROWTH[1:]
# goroutines one group must gain between the window's two dumps to be growth at all
MIN_GROUP_GROWTH = 3
# a leaked goroutine never leaves its wait: half of a group's goroutines at the start gone
# at the end is a place goroutines are released from (every goroutine-leak recording here
# lost 2% or less; 1 or 2 of 85 and 163 is a goroutine there for other work)
ENDED_SHARE = 0.5
# A leak's goroutines are new ones: the group gains goroutines created since, and the
# process's count rises with it. When half or more of what the group gained were already
# there at the start under another stack, and the count rose by under half the gain, the
# goroutines only changed what they wait on: a fixed pool's workers, busy at the start and
# idle at the end, gain a whole "blocked" group in seconds with the count flat.
MOVED_SHARE = 0.5


def _would_decide(feats: Features) -> str:
    """What reaches past one window's two dumps, from what this diagnosis lacked."""
    return would_decide(feats, "go_goroutines history",
                        runtime="the goroutineleak profile (Go 1.27+)")  # fmt: skip


def unsupported(feats: Features) -> str | None:
    """A leak grows: without growth anywhere it was measured (window, dumps, Prometheus
    history) or a goroutine the runtime proved leaked, many parked goroutines are as
    likely a pool or a burst that drains (idle workers look the same in one window).
    And it keeps growing: a count Prometheus saw flat, periodic or declining over the lookback
    (a minute or more) rules out what the window saw grow, unless the runtime proved a
    goroutine leaked. Goroutines on client connections that grew as much as the fastest-
    growing group are the connections' own: connection-leak's evidence, not this kind's."""
    shape, minutes = feats.get("history_goroutines_shape"), feats.get("history_minutes") or 0
    proven = (feats.get("leaked_goroutines") or 0) > 0
    if shape in longterm.NOT_GROWING and minutes * 60 >= longterm.HISTORY_MIN_S and not proven:
        # what the window saw grow came back down before: batches that drain, not a leak
        return (f"Prometheus saw go_goroutines {shape} over the last {minutes:.0f} min "
                f"(the {many(feats.get('history_goroutines_delta') or 0, 'goroutine', '+.0f')} of "
                "the lookback); goroutines that come and go are work, not a leak - a "
                "longer lookback or the goroutineleak profile (Go 1.27+) would decide")  # fmt: skip
    # goroutines that parked one by one over the history and stayed (longterm rule 8) say
    # more than the window's few seconds of connections and ended waits do
    arrived = (feats.get("history_arrived_goroutines") or 0) > 0
    conn, top = feats.get("client_conn_growth"), feats.get("top_growth_count")
    # each open client connection keeps its own goroutines (net/http's read and write
    # loops, a reader the code started): they grow with the connections
    if (conn is not None and top is not None and top >= MIN_GROUP_GROWTH and conn >= top
            and not proven and not arrived):  # fmt: skip
        return (f"the goroutines that grew are client connections' own: {conn:+d} reading "
                f"or writing a connection (transport loops, network readers), as many as "
                f"or more than the {top:+d} of the fastest-growing blocked group - "
                f"connections opened and not released (connection-leak), not goroutines "
                f"left behind on their own; the goroutineleak profile (Go 1.27+) would "
                f"decide")  # fmt: skip
    ended = feats.get("top_growth_ended_share")
    longer = any((feats.get(n) or 0) > 0 for n in LONGER)
    if ended is not None and ended >= ENDED_SHARE and not proven and not longer:
        return (f"{ended:.0%} of the goroutines the fastest-growing group had at the start of "
                f"the window were gone at its end (by goroutine id): goroutines waiting there "
                f"are released, a leak's never are - work that comes and goes with the load; "
                f"{_would_decide(feats)}")  # fmt: skip
    moved, grew = feats.get("top_growth_moved_share"), feats.get("top_growth_per_min") or 0
    count = feats.get("goroutine_growth_per_min") or 0
    if (moved is not None and moved >= MOVED_SHARE and grew > 0 and count < MOVED_SHARE * grew
            and not proven and not longer):  # fmt: skip
        return (f"{moved:.0%} of the goroutines the fastest-growing group gained were there at "
                f"the window's start under another stack (by goroutine id), and the process's "
                f"count rose by {count / grew:.0%} of that group's gain: goroutines that "
                f"changed what they wait on (a pool's workers going idle after a batch), not "
                f"new ones piling up; {_would_decide(feats)}")  # fmt: skip
    if (burst := _from_zero(feats)) is not None and not proven and not arrived:
        return burst
    stuck, blocked = feats.get("stuck_handlers") or 0, feats.get("blocked_user_goroutines") or 0
    # goroutines waiting on a response inside an HTTP client call are requests in flight
    # too, outbound (an in-process client of the stuck handlers is the other end of them)
    calls = min(blocked, feats.get("blocked_client_calls") or 0)
    blocked -= calls
    if blocked and stuck >= STUCK_SHARE * blocked and not proven:
        # the goroutines that stay are requests still inside their handlers: a leak is
        # goroutines that outlive their request; requests that never finish wait on
        # something that never answers (a lock or channel cycle, a dependency)
        also = f" (and {calls} more inside client calls)" if calls else ""
        return (f"{stuck} of the {blocked} blocked goroutines{also} are request handlers blocked "
                f"at both ends of the window: requests that do not finish, not goroutines "
                f"left behind by finished ones - a deadlock, a lock or a dependency that "
                f"never answers; the goroutineleak profile (Go 1.27+) would decide")  # fmt: skip
    few = feats.get("top_growth_count")
    if (
        few is not None
        and few < MIN_GROUP_GROWTH
        and not any((feats.get(n) or 0) > 0 for n in LONGER)
    ):
        # two instants a few seconds apart: a goroutine or two more waiting in one place is
        # a request in flight as often as a leak (the count's resolution, as the heap
        # profile's sampling period is the heap's)
        return (f"the group of goroutines that grew most in the window gained {few} between "
                f"the two dumps: one or two more goroutines waiting is what requests in "
                f"flight do; {_would_decide(feats)}")  # fmt: skip
    if any((feats.get(n) or 0) > 0 for n in LONGER):
        return None
    # within the window, a leak is blocked goroutines accumulating: the group that grew most
    # must be blocked (goroutines more at work, whether the count rose or not, are traffic:
    # a lock-bound service of 14 goroutines with 3 more at work 5 s later)
    window = (feats.get("goroutine_growth_per_min") or 0) > 0
    if (window or (feats.get("top_growth_per_min") or 0) > 0) and feats.get("top_growth_blocked"):
        return None
    return ("no blocked group of goroutines grew during the window and no goroutine was "
            f"proven leaked; {_would_decide(feats)}")  # fmt: skip


def _from_zero(feats: Features) -> str | None:
    """The group that grew had no goroutine at the window's start, nor in the stored
    baseline: all of it arrived within the window's seconds. A batch that fans out hundreds
    of goroutines every half minute (a blind trial's report job, 300-600 behind a rate
    limiter, gone within seconds) looks so, as does a leak that began just now; nothing
    before the window tells them apart (what Prometheus saw the count do first would)."""
    n = feats.get("top_growth_count") or 0
    rose = any((feats.get(k) or 0) > 0 for k in ("goroutines_delta_5m", "history_goroutines_delta"))
    if not feats.get("top_growth_from_zero") or n < MIN_GROUP_GROWTH or rose:
        return None
    age = feats.get("baseline_age_minutes")
    also = "" if age is None else f", nor in the stored baseline of {_ago(age * 60)} before"
    return (f"all {n} goroutines of the group that grew arrived within the window (none of them "
            f"at its start{also}): a batch fanned out just now looks the same as a leak that "
            f"has just begun; a diagnosis a minute from now would decide (a batch's goroutines "
            f"are gone by then, a leak's are still there)")  # fmt: skip


KIND = Kind(
    "goroutine-leak",
    title,
    locator,
    # a starved service falls behind: requests pile up as goroutines
    timing=True,
    unsupported=unsupported,
    explained_by=frozenset(
        {
            "abandoned-sender",
            "unclosed-range",
            "lost-cancel-watcher",
            "waitgroup-missing-done",
            "timer-leak",
            "lock-not-released",
            "double-lock",
            "receive-never-sent",
            "send-never-received",
            "cond-never-signalled",
        }
    ),
    goroutine_history=True,
)
