"""memory-leak: the live heap keeps growing.

Location: the site whose in-use heap grew most between the two absolute heap snapshots
(each taken right after a GC); with a stored baseline, the site that grew most since it
when that growth is decisive (longterm.heap_decisive: MBs at one site, and the window
saw it grow too or was inconclusive): a slow leak is below the heap sampler in a window.
"""

from __future__ import annotations

from godiag.analysis import sites
from godiag.analysis.rootcause import locate, longterm
from godiag.analysis.rootcause.derived import Derived
from godiag.analysis.rootcause.kinds.base import Features, Kind


def _heap_growth(obs: locate.Observed, prefix: str | None) -> tuple[sites.Site, int] | None:
    if len(obs.heap) != 2:
        return None
    a, b = (sites.by_site(p, "inuse_space", prefix) for p in obs.heap)
    return sites.top(sites.growth(a, b))


def locator(obs: locate.Observed, derived: Derived) -> locate.Located:
    since = longterm.heap_since(obs, derived.prefix)
    if since is not None and since.site is not None and longterm.heap_decisive(since):
        return locate.loc(since.site), [longterm.heap_line(since)]
    hit = _heap_growth(obs, derived.prefix)
    if hit is None:
        return None, []
    loc = locate.loc(hit[0])
    return loc, [f"live heap allocated at {locate.where(loc)} grew by {hit[1] / 2**20:.2f} MiB"]


def title(feats: Features, where: str) -> str:
    return f"live heap keeps growing, allocated{where}"


# what accumulates keeps accumulating on a starved machine: not a timing verdict
KIND = Kind("memory-leak", title, locator, explained_by=frozenset({"timer-leak"}))
