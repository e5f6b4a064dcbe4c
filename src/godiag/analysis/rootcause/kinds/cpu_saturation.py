"""cpu-saturation: CPU burnt in the service's own code.

Location: the hottest user function of the CPU profile, at its hottest line; without a
profile, the user frame most often seen running in the dumps.
"""

from __future__ import annotations

from godiag.analysis import sites
from godiag.analysis.rootcause import locate
from godiag.analysis.rootcause.derived import Derived
from godiag.analysis.rootcause.kinds.base import SERVED_SHARE, Features, Kind, served


def locator(obs: locate.Observed, derived: Derived) -> locate.Located:
    prefix = derived.prefix
    if obs.cpu is not None:
        hot = sites.function_hotspot(sites.by_site(obs.cpu, "cpu", prefix))
        if hot is not None:
            loc = locate.loc(hot[0])
            return loc, [f"CPU profile: {hot[1] / 1e9:.2f}s in {locate.where(loc)}"
                         f"{_called_from(obs, hot, prefix)}"]  # fmt: skip
    busy = locate.dump_sites(obs, prefix, lambda g, frames: g.state in ("running", "runnable"))
    hit = sites.function_hotspot(busy)
    if hit is None:
        return None, []
    loc = locate.loc(hit[0])
    return loc, [
        f"seen running {hit[1]} time(s) in the dumps at {locate.where(loc)} (no CPU profile)"
    ]


def _called_from(obs: locate.Observed, hot: tuple[sites.Site, int], prefix: str | None) -> str:
    """ ", N% of it called from CALLER <- ITS CALLER": the code that asks for the hot
    function's work, which is where a loop without a pause or a path doing too much is
    fixed (the profile's commonest chain of the service's callers)."""
    assert obs.cpu is not None
    path = sites.call_path(obs.cpu, "cpu", hot[0][0], prefix)
    if path is None:
        return ""
    chain = " <- ".join(locate.where(locate.loc(f)) for f in path[0])
    return f", {path[1] / max(1, hot[1]):.0%} of it called from {chain}"


def title(feats: Features, where: str) -> str:
    return f"CPU burnt in the service's own code{where or ' (no hot function found)'}"


# Saturation is CPU used: a process that used under this share of one CPU over the window
# (or its CPU profile) burnt too little to be slowed by it, whatever its hottest function.
MIN_CPU = 0.05


# CPU burnt in the service's own code burns somewhere: a loop that spins or a path that does
# too much holds a fifth of the profile or more at one function (every cpu-saturation
# recording here: 0.18 and up, median 0.96), while a busy service spreads it over handlers,
# encoders and the runtime (Prometheus under a query load: 5-7%).
MIN_HOTSPOT = 0.15


def unsupported(feats: Features) -> str | None:
    """No CPU saturation in a process that hardly used a CPU (its measure was taken), nor
    when no function of the service stands out in the CPU profile, nor when the collector
    takes more of it than the service's own code."""
    used = feats.get("cpu_seconds_per_s")
    if used is not None and used < MIN_CPU:
        return (f"the process used {used:.3f} CPU-seconds per second over the window (under "
                f"{MIN_CPU:g} of one CPU): too little for its code to be CPU-bound; a "
                f"diagnosis while the symptom is on would decide")  # fmt: skip
    hot = feats.get("cpu_hotspot_share")
    if hot is not None and hot < MIN_HOTSPOT:
        return (f"no function of the service takes much of the CPU profile (the hottest "
                f"{hot:.0%}): the CPU is spread over its work, as in a busy service under "
                f"load; a profile while the symptom is on, or the CPU against the cores the "
                f"service may use, would decide")  # fmt: skip
    gc, code = feats.get("cpu_profile_gc_share"), feats.get("cpu_code_share")
    if gc is not None and code is not None and gc > code:
        return (f"{gc:.0%} of the CPU profile is the garbage collector's work (marking, "
                f"sweeping, allocating), more than the {code:.0%} the service's own code "
                f"takes itself: its CPU follows what it allocates, and gc-pressure is as "
                f"likely; the allocation profile (`godiag profile` on the heap profile's "
                f"alloc_space) would decide")  # fmt: skip
    return None


def doubt(feats: Features) -> str | None:
    """A hot function that runs in the goroutines serving requests: its CPU is what each
    request costs times how many came, and one profile cannot tell a path that does too
    much from a load that asks for much (Prometheus evaluating range queries, a report
    endpoint at its usual cost, a route planner at a full CPU). A loop of the service's
    own is not doubted. However much CPU the path burns and however much of the profile
    one function holds, it is doubted: a service written elsewhere whose requests plan
    journeys burnt 1.06 CPUs with one function at 75% of its profile, healthy, the shape
    of most CPU faults of the scenarios."""
    share, hot = feats.get("cpu_hotspot_request_share"), feats.get("cpu_hotspot_share")
    if share is None or hot is None or share < SERVED_SHARE:
        return None
    used = feats.get("cpu_seconds_per_s")
    cpu = f" of the {used:.2f} CPU-seconds per second it used" if used is not None else ""
    return served(f"its hottest function takes {hot:.0%} of the CPU profile{cpu}, {share:.0%} "
                  f"of it", "cpu")  # fmt: skip


# a CPU-bound service on a machine full of other work gets what is left and reads as idle
KIND = Kind("cpu-saturation", title, locator, timing=True, unsupported=unsupported, doubt=doubt)
