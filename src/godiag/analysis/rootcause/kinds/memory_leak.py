"""memory-leak: the live heap keeps growing.

Location: the site whose in-use heap grew most between the two absolute heap snapshots
(each taken right after a GC); with a stored baseline, the site that grew most since it
when that growth is decisive (longterm.heap_decisive: MBs at one site, and the window
saw it grow too or was inconclusive): a slow leak is below the heap sampler in a window.
Without a baseline, when the window saw no site grow by 2 MiB and the Prometheus history
saw the live heap grow linearly, the site that kept nearly all it ever allocated (longterm
rule 9, `longterm.kept_in`). Whichever site it is, when the heap profile ties a growing
container (a slice or map's backing store) to its code, that container is the location
and the site what it keeps (keeper.py): the fix is where values are kept.

Unsupported when that site keeps little of what it allocated during the window
(features._retention): a leak keeps all it allocates, or at least the 1/5 that Go's
slowest container growth (1.25x slice reallocation) keeps; a working set that rises with
load churns through many times what it holds.

Unsupported when that site's live heap fell back within the window (the heap profiles
taken with the inner metrics samples, features._fallback) by a quarter or more of what it
grew end to end: a leak's site only rises.

Unsupported, too, when no site's live heap grew by the heap profile's resolution
(heap_growth_top_share 0: under HEAP_SAMPLES sampling periods, 1 MiB by default) and no
baseline or Prometheus history reaches further back: an idle daemon's live heap drifts by
that much in seconds (timers, caches warming, a scrape's buffers), and so does a slow
leak, so the window alone cannot tell them apart. The stored baseline and the history
(longterm.adjust) decide it.

Since a stored reference, too, a site that kept under a quarter of what it allocated, in
many live objects (_turns_over), turns its entries over (a bounded cache evicting).

And what reaches before the window can rule a leak out: a stored reference a minute old or
more since which the live heap grew by less than longterm.HEAP_MIN_BYTES, or a Prometheus
live-heap series flat, periodic or declining over a minute or more. What the window saw
grow did not accumulate before it: a working set that comes and goes with the load (a pool
sized by concurrency), not a leak, or one too slow to tell yet. So is a site whose growth
within the window does not follow its rate since the reference (longterm.consistency):
half or more of it in the window's seconds, or under a quarter of what that rate adds in
the window: a level that moves with the load.
"""

from __future__ import annotations

from godiag.analysis import sites
from godiag.analysis.rootcause import keeper, locate, longterm
from godiag.analysis.rootcause.derived import Derived
from godiag.analysis.rootcause.kinds.base import Features, Kind, would_decide
from godiag.analysis.rootcause.longterm.common import _ago, mb_under
from godiag.model.profile import Profile
from godiag.words import agree, many


def _heap_growth(obs: locate.Observed, prefix: str | None) -> tuple[sites.Site, int] | None:
    if len(obs.heap) != 2:
        return None
    a, b = (sites.by_site(p, "inuse_space", prefix) for p in obs.heap)
    return sites.top(sites.growth(a, b))


def locator(obs: locate.Observed, derived: Derived) -> locate.Located:
    since = longterm.heap_since(obs, derived.prefix)
    if since is not None and since.site is not None and longterm.heap_decisive(since):
        return _kept_by(obs, since.site, obs.baseline_heap, derived, longterm.heap_line(since))
    hit = _heap_growth(obs, derived.prefix)
    # where the window saw no growth of its own (a slow leak is below the heap sampler in
    # seconds), the site that kept what it allocated over minutes of history (rule 9)
    if (hit is None or hit[1] < longterm.KEPT_MIN_BYTES) and (
        kept := longterm.kept_in(obs, derived)
    ) is not None:
        return _kept_by(obs, kept.site, None, derived, kept.line)
    if hit is None:
        return None, []
    loc = locate.loc(hit[0])
    line = f"live heap allocated at {locate.where(loc)} grew by {hit[1] / 2**20:.2f} MiB"
    return _kept_by(obs, hit[0], obs.heap[0], derived, line, must_grow=False)


