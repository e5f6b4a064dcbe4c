"""How the long-term evidence moves the model's ranking and its verdict: decisive (rule 1),
cleared (rule 5, rule 6), doubt (rule 3), and rule 9's lead, which never decides."""

from __future__ import annotations

from typing import Any

from godiag.analysis.rootcause import locate
from godiag.analysis.rootcause.longterm import bodies, fds
from godiag.analysis.rootcause.longterm.common import (
    CLEAR_AGE_S,
    CORROBORATE_MIN_S,
    HEAP_MIN_BYTES,
    HISTORY_GROWTH_MIN,
    HISTORY_MIN_S,
    NOT_GROWING,
    LongTerm,
    _ago,
    _history_line,
    _mb,
    against_reference,
    mb_under,
)
from godiag.analysis.rootcause.longterm.connections import _pool_exhausted, connections_left_open
from godiag.analysis.rootcause.longterm.orphans import undecided as orphans_undecided
from godiag.analysis.rootcause.longterm.since import (
    by_ids,
    consistency,
    goroutines_decisive,
    heap_decisive,
    history_decisive,
    looping_line,
    other_load,
)
from godiag.words import many

# Rule 1: a decided kind's probability moves half-way to 1, and to this at least
RAISED = 0.75

# The heads of the evidence lines of a probability a rule set (rule 1: decisive; rules 9,
# 10, 11: a lead): a figure of the rule's, not the model's calibrated one
DECISIVE = "decisive evidence: "
LEADS_TO = "points to it without deciding: "
# the healthy cause's line over what the reference and the history cleared
COMPARED = "what was compared before the window did not accumulate"


def _stopped(lt: LongTerm, series: str) -> bool:
    """Prometheus saw the series not growing by its end over HISTORY_MIN_S or more: flat,
    periodic, declining, or grown and levelled off (a cache or pool that filled up). What
    grew since a reference older than the levelling is the filling, not a leak."""
    t = lt.trends.get(series)
    return t is not None and t.span_s >= HISTORY_MIN_S and t.shape in (*NOT_GROWING, "level-off")


def _linear(lt: LongTerm, series: str) -> bool:
    t = lt.trends.get(series)
    return t is not None and t.shape == "linear"


def _grew_since(lt: LongTerm) -> bool:
    return heap_decisive(lt.heap) and not _stopped(lt, "heap_live_bytes")


def young(lt: LongTerm) -> bool:
    """Rule 1's heap growth at one site against a reference under HISTORY_MIN_S old, the
    span the history needs to tell growth from a level-off: a cache filling up, a pool
    growing to its size or a service warming up grows the same way for that long (a bounded
    LRU of a blind trial grew 6.5 MiB at one site between 30 s and 60 s of uptime, then
    stayed flat), so it leads without deciding."""
    return _grew_since(lt) and lt.heap is not None and lt.heap.age_s < HISTORY_MIN_S


def decisive(lt: LongTerm) -> dict[str, str]:
    """Kind -> the rule that decided it (rule 1 of the module's docstring)."""
    out: dict[str, str] = {}
    if _grew_since(lt) and not young(lt):
        out["memory-leak"] = "heap growth in one function since the baseline"
    elif history_decisive(lt, "heap_live_bytes"):
        out["memory-leak"] = "linear live-heap growth in the Prometheus history"
    why = None
    if goroutines_decisive(lt.goroutines) and not _stopped(lt, "go_goroutines"):
        why = "a blocked group grew since the baseline, " + (
            "its goroutines of then still there" if by_ids(lt.goroutines) else "with old waits"
        )
    elif history_decisive(lt, "go_goroutines"):
        why = "linear go_goroutines growth in the Prometheus history"
    elif lt.arrived is not None and not _stopped(lt, "go_goroutines"):
        why = ("goroutines that parked one by one while go_goroutines grew, and stayed"
               if _linear(lt, "go_goroutines")
               else "goroutines that parked one by one over minutes, and none left")  # fmt: skip
    if why is not None and (conn := connections_left_open(lt) or _pool_exhausted(lt)) is not None:
        out["connection-leak"] = f"{why}; {conn}"
    elif why is not None:
        out["goroutine-leak"] = why
    if "connection-leak" not in out and lt.unread is not None and lt.unread.held:
        out["connection-leak"] = (
            "response bodies nobody read for a minute or more, each holding its connection"
        )
    if lt.cycle:
        out["deadlock"] = f"a lock-order cycle of {many(lt.cycle, 'goroutine')} in the dump"
    elif lt.inversion is not None:
        out["deadlock"] = "lock waits of a minute or more in two functions"
    elif lt.held is not None:
        out["deadlock"] = lt.held
    return out


# Rule 5: what a cleared kind keeps of its probability (the rest goes to the other kinds in
# their proportions)
CLEARED = 0.2
# goroutines added with old waits since the reference under which nothing stayed: a few
# come and go with long requests and keep-alive connections
CLEAR_GOROUTINES = 3
_SERIES_OF = {"memory-leak": "heap_live_bytes", "goroutine-leak": "go_goroutines",
              "connection-leak": "process_open_fds"}  # fmt: skip


