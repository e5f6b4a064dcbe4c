"""Rule 9: with no baseline heap, a site that kept nearly all it ever allocated while the
live heap's history grew linearly."""

from __future__ import annotations

from godiag.analysis import history, sites
from godiag.analysis.rootcause import locate
from godiag.analysis.rootcause.derived import Derived
from godiag.analysis.rootcause.longterm.common import (
    CLEAR_AGE_S,
    HISTORY_GROWTH_MIN,
    Kept,
    _mb,
    _trends,
)
from godiag.analysis.rules.memory_leak import DEFAULT_PERIOD
from godiag.model.observation import Observation

# Rule 9: what a leaking site holds of all it allocated since the process started (the heap
# profile's alloc_space is cumulative, its inuse_space what the last GC found live). A leak
# keeps nearly all of it; a working set that comes and goes with requests keeps what is in
# flight (a streaming handler's frames: 71% at most in these recordings) and a pool or
# buffer reused keeps one round. Four sampling periods at least, so that the share is not
# one or two samples'.
KEEP_SHARE = 0.8
KEPT_MIN_BYTES = 4 * DEFAULT_PERIOD


def retained(obs: Observation, trends: dict[str, history.Trend], prefix: str | None) -> Kept | None:
    """Rule 9 of the module's docstring: with no baseline heap, a live-heap history grown
    linearly by a leak's amount for CLEAR_AGE_S or more, while go_goroutines did not grow
    by a leak's count (goroutines carry memory of their own: rules 1 and 8 are theirs),
    and the service's site of the end heap profile that holds most among those that kept
    KEEP_SHARE of all they allocated. It points at memory-leak and names the site; it
    does not decide (a cache still filling keeps all it allocates too)."""
    t, g = trends.get("heap_live_bytes"), trends.get("go_goroutines")
    if (t is None or t.shape != "linear" or t.span_s < CLEAR_AGE_S
            or t.delta < HISTORY_GROWTH_MIN["heap_live_bytes"] or not obs.heap):  # fmt: skip
        return None
    if g is not None and g.shape == "linear" and g.delta >= HISTORY_GROWTH_MIN["go_goroutines"]:
        return None
    inuse, alloc = (sites.by_site(obs.heap[-1], v, prefix) for v in ("inuse_space", "alloc_space"))
    cands = [(n, s) for s, n in inuse.items() if sites.is_user(s[0], prefix)
             and n >= KEPT_MIN_BYTES and n >= KEEP_SHARE * alloc.get(s, 0)]  # fmt: skip
    if not cands:
        return None
    n, site = max(cands)
    made = alloc.get(site, 0)
    where = locate.where(locate.loc(site))
    return Kept(site, n, made, (
        f"the live heap grew by {t.delta / 2**20:.1f} MiB, linearly, over the {t.minutes:.1f} "
        f"min of its history, and {where} holds {_mb(n)}, {n / max(1, made):.0%} of all it "
        f"allocated since the process started: a leak keeps what it allocates"))  # fmt: skip


# Rule 9 within the window, when there is no history: the share a site must keep of all it
# allocated since the process started, and of what it allocated between the window's two
# heap profiles. Both are cumulative or absolute (no sampler noise of a diff at the site
# beyond one sample), so nearly all, where the history's rule asks KEEP_SHARE.
WINDOW_SHARE = 0.9


def kept_now(obs: Observation, prefix: str | None) -> Kept | None:
    """Rule 9 from the window's two heap profiles alone: the service's site holding most
    among those that keep WINDOW_SHARE of all they allocated since the process started,
    KEPT_MIN_BYTES or more, and that allocated during the window (a sampling period or
    more) and kept WINDOW_SHARE of that too. A site that filled once and stopped (a cache
    warmed at start, a table loaded) allocates nothing now; one that turns its entries over
    or serves a working set keeps a fraction. A leak keeps all it allocates, and so does a
    cache still filling: like rule 9, it points without deciding."""
    if obs.baseline_heap is not None or len(obs.heap) != 2:
        return None
    (inuse0, alloc0), (inuse, alloc) = (
        (sites.by_site(p, "inuse_space", prefix), sites.by_site(p, "alloc_space", prefix))
        for p in obs.heap
    )
    period = obs.heap[-1].period or DEFAULT_PERIOD
    cands = []
    for s, n in inuse.items():
        made, new = alloc.get(s, 0), alloc.get(s, 0) - alloc0.get(s, 0)
        if (sites.is_user(s[0], prefix) and n >= KEPT_MIN_BYTES and n >= WINDOW_SHARE * made
                and new >= period and n - inuse0.get(s, 0) >= WINDOW_SHARE * new):  # fmt: skip
            cands.append((n, s, made, new))
    if not cands:
        return None
    n, site, made, new = max(cands)
    where = locate.where(locate.loc(site))
    return Kept(site, n, made, (
        f"{where} holds {_mb(n)}, {n / max(1, made):.0%} of all it allocated since the "
        f"process started, and kept all it allocated during the window ({_mb(new)}): a leak "
        f"keeps what it allocates"), window=True)  # fmt: skip


def kept(obs: Observation, trends: dict[str, history.Trend], prefix: str | None) -> Kept | None:
    """Rule 9 from the history, else from the window; none when a baseline heap is there
    to compare with (rule 1 does)."""
    if obs.baseline_heap is not None:
        return None
    return retained(obs, trends, prefix) or kept_now(obs, prefix)


def kept_in(obs: Observation, derived: Derived) -> Kept | None:
    """Rule 9 from the observation itself, for memory-leak's locator."""
    return kept(obs, _trends(obs), derived.prefix)
