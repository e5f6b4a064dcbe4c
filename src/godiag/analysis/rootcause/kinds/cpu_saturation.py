"""cpu-saturation: CPU burnt in the service's own code.

Location: the hottest user function of the CPU profile, at its hottest line; without a
profile, the user frame most often seen running in the dumps.
"""

from __future__ import annotations

from godiag.analysis import sites
from godiag.analysis.rootcause import locate
from godiag.analysis.rootcause.derived import Derived
from godiag.analysis.rootcause.kinds.base import Features, Kind


def locator(obs: locate.Observed, derived: Derived) -> locate.Located:
    prefix = derived.prefix
    if obs.cpu is not None:
        hot = sites.function_hotspot(sites.by_site(obs.cpu, "cpu", prefix))
        if hot is not None:
            loc = locate.loc(hot[0])
            return loc, [f"CPU profile: {hot[1] / 1e9:.2f}s in {locate.where(loc)}"]
    busy = locate.dump_sites(obs, prefix, lambda g, frames: g.state in ("running", "runnable"))
    hit = sites.function_hotspot(busy)
    if hit is None:
        return None, []
    loc = locate.loc(hit[0])
    return loc, [
        f"seen running {hit[1]} time(s) in the dumps at {locate.where(loc)} (no CPU profile)"
    ]


def title(feats: Features, where: str) -> str:
    return f"CPU burnt{where}"


# a CPU-bound service on a machine full of other work gets what is left and reads as idle
KIND = Kind("cpu-saturation", title, locator, timing=True)