def cleared(lt: LongTerm) -> dict[str, str]:
    """Kind -> what reaching before the window shows did not accumulate (rule 5)."""
    out: dict[str, str] = {}
    h, g = lt.heap, lt.goroutines
    if (
        h is not None
        and h.age_s >= CLEAR_AGE_S
        and max(h.total_growth, h.site_growth) < HEAP_MIN_BYTES
    ):
        sign = "+" if h.total_growth >= 0 else "-"
        out["memory-leak"] = (f"the live heap changed by {sign}"
                              f"{mb_under(abs(h.total_growth), HEAP_MIN_BYTES)} since the "
                              f"baseline capture {_ago(h.age_s)} ago (under "
                              f"{HEAP_MIN_BYTES >> 20} MiB at any site)")  # fmt: skip
    if g is not None and g.age_s >= CLEAR_AGE_S and g.may_stay < CLEAR_GOROUTINES:
        line = (f"since the baseline capture {_ago(g.age_s)} ago no goroutine group grew but "
                f"for goroutines waiting under a minute ({g.total_growth:+d} in all): work "
                f"in progress, not goroutines that stay")  # fmt: skip
        out["goroutine-leak"] = out["connection-leak"] = line
    for kind, series in _SERIES_OF.items():
        t = lt.trends.get(series)
        if kind not in out and t is not None and t.shape in NOT_GROWING and t.span_s >= CLEAR_AGE_S:
            out[kind] = f"{_history_line(lt, series)}"
    return out


def adjust(
    ranked: list[tuple[str, float]],
    lt: LongTerm,
    deadlock_at: dict[str, Any] | None = None,
) -> tuple[list[tuple[str, float]], dict[str, str]]:
    """The model's ranking after rules 1 and 5: (ranking, kind -> what moved it and how;
    "healthy" -> what the cleared kinds were, when any was). `deadlock_at`, deadlock's
    location: goroutines there that loop (rule 6) clear deadlock as rule 5 clears the
    kinds that accumulate."""
    probs = dict(ranked)
    notes: dict[str, str] = {}
    raised = decisive(lt)
    against = {k: why for k, why in cleared(lt).items() if k in probs and k not in raised}
    loops = looping_line(deadlock_at, lt)
    if loops is not None and "deadlock" in probs and "deadlock" not in raised:
        against["deadlock"] = loops
    if against and len(against) < len(probs):
        before = dict(probs)
        for k in against:
            probs[k] *= CLEARED
        total = sum(probs.values())
        probs = {k: v / total for k, v in probs.items()}
        for k, why in against.items():
            notes[k] = (f"long-term evidence against: {why} (probability {before[k]:.2f} -> "
                        f"{probs[k]:.2f})")  # fmt: skip
        piled = sorted({why for k, why in against.items() if k != "deadlock"})
        if piled:
            # scoped to what the reference and the history compared (goroutines, the live
            # heap): "nothing accumulated" read beside open fds that had tripled
            notes["healthy"] = f"{COMPARED}: " + "; ".join(piled)
    for kind, why in raised.items():
        if kind not in probs:
            continue
        p = probs[kind]
        new = _move(probs, kind, max(RAISED, p + (1 - p) / 2))
        notes[kind] = f"{DECISIVE}{why} (probability {p:.2f} -> {new:.2f})"
    top = max(probs, key=lambda k: probs[k]) if probs else None
    for kind in leads(lt):
        if kind not in probs or probs[kind] >= LEAD or kind in raised:
            continue
        # what the window alone shows stands against "healthy", not against a fault the
        # model saw (leaked goroutines and connections keep their memory too), and a
        # memory-leak the model put first keeps the model's verdict
        if kind == "memory-leak" and lt.kept is not None and lt.kept.window and top != "healthy":
            continue
        if kind == "goroutine-leak" and top != "healthy":  # rule 12: the window alone
            continue
        p = probs[kind]
        _move(probs, kind, LEAD)
        notes[kind] = (f"{LEADS_TO}{_lead_name(kind, lt)} (probability "
                       f"{p:.2f} -> {LEAD:.2f})")  # fmt: skip
    out = sorted(probs.items(), key=lambda kv: -kv[1])
    return out, notes


def evidenced(notes: dict[str, str]) -> frozenset[str]:
    """The kinds of `adjust`'s notes that a lead (rules 9, 10, 11) put first on evidence of
    their own (unread response bodies holding connections, a site keeping what it allocates
    while the live heap grows): that evidence is there, whatever the window's features lack,
    and a lead never decides. Not rule 1's decisive kinds: a kind's check that finds its
    evidence is another kind's (goroutines that are connections' read loops) outranks a
    decision on the same growth."""
    return frozenset(k for k, line in notes.items() if line.startswith(LEADS_TO))


