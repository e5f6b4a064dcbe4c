"""gc-pressure: the garbage collector runs constantly.

Location: with a tiny GOGC (25% or less) the live heap's main site, where the data is built
(and the setting made); else the site allocating most bytes over the window.
"""

from __future__ import annotations

from godiag.analysis import sites
from godiag.analysis.rootcause import locate
from godiag.analysis.rootcause.derived import Derived
from godiag.analysis.rootcause.kinds.base import Features, Kind


def locator(obs: locate.Observed, derived: Derived) -> locate.Located:
    prefix = derived.prefix
    if len(obs.heap) != 2:
        return None, []
    gogc = _gogc(obs)
    if gogc is not None and 0 <= gogc <= 25:
        # the collector runs often because GOGC is tiny relative to a large live heap:
        # the live heap's main site is where the setting is made and the data is built
        live = sites.top(sites.by_site(obs.heap[-1], "inuse_space", prefix))
        if live is not None:
            loc = locate.loc(live[0])
            return loc, [
                f"GOGC is {gogc:g}% with {live[1] / 2**20:.0f} MiB live from {locate.where(loc)}"
            ]
    a, b = (sites.by_site(p, "alloc_space", prefix) for p in obs.heap)
    hit = sites.top(sites.growth(a, b))
    if hit is None:
        return None, []
    loc = locate.loc(hit[0])
    return loc, [f"{hit[1] / 2**20:.1f} MiB allocated at {locate.where(loc)} during the window"]


def _gogc(obs: locate.Observed) -> float | None:
    for smp in reversed(obs.samples):
        if "go_gc_gogc_percent" in smp.values:
            return smp.values["go_gc_gogc_percent"]
    return None


def title(feats: Features, where: str) -> str:
    return f"the garbage collector runs constantly, allocations{where}"


# GC rates are the service's own only when it gets the CPUs it asks for
KIND = Kind("gc-pressure", title, locator, timing=True)
