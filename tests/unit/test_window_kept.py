"""Rule 9 within the window (longterm.kept_now): with no history and no baseline, a site of
the service that keeps nearly all it has allocated since the process started, and all it
allocated between the window's two heap profiles, points at memory-leak over "healthy"
without deciding."""

from __future__ import annotations

from godiag.analysis.rootcause import longterm
from godiag.analysis.rootcause.derived import derive
from godiag.model.observation import Observation
from godiag.model.profile import Profile
from tests.profile_fixtures import heap

MiB = 2**20
SRC = "/src/bus/main.go"
EVENT = [("main.newEvent", SRC, 83), ("main.(*bus).publish", SRC, 90)]
CACHE = [("main.(*cache).fill", SRC, 40), ("main.main", SRC, 12)]


def _obs(a: Profile, b: Profile) -> Observation:
    return Observation(url="http://x", duration=5.0, heap=[a, b])


def _kept(a: Profile, b: Profile) -> longterm.Kept | None:
    obs = _obs(a, b)
    return longterm.kept_in(obs, derive(obs))


def test_a_site_keeping_all_it_allocates_still_allocating_is_named() -> None:
    k = _kept(heap([(EVENT, 4 * MiB)]), heap([(EVENT, 6 * MiB)]))
    assert k is not None and k.window and k.site == ("main.newEvent", SRC, 83)
    assert "holds 6.0 MiB, 100% of all it allocated since the process started" in k.line
    assert "kept all it allocated during the window (2.0 MiB)" in k.line


def test_a_cache_filled_once_allocates_nothing_now() -> None:
    assert _kept(heap([(CACHE, 30 * MiB)]), heap([(CACHE, 30 * MiB)])) is None


def test_a_site_turning_its_entries_over_keeps_a_fraction() -> None:
    # 30 MiB live of 90 MiB ever allocated: a refreshed cache, a working set
    a = heap([(CACHE, 30 * MiB)], allocated={0: 80 * MiB})
    b = heap([(CACHE, 30 * MiB)], allocated={0: 90 * MiB})
    assert _kept(a, b) is None


def test_what_it_allocated_in_the_window_must_stay_too() -> None:
    # all kept since the start, but of the 4 MiB made in the window only 1 MiB stayed
    a = heap([(EVENT, 9 * MiB)], allocated={0: 9 * MiB})
    b = heap([(EVENT, 10 * MiB)], allocated={0: 10 * MiB + 3 * MiB})
    assert _kept(a, b) is None


def test_under_four_sampling_periods_is_no_site() -> None:
    assert _kept(heap([(EVENT, 1 * MiB)]), heap([(EVENT, 3 * MiB // 2)])) is None


def test_it_leads_over_healthy_only() -> None:
    lt_obs = _obs(heap([(EVENT, 4 * MiB)]), heap([(EVENT, 6 * MiB)]))
    lt = longterm.gather(lt_obs, derive(lt_obs))
    assert lt.kept is not None and lt.kept.window
    ranked, notes = longterm.adjust([("healthy", 0.7), ("memory-leak", 0.2), ("gc-pressure", 0.1)],
                                    lt)  # fmt: skip
    assert ranked[0] == ("memory-leak", 0.6) and "without deciding" in notes["memory-leak"]
    # a goroutine leak the model saw keeps its memory too: left as it is
    other = [("goroutine-leak", 0.7), ("memory-leak", 0.2), ("healthy", 0.1)]
    assert longterm.adjust(other, lt)[0] == other
    # a memory-leak the model put first keeps the model's verdict
    first = [("memory-leak", 0.45), ("healthy", 0.4), ("gc-pressure", 0.15)]
    assert longterm.adjust(first, lt)[0] == first
