"""Rule 8: goroutines that parked one by one while go_goroutines grew linearly, and stayed;
without a history, goroutines that parked one by one over minutes of which none left in the
window while their group grew (`stayed`)."""

from __future__ import annotations

from godiag.analysis import history
from godiag.analysis.goroutines import GroupGrowth, ids
from godiag.analysis.rootcause import locate
from godiag.analysis.rootcause.derived import Derived
from godiag.analysis.rootcause.longterm.common import CLEAR_AGE_S, HISTORY_GROWTH_MIN, OLD_WAIT_MIN
from godiag.analysis.rootcause.longterm.since import _piles_up
from godiag.model.observation import Observation
from godiag.words import many

# Rule 8: whole-minute wait values among one group's goroutines that show they parked one
# by one (a leak adds some every minute; a pool started at once shows one value, two with
# a late joiner), and the share of the group that has waited a minute or more
ARRIVAL_MINUTES = 3
STAY_SHARE = 0.5


def arrivals(t: history.Trend | None, derived: Derived) -> tuple[GroupGrowth, str] | None:
    """Rule 8 of the module's docstring: the blocked group that holds a linear go_goroutines
    history's growth, its goroutines parked throughout the history and still there, with the
    line that says so (None when there is no such history or group)."""
    if (t is None or t.shape != "linear" or t.span_s < CLEAR_AGE_S
            or t.delta < HISTORY_GROWTH_MIN["go_goroutines"]):  # fmt: skip
        return None
    prefix = derived.prefix
    g = _candidate(derived)
    if g is None:
        return None
    waits = g.group.waits
    if (
        g.count < t.delta / 2
        or _old(g) < STAY_SHARE * g.count
        or len(waits) < ARRIVAL_MINUTES
        or g.wait_max < t.minutes - 1
    ):
        return None
    where = locate.where(locate.user(g, prefix))
    how = "asleep" if g.category == "sleep" else f"blocked on {g.state}"
    return g, (f"{many(g.count, 'goroutine', ',')} {how} in {where} parked one by one over the "
               f"{t.minutes:.0f} min that go_goroutines grew by {t.delta:+,.0f} and none left: "
               f"their waits run from {min(waits)} to {g.wait_max} min, {_old(g):,} of them a "
               f"minute or more")  # fmt: skip


def arrived(obs: Observation, derived: Derived) -> tuple[GroupGrowth, str] | None:
    """Rule 8 from the observation itself, for the locators (which call it, as `gather`
    does, only when no baseline dump of this process is there to compare with)."""
    pts = obs.trends.get("go_goroutines")
    return (arrivals(history.trend(pts), derived) if pts else None) or stayed(obs, derived)


# Departures a group turning over would show in the window for its silence to count: with
# five expected, none seen happens by chance under 1% of the time (Poisson).
TURNOVER_MIN = 5


def stayed(obs: Observation, derived: Derived) -> tuple[GroupGrowth, str] | None:
    """Rule 8 without a history: the blocked group whose goroutines parked one by one over
    minutes (waits over ARRIVAL_MINUTES whole-minute values, STAY_SHARE of them a minute or
    more), that grew in the window, and of which none there at the window's start had left
    at its end (by goroutine id). Long polls and streams show the same spread of waits, but
    they come and go: goroutines that stay at most `wait_max + 1` minutes leave at a rate of
    at least count / (wait_max + 1) a minute, and the rule asks that TURNOVER_MIN of them
    would have left in the window. None when the dumps carry no ids (debug=1)."""
    if len(obs.dumps) < 2 or obs.duration <= 0:
        return None
    g = _candidate(derived)
    if g is None or g.growth <= 0:
        return None
    waits = g.group.waits
    if len(waits) < ARRIVAL_MINUTES or _old(g) < STAY_SHARE * g.count:
        return None
    before, after = (ids(d, g.key) for d in (obs.dumps[0], obs.dumps[-1]))
    if not before or after is None:
        return None
    expected = len(before) * obs.duration / (60 * (g.wait_max + 1))
    if before - after or expected < TURNOVER_MIN:
        return None
    where = locate.where(locate.user(g, derived.prefix))
    how = "asleep" if g.category == "sleep" else f"blocked on {g.state}"
    return g, (f"{many(g.count, 'goroutine', ',')} {how} in {where} parked one by one (their "
               f"waits run from {min(waits)} to {g.wait_max} min, {_old(g):,} of them a minute or "
               f"more), "
               f"{g.growth:+,} in the window, and none of the {len(before):,} there at its start "
               f"left in its {obs.duration:.0f} s: goroutines that come and go after waits "
               f"that long would have lost {expected:.0f}")  # fmt: skip


def _candidate(derived: Derived) -> GroupGrowth | None:
    """The group of blocked (or minute-long asleep) goroutines of the service's own code
    with the most goroutines that have waited a minute or more; lock waiters piling up are
    deadlock's and contention's (rule 7)."""
    prefix = derived.prefix
    cands = [
        g
        for g in derived.groups
        if g.count > 0
        and _piles_up(g)
        and g.category != "lock"
        and not locate.observing(g, prefix)
        and locate.user(g, prefix) is not None
    ]
    return max(cands, key=lambda g: (_old(g), g.count)) if cands else None


def _old(g: GroupGrowth) -> int:
    """A group's goroutines that have waited a minute or more."""
    return sum(n for w, n in g.group.waits.items() if w >= OLD_WAIT_MIN)
