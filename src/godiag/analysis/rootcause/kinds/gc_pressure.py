"""gc-pressure: the garbage collector runs constantly.

Location: with a tiny GOGC (25% or less) the live heap's main site, where the data is built
(and the setting made); else the site allocating most bytes over the window.
"""

from __future__ import annotations

from godiag.analysis import sites
from godiag.analysis.rootcause import locate
from godiag.analysis.rootcause.derived import Derived
from godiag.analysis.rootcause.features import allocating_site
from godiag.analysis.rootcause.kinds.base import (
    SERVED_SHARE,
    Features,
    Kind,
    measured_line,
    served,
)

# GOGC at or under this (percent) makes the setting the cause: the collector runs often
# because the live heap is large against it
TINY_GOGC = 25


def locator(obs: locate.Observed, derived: Derived) -> locate.Located:
    prefix = derived.prefix
    if len(obs.heap) != 2:
        return None, []
    gogc = _gogc(obs)
    if gogc is not None and 0 <= gogc <= TINY_GOGC:
        # the collector runs often because GOGC is tiny relative to a large live heap:
        # the live heap's main site is where the setting is made and the data is built
        live = sites.top(sites.by_site(obs.heap[-1], "inuse_space", prefix))
        if live is not None:
            loc = locate.loc(live[0])
            return loc, [
                f"GOGC is {gogc:g}% with {live[1] / 2**20:.0f} MiB live from {locate.where(loc)}"
            ]
    hit = allocating_site(obs, prefix)
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
    return "the garbage collector runs constantly" + (f", allocations{where}" if where else "")


# The collector's CPU is part of the process's CPU: its GC share of a CPU profile times the
# process's CPU use (all of that use, without a profile, as an upper bound). Under this
# share of one CPU the collector costs the service nothing that matters, however often it
# cycles (a tiny heap collected every second is cheap).
MIN_GC_CPU = 0.01


# The mirror of cpu-saturation's rule (the collector above the service's code there): a CPU
# profile whose samples in the service's own code outnumber the collector's this many times
# over is a service busy computing, which also allocates; the collector's part follows from
# that work (gc-pressure recordings here: 3.6 times at most, most under 2).
CODE_OVER_GC = 4.0


def unsupported(feats: Features) -> str | None:
    """No GC pressure when the collector cannot have cost a hundredth of a CPU, nor when the
    service's own code takes several times the collector's share of the CPU profile."""
    used, share = feats.get("cpu_seconds_per_s"), feats.get("cpu_profile_gc_share")
    code = feats.get("cpu_code_share")
    if share is not None and code is not None and code >= CODE_OVER_GC * share and code > 0:
        return (f"the service's own code takes {code:.0%} of the CPU profile, the garbage "
                f"collector's work {share:.0%}: the CPU goes to its computing, of which "
                f"the collector is a side cost (cpu-saturation is as likely); a CPU "
                f"profile while the symptom is on, or the allocation profile "
                f"(alloc_space), would decide")  # fmt: skip
    if used is None:
        return None
    gc = used * share if share is not None else used
    if gc >= MIN_GC_CPU:
        return None
    how = (f"{share:.0%} of its CPU profile in the collector, of {used:.3f} CPU-seconds per "
           f"second" if share is not None else f"the whole process used {used:.3f} "
           f"CPU-seconds per second")  # fmt: skip
    return (f"the collector used at most {gc:.3f} of one CPU over the window ({how}): too "
            f"little to weigh on the service; a diagnosis while the symptom is on would "
            f"decide")  # fmt: skip


# Under this share of one CPU spent collecting, the collector's cost is one any allocating
# Go service pays: 119 of the 136 healthy rows of the windowed dataset sit under it, and
# 22 of its 48 gc-pressure rows (faults under a light load, whose symptom is small then).
# At 0.05 it let a bbolt queue's 0.06 of a CPU (19 cycles/s over a 4 MiB heap, no fault
# planted) be a verdict; between 0.05 and 0.1 the dataset has 23 healthy rows to 5
# gc-pressure ones. The kind may still be right; the verdict says how little it costs
# (`doubt`).
SMALL_GC_CPU = 0.1


