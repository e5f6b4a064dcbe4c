"""Rule 8: goroutines that parked one by one while go_goroutines grew linearly, and stayed."""

from __future__ import annotations

from godiag.analysis import history
from godiag.analysis.goroutines import GroupGrowth
from godiag.analysis.rootcause import locate
from godiag.analysis.rootcause.derived import Derived
from godiag.analysis.rootcause.longterm.common import CLEAR_AGE_S, HISTORY_GROWTH_MIN, OLD_WAIT_MIN
from godiag.analysis.rootcause.longterm.since import _piles_up
from godiag.model.observation import Observation

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
    # (lock waiters piling up are deadlock's and contention's: rule 7)
    cands = [
        g
        for g in derived.groups
        if g.count > 0
        and _piles_up(g)
        and g.category != "lock"
        and not locate.observing(g, prefix)
        and locate.user(g, prefix) is not None
    ]
    if not cands:
        return None
    g = max(cands, key=lambda g: (_old(g), g.count))
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
    return g, (f"{g.count:,} goroutines {how} in {where} parked one by one over the "
               f"{t.minutes:.0f} min that go_goroutines grew by {t.delta:+,.0f} and none left: "
               f"their waits run from {min(waits)} to {g.wait_max} min, {_old(g):,} of them a "
               f"minute or more")  # fmt: skip


def arrived(obs: Observation, derived: Derived) -> tuple[GroupGrowth, str] | None:
    """Rule 8 from the observation itself, for the locators (which call it, as `gather`
    does, only when no baseline dump of this process is there to compare with)."""
    pts = obs.trends.get("go_goroutines")
    return arrivals(history.trend(pts), derived) if pts else None


def _old(g: GroupGrowth) -> int:
    """A group's goroutines that have waited a minute or more."""
    return sum(n for w, n in g.group.waits.items() if w >= OLD_WAIT_MIN)