def _kept_by(
    obs: locate.Observed,
    value: sites.Site,
    ref: Profile | None,
    derived: Derived,
    line: str,
    must_grow: bool = True,
) -> locate.Located:
    """The container that keeps what the growing site allocated (keeper.py), when the
    profile ties one to it: the location is where the values are kept, since `ref` (the
    stored baseline; the window's start, over which it need not have grown)."""
    found = (
        keeper.located(value, obs.heap[-1], ref, derived.prefix, must_grow) if obs.heap else None
    )
    if found is None:
        return locate.loc(value), [line]
    return locate.loc(found.site), [line, found.line]


# Half the smallest share a leaking site keeps (1/5, a large slice grown by append): the
# margin is for the heap profile's sampling, a few samples either way at a small site.
MIN_RETENTION = 0.1


# More goroutines at work in the allocating code at the end than at the start: the work
# holding the memory is in progress, and there is more of it. A leak accumulates over
# executions that are over, but a leak on a request path is caught at work now and then:
# a dump is one sample of how many requests are in that code (a cache-by-URL leak at 250
# requests/s: one there in 1 dump of 200, idle machine). So the work must have risen by
# two goroutines or more and at least doubled - a pile-up, not one snapshot's luck.
MIN_IN_FLIGHT_RISE = 2
AGAIN = "look again when the load is down, or compare with a baseline"

# A leak's site never falls (what it allocated stays); a fall of HEAP_SAMPLES sampling
# periods is already more than sampling moves it by (features._fallback gives 0 below
# that). A quarter of the window's growth keeps a leak whose line also makes short-lived
# buffers (they are live at some snapshots, gone at others) above the rule.
MAX_FALLBACK = 0.25


def _below_resolution(feats: Features) -> str | None:
    if feats.get("heap_growth_top_share") != 0.0:
        return None
    # a stored reference speaks for a leak the window cannot see when the heap grew since
    # it; one since which it did not grow is no evidence of one (a reference 57 s old with
    # 0 growth left memory-leak "confirmed" on an idle pushgateway)
    if (feats.get("baseline_heap_growth_bytes_per_min") or 0) > 0:
        return None
    # the site that kept what it allocated over a linear history (longterm rule 9) is the
    # kind's own evidence where the window saw nothing
    if feats.get("history_kept_bytes") is not None or feats.get("window_kept_bytes") is not None:
        return None
    # a Prometheus history speaks for a leak with no site of its own only when it spans what
    # longterm takes to corroborate one: minutes of linear growth are a cache filling or a
    # service warming up as often (a cache of 300 users filled linearly over its first minute)
    minutes = feats.get("history_minutes") or 0
    if (feats.get("history_heap_growth_bytes_per_min") is not None
            and minutes * 60 >= longterm.CORROBORATE_MIN_S):  # fmt: skip
        return None
    rate = feats.get("heap_growth_bytes_per_s")
    grew = f"the live heap changed by {rate / 1024:+.0f} KiB/s, " if rate is not None else ""
    return (
        f"{grew}no allocation site grew by the heap profile's resolution during the "
        f"window - an idle service's heap drifts that much, and a slow leak too; "
        f"{would_decide(feats, 'live-heap history', span=longterm.CORROBORATE_MIN_S)}"
    )


# longterm.consistency: the window against the growth since the reference
MOVES = {
    "swings": "grew within the window's seconds by half or more of that",
    "step": "did not grow within the window at the rate it grew since",
}