def doubt(feats: Features) -> str | None:
    """The collector cost under SMALL_GC_CPU of one CPU: a busy batch that allocates and a
    path that allocates too much under a light load look alike, and neither costs the
    service much yet. Else, the site allocating most allocates in the goroutines serving
    requests: the garbage is what each request makes times how many came (Alertmanager
    encoding alerts under a query load), and one window cannot tell a path that allocates
    too much from a load that asks for much. Neither with a tiny GOGC: the setting is then
    the cause, and the location the live heap's site."""
    share, gogc = feats.get("alloc_request_share"), feats.get("gogc_percent")
    if gogc is not None and 0 <= gogc <= TINY_GOGC:
        return None
    used, gc_share = feats.get("cpu_seconds_per_s"), feats.get("cpu_profile_gc_share")
    if used is not None:
        gc = used * gc_share if gc_share is not None else used
        if gc < SMALL_GC_CPU:
            return (f"the collector used at most {gc:.3f} of one CPU over the window (under "
                    f"{SMALL_GC_CPU:g}): a busy batch that allocates and a path that "
                    f"allocates too much look alike at that cost, and neither weighs on "
                    f"the service yet; a diagnosis under the usual peak load, or GC "
                    f"pauses against request latency, would decide")  # fmt: skip
    if (why := _code_spins(feats)) is not None:
        return why
    if share is None or share < SERVED_SHARE:
        return None
    return served(f"{share:.0%} of what its site allocated during the window was allocated",
                  "allocs")  # fmt: skip


# A full CPU of the service's own: a loop that runs without pause, not a service waiting
# on its requests (the windowed corpus's cpu-saturation faults burn 0.9 and up)
FULL_CPU = 0.9


def _code_spins(feats: Features) -> str | None:
    """The service's own code takes more of the CPU profile than the collector and malloc,
    in a process burning a full CPU outside its request handlers: a loop that runs too
    often (a spin, a retry without backoff) makes as much garbage as one that allocates
    too much. In the windowed corpus that shape is cpu-saturation 29 times, gc-pressure 4
    and healthy 8: the allocations are the loop's, and the kind is not decided by them."""
    used, gc_share = feats.get("cpu_seconds_per_s"), feats.get("cpu_profile_gc_share")
    code, share = feats.get("cpu_code_share"), feats.get("alloc_request_share")
    if used is None or gc_share is None or code is None or used < FULL_CPU:
        return None
    if code <= gc_share or (share is not None and share >= SERVED_SHARE):
        return None
    return (
        f"the service's own code takes {code:.0%} of the CPU profile and the collector "
        f"and malloc {gc_share:.0%}, in a process burning {used:.2f} CPUs outside its "
        f"request handlers: a loop that runs too often (a spin, a retry without "
        f"backoff) makes as much garbage as one that allocates too much; what that loop "
        f"waits on between turns (cpu-saturation's hottest function) would decide"
    )


def measured(feats: Features, window_s: float) -> list[str]:
    """The collector's own figures, which make it GC pressure rather than a busy service:
    how often it ran, what was allocated against how much stays live, what it cost the CPU."""
    parts = []
    if (n := feats.get("gc_cycles_per_s")) is not None:
        parts.append(f"{n:.1f} GC cycles/s")
    if (a := feats.get("alloc_bytes_per_s")) is not None:
        live = feats.get("heap_inuse_bytes")
        against = f" against {live / 2**20:.0f} MiB live" if live is not None else ""
        parts.append(f"{a / 2**20:.1f} MiB/s allocated{against}")
    used, share = feats.get("cpu_seconds_per_s"), feats.get("cpu_profile_gc_share")
    if share is not None:
        of = f" ({used * share:.2f} of a CPU)" if used is not None else ""
        parts.append(f"{share:.0%} of the CPU profile in the collector and malloc{of}")
    elif (f := feats.get("gc_cpu_fraction")) is not None:
        parts.append(f"{f:.1%} of the CPU in the collector since the process started")
    if (p := feats.get("gc_pause_p99_ms")) is not None:
        parts.append(f"GC pause p99 {p:.2f} ms")
    return measured_line(parts)


# GC rates are the service's own only when it gets the CPUs it asks for
KIND = Kind("gc-pressure", title, locator, timing=True, unsupported=unsupported, doubt=doubt,
            measured=measured)  # fmt: skip
