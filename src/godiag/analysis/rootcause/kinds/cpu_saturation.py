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
    return f"CPU burnt in the service's own code{where or ' (no hot function found)'}"


# Saturation is CPU used: a process that used under this share of one CPU over the window
# (or its CPU profile) burnt too little to be slowed by it, whatever its hottest function.
MIN_CPU = 0.05


def unsupported(feats: Features) -> str | None:
    """No CPU saturation in a process that hardly used a CPU (its measure was taken), nor
    when the collector takes more of the CPU profile than the service's own code."""
    used = feats.get("cpu_seconds_per_s")
    if used is not None and used < MIN_CPU:
        return (f"the process used {used:.3f} CPU-seconds per second over the window (under "
                f"{MIN_CPU:g} of one CPU): too little for its code to be CPU-bound; a "
                f"diagnosis while the symptom is on would decide")  # fmt: skip
    gc, code = feats.get("cpu_profile_gc_share"), feats.get("cpu_code_share")
    if gc is not None and code is not None and gc > code:
        return (f"{gc:.0%} of the CPU profile is the garbage collector's work (marking, "
                f"sweeping, allocating), more than the {code:.0%} the service's own code "
                f"takes itself: its CPU follows what it allocates, and gc-pressure is as "
                f"likely; the allocation profile (`godiag profile` on the heap profile's "
                f"alloc_space) would decide")  # fmt: skip
    return None


# a CPU-bound service on a machine full of other work gets what is left and reads as idle
KIND = Kind("cpu-saturation", title, locator, timing=True, unsupported=unsupported)