def _did_not_accumulate(feats: Features) -> str | None:
    rate, age = feats.get("baseline_heap_growth_bytes_per_min"), feats.get("baseline_age_minutes")
    if rate is not None and age is not None and age >= 1 and rate * age < longterm.HEAP_MIN_BYTES:
        grew = mb_under(rate * age, longterm.HEAP_MIN_BYTES)
        return (f"since the stored reference {_ago(age * 60)} ago the live heap grew by "
                f"{grew} (under {longterm.HEAP_MIN_BYTES >> 20} MiB): what "
                f"the window saw grow did not accumulate before it - memory that comes and "
                f"goes with the load, or a leak too slow to tell yet; a later diagnosis would "
                f"decide")  # fmt: skip
    how = feats.get("baseline_site_consistency")
    if how in MOVES and age is not None:
        return (f"the site that grew since the stored reference {_ago(age * 60)} ago {MOVES[how]}: "
                f"its level moves with the load, it does not accumulate; a later diagnosis "
                f"would decide")  # fmt: skip
    shape, minutes = feats.get("history_heap_shape"), feats.get("history_minutes") or 0
    if shape in longterm.NOT_GROWING and minutes * 60 >= longterm.HISTORY_MIN_S:
        return (f"Prometheus saw the live heap {shape} over the last {minutes:.0f} min: what "
                f"the window saw grow did not accumulate before it; a longer lookback would "
                f"decide")  # fmt: skip
    return None


def _turns_over(feats: Features) -> str | None:
    """longterm.turns_over, from the features."""
    kept, objects = feats.get("baseline_site_retention"), feats.get("baseline_site_objects")
    if not longterm.frees_most(kept, objects):
        return None
    age = feats.get("baseline_age_minutes") or 0
    return (f"since the stored reference {age:.0f} min ago the growing site kept {kept:.0%} "
            f"of what it allocated, in {objects} more live objects: it frees most of what "
            f"it allocates, as a bounded cache that evicts does, while a leak keeps it; "
            f"a later diagnosis showing the site still growing would decide")  # fmt: skip


def unsupported(feats: Features) -> str | None:
    if (why := _below_resolution(feats) or _did_not_accumulate(feats)
            or _turns_over(feats)) is not None:  # fmt: skip
        return why
    kept = feats.get("heap_growth_retention")
    if kept is not None and kept < MIN_RETENTION:
        return (f"the growing site keeps {kept:.0%} of what it allocated during the window - "
                f"a working set under load, not a leak (a leak keeps what it allocates); "
                f"{AGAIN}")  # fmt: skip
    fell = feats.get("heap_growth_fallback")
    if fell is not None and fell >= MAX_FALLBACK:
        return (f"within the window the growing site's live heap fell back by {fell:.0%} of "
                f"what it grew end to end (heap profiles between the two ends) - memory that "
                f"rises and falls with the requests in flight, while a leak's site only "
                f"rises; {AGAIN}")  # fmt: skip
    rise, now = feats.get("heap_growth_in_flight_rise"), feats.get("heap_growth_in_flight")
    if rise is not None and now is not None and _piled_up(rise, now):
        who = f"{many(now, 'goroutine')} {agree(now, 'is', 'are')}"
        return (f"{who} at work in the code that allocated the growth at the end of the "
                f"window, {now - rise} at its start - memory held for work in progress (or "
                f"pooled for it) rises with the load and is not a leak until it stays once "
                f"the work is done; {AGAIN}")  # fmt: skip
    return None


def _piled_up(rise: float, now: float) -> bool:
    """The work in the allocating code rose by MIN_IN_FLIGHT_RISE or more and doubled."""
    return rise >= MIN_IN_FLIGHT_RISE and now >= 2 * (now - rise)


def title(feats: Features, where: str) -> str:
    # `where` may be the allocating code, or the container or caller that keeps what it
    # allocated (keeper.py): the title names the place, the evidence says which it is
    return "live heap keeps growing" + (where or "")


# what accumulates keeps accumulating on a starved machine: not a timing verdict
KIND = Kind(
    "memory-leak",
    title,
    locator,
    explained_by=frozenset({"timer-leak"}),
    unsupported=unsupported,
)