def _move(probs: dict[str, float], kind: str, new: float) -> float:
    """Set `kind` to `new` in place, the other kinds sharing the rest in their proportions;
    returns `new`."""
    rest = 1 - probs[kind]
    for k in probs:
        if k != kind:
            probs[k] = probs[k] * (1 - new) / rest if rest > 0 else 0.0
    probs[kind] = new
    return new


# Rules 9 and 10 put their kind first with this probability, more likely than not, and no
# more: rule 9 cannot tell a leak from a cache still filling, rule 10 a body never closed
# from one closed late
LEAD = 0.6
_LEADS = {
    "memory-leak": "a site that kept what it allocated while the live heap grew",
    "connection-leak": "responses nobody reads at both ends of the window",
    "goroutine-leak": "senders whose receiver returned, at both ends of the window",
}


YOUNG = f"heap growth in one function since a baseline under {HISTORY_MIN_S:.0f} s old"


def _lead_name(kind: str, lt: LongTerm) -> str:
    if kind == "connection-leak" and not (lt.unread is not None and lt.unread.found):
        return lt.fds[0] if lt.fds is not None else fds.CLIMBED
    if kind == "memory-leak" and young(lt):
        return YOUNG
    return _LEADS[kind]


def leads(lt: LongTerm) -> dict[str, str]:
    """Kind -> the line of rule 9, 10 or 11, when no rule decided that kind."""
    out: dict[str, str] = {}
    decided = decisive(lt)
    # from the window alone it speaks only where nothing else was decided: leaked goroutines
    # and connections keep what they allocated too
    if young(lt) and lt.heap is not None:
        h = lt.heap
        out["memory-leak"] = (f"the live heap grew {_mb(h.total_growth)} since a baseline capture "
                              f"only {_ago(h.age_s)} old, {_mb(h.site_growth)} of it in the "
                              f"function of {locate.where(locate.loc(h.site))}")  # fmt: skip
    elif lt.kept is not None and "memory-leak" not in decided and not (lt.kept.window and decided):
        out["memory-leak"] = lt.kept.line
    if lt.unread is not None and lt.unread.found and "connection-leak" not in decided:
        out["connection-leak"] = bodies.undecided(lt.unread)
    elif lt.fds is not None and "connection-leak" not in decided:
        out["connection-leak"] = fds.undecided(lt.fds)
    if lt.orphans is not None and not {"goroutine-leak", "connection-leak"} & decided.keys():
        out["goroutine-leak"] = orphans_undecided(lt.orphans)
    return out


def undecided(top_kind: str, lt: LongTerm) -> str | None:
    """Why a kind that rule 9 or 10 put first is not sure, and what would decide it."""
    why = leads(lt).get(top_kind)
    if why is None or top_kind != "memory-leak":
        return why
    up = lt.uptime_s
    warming = (f" or a service warming up (it started {_ago(up)} ago)"
               if up is not None and up < 2 * CORROBORATE_MIN_S else "")  # fmt: skip
    if young(lt):
        return (f"{why}: for that long a cache still filling{warming} grows the same way; a "
                f"diagnosis against the same baseline once it is minutes old would tell them "
                f"apart")  # fmt: skip
    return (f"{why}, and so does a cache still filling{warming}: "
            f"{CORROBORATE_MIN_S / 60:.0f} min of history, or a baseline stored now "
            f"(`godiag diagnose URL --store --as-baseline`) and a diagnosis a few minutes "
            f"later, would tell them apart")  # fmt: skip


def doubt(top_kind: str, lt: LongTerm) -> str | None:
    """Rule 3: why a "healthy" top cause is not sure given what grew before the window."""
    if top_kind != "healthy":
        return None
    h = lt.heap
    # a level that moves by half the difference within the window's seconds is not a trend
    moves = consistency(h) == "swings"
    if h is not None and h.site is not None and h.site_growth >= HEAP_MIN_BYTES and not moves:
        where = locate.where(locate.loc(h.site))
        grew = (f"the live heap grew {h.total_growth / 2**20:.1f} MiB since the baseline "
                f"{_ago(h.age_s)} ago, {_mb(h.site_growth)} of it in the function of "
                f"{where}")  # fmt: skip
        if (load := other_load(h)) is not None:
            return f"{grew}, but {load}"
        return (f"{grew}; a later diagnosis against the same baseline, or `godiag check --rule "
                f"memory-leak --baseline latest`, would decide")  # fmt: skip
    # (goroutines that grew since the baseline with young waits are a batch running now:
    # no doubt; with old waits rule 1 decided already)
    for series in ("go_goroutines", "heap_live_bytes"):
        t = lt.trends.get(series)
        if t is not None and t.shape == "linear" and t.delta >= HISTORY_GROWTH_MIN[series]:
            ref = lt.heap or lt.goroutines
            later = ("a baseline stored now and a diagnosis minutes later" if ref is None
                     else against_reference(ref.age_s))  # fmt: skip
            return (f"{_history_line(lt, series)}: a slow leak looks like this; "
                    f"{CORROBORATE_MIN_S / 60:.0f} min of that history or {later} would "
                    f"decide")  # fmt: skip
    return None
