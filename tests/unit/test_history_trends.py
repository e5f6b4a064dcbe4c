"""analysis/history.py: the shapes of a metric's history, and the long-term rules that
read them with the stored baseline (analysis/rootcause/longterm/)."""

from __future__ import annotations

import math
from dataclasses import replace

from godiag.analysis import history
from godiag.analysis.rootcause import longterm
from godiag.analysis.rootcause.derived import Derived
from godiag.analysis.rootcause.kinds import goroutine_leak


def _series(f: object, n: int = 120, step: float = 5.0) -> list[tuple[float, float]]:
    assert callable(f)
    return [(-n * step + i * step, float(f(i))) for i in range(n)]


def test_a_goroutine_a_second_is_linear() -> None:
    t = history.trend(_series(lambda i: 40 + 5 * i + (i % 3)))
    assert t is not None and t.shape == "linear"
    assert t.monotonicity > 0.6 and t.r2 > 0.99
    assert math.isclose(t.slope_per_min, 60, rel_tol=0.05)
    assert history.describe(t) == f"{t.delta:+,.0f}, linear"


def test_a_flat_count_with_noise_is_flat() -> None:
    t = history.trend(_series(lambda i: 212 + (i % 3)))
    assert t is not None and t.shape == "flat"


def test_batches_that_drain_are_periodic_whatever_the_endpoints() -> None:
    # 500 goroutines for 3 of every 6 points, ending inside a burst
    t = history.trend(_series(lambda i: 20 + (500 if i % 6 >= 3 else 0), n=60))
    assert t is not None and t.shape == "periodic" and t.cycles >= 2
    assert t.delta == 500  # the last point is in a burst: growth by endpoints would lie


def test_a_pool_filling_up_levels_off() -> None:
    t = history.trend(_series(lambda i: min(i, 30) * 10 + 5))
    assert t is not None and t.shape == "level-off"


def test_a_decline_and_too_little_history() -> None:
    down = history.trend(_series(lambda i: 1000 - 3 * i))
    assert down is not None and down.shape == "declining"
    short = history.trend([(0.0, 1.0), (5.0, 9.0), (10.0, 20.0)])
    assert short is not None and short.shape == "unknown"
    assert history.trend([]) is None
    assert history.trend([(0.0, math.nan)]) is None


def _lt(shape_fn: object, n: int, step: float = 5.0) -> longterm.LongTerm:
    t = history.trend(_series(shape_fn, n=n, step=step))
    assert t is not None
    return longterm.LongTerm(trends={"go_goroutines": t}, lookback_s=n * step)


def test_linear_history_over_ten_minutes_raises_goroutine_leak() -> None:
    lt = _lt(lambda i: 100 + i, n=180)  # 15 min at 5 s: +179
    ranked, raised = longterm.adjust([("healthy", 0.97), ("goroutine-leak", 0.02),
                                      ("deadlock", 0.01)], lt)  # fmt: skip
    assert ranked[0][0] == "goroutine-leak" and ranked[0][1] >= longterm.RAISED
    assert math.isclose(sum(p for _, p in ranked), 1.0)
    assert "linear go_goroutines growth" in raised["goroutine-leak"]
    line = longterm.evidence("goroutine-leak", lt)[0]
    assert line.startswith("Prometheus 15m: go_goroutines +179, linear") and "corroborates" in line


def test_short_linear_history_is_evidence_and_a_doubt_not_a_verdict() -> None:
    lt = _lt(lambda i: 100 + 2 * i, n=60, step=2.0)  # 2 min: +118
    ranked, raised = longterm.adjust([("healthy", 0.9), ("goroutine-leak", 0.1)], lt)
    assert ranked[0][0] == "healthy" and not raised
    assert "corroborates" not in longterm.evidence("goroutine-leak", lt)[0]
    assert "slow leak" in (longterm.doubt("healthy", lt) or "")
    assert longterm.doubt("goroutine-leak", lt) is None


def test_flat_or_periodic_history_makes_goroutine_leak_not_sure() -> None:
    for fn in (lambda i: 30 + (i % 2), lambda i: 30 + (500 if i % 6 >= 3 else 0)):
        feats = {"goroutine_growth_per_min": 900.0, "top_growth_per_min": 900.0,
                 **longterm.features(_lt(fn, n=60))}  # fmt: skip
        why = goroutine_leak.unsupported(feats)
        assert why is not None and "Prometheus saw go_goroutines" in why
        # the runtime's proof outweighs the history
        assert goroutine_leak.unsupported({**feats, "leaked_goroutines": 3}) is None
    linear = {"goroutine_growth_per_min": 5.0, **longterm.features(_lt(lambda i: i, n=60))}
    assert goroutine_leak.unsupported(linear) is None


def test_heap_growth_at_one_site_since_the_baseline_is_decisive() -> None:
    site = ("main.rememberSession", "/src/main.go", 36)
    mb = 2**20
    grown = longterm.HeapSince(600.0, 12 * mb, site, 11 * mb, 0, 11 / 12)
    assert longterm.heap_decisive(grown)  # the window inconclusive (0 at the site)
    spread = longterm.HeapSince(600.0, 12 * mb, site, 5 * mb, 0, 5 / 12)
    shrank = longterm.HeapSince(600.0, 12 * mb, site, 11 * mb, -2 * mb, 11 / 12)
    small = longterm.HeapSince(600.0, 3 * mb, site, 3 * mb, None, 1.0)
    assert not any(map(longterm.heap_decisive, (spread, shrank, small)))
    ranked, raised = longterm.adjust([("healthy", 0.99), ("memory-leak", 0.01)],
                                     longterm.LongTerm(heap=grown))  # fmt: skip
    assert ranked[0] == ("memory-leak", longterm.RAISED)
    assert raised["memory-leak"].endswith("(probability 0.01 -> 0.75)")
    why = longterm.doubt("healthy", longterm.LongTerm(heap=spread)) or ""
    assert why.startswith("the live heap grew 12.0 MiB since the baseline 10 min ago")
    assert "main.rememberSession (/src/main.go:36)" in why
    feats = longterm.features(longterm.LongTerm(heap=grown))
    assert feats["baseline_heap_growth_bytes_per_min"] == round(12 * mb / 10, 1)
    assert feats["baseline_age_minutes"] == 10.0


def test_heap_growth_since_a_baseline_under_a_minute_old_leads_without_deciding() -> None:
    """A blind trial's bounded LRU grew 6.5 MiB at one site between a baseline at 30 s of
    uptime and a diagnosis at 60 s, then stayed flat: a cache filling grows like a leak for
    that long. The growth puts memory-leak first, not sure, and says what would decide."""
    site = ("main.loadFromOrigin", "/src/main.go", 36)
    mb = 2**20
    young = longterm.HeapSince(25.0, 6 * mb, site, 6 * mb, mb, 1.0)
    assert longterm.heap_decisive(young)  # the growth alone would decide
    lt = longterm.LongTerm(heap=young, uptime_s=64.0)
    assert "memory-leak" not in longterm.decisive(lt)
    ranked, raised = longterm.adjust([("healthy", 0.8), ("memory-leak", 0.2)], lt)
    assert ranked[0] == ("memory-leak", longterm.LEAD)
    assert "memory-leak" in longterm.evidenced(raised)  # a lead: never a sure verdict
    why = longterm.undecided("memory-leak", lt) or ""
    assert "since a baseline capture only 25 s old" in why and "a cache still filling" in why
    assert "once it is minutes old would tell them apart" in why
    # the same growth a minute later decides
    old = longterm.LongTerm(heap=replace(young, age_s=90.0))
    assert longterm.decisive(old)["memory-leak"].startswith("heap growth in one function")


def test_a_baseline_taken_under_a_lighter_load_decides_nothing() -> None:
    """A reference taken at rest (17 goroutines) against the service under load (47): the
    write cache the load fills is growth since the baseline, not a trend. Under the same
    load (or a fixed pool: the count barely moves) the growth decides as before."""
    import dataclasses

    site = ("tsm1.(*entry).add", "/src/cache.go", 96)
    mb = 2**20
    grown = longterm.HeapSince(150.0, 56 * mb, site, 30 * mb, 0, 0.53)
    assert longterm.heap_decisive(grown)  # no dumps: as before
    busier = dataclasses.replace(grown, goroutines=(17, 47))
    assert not longterm.heap_decisive(busier)
    assert "had 17 goroutines and the end 47" in (longterm.other_load(busier) or "")
    assert "the end 47: it was taken under a lighter load" in longterm.heap_line(busier)
    why = longterm.doubt("healthy", longterm.LongTerm(heap=busier)) or ""
    assert (
        why.startswith("the live heap grew 56.0 MiB") and "a baseline taken under the usual" in why
    )
    for same in ((40, 47), (5, 20), (300, 340)):  # the same load; a few more; a big service's
        assert longterm.heap_decisive(dataclasses.replace(grown, goroutines=same)), same


def test_long_term_features_are_not_model_inputs() -> None:
    from godiag.analysis.rootcause import ranker

    assert set(longterm.FEATURES) <= ranker.SKIP
    assert not set(longterm.FEATURES) & set(ranker.input_names())


def test_the_reports_say_which_history_was_used() -> None:
    import io

    from rich.console import Console

    from godiag.report import diagnosis as view
    from godiag.report.html import render_page

    summary = "Prometheus 30m: go_goroutines linear; baseline capture 8 min ago"
    doc = {
        "schema": "godiag.diagnosis/v1",
        "target": {"url": "http://svc:6060", "service_name": "svc"},
        "started_at": "2026-12-04T06:00:00Z", "duration_s": 5.5, "window_s": 5.0,
        "status": "complete", "verdict": "goroutine-leak (80%)", "confident": True,
        "min_probability": 0.5, "features": {}, "causes": [], "missing": [], "notes": [],
        "metrics_source": "metrics", "series": {}, "goroutine_groups": [], "flames": {},
        "artifacts": [], "store": {"stored": 0, "missing": [], "message": "not stored"},
        "budgets": {"hits": []},
        "history": {"summary": summary, "lookback_s": 1800.0, "baseline": {
            "sources": ["store:abcd"], "age_s": {"heap": 480.0}}, "series": {
            "go_goroutines": {"points": [[-1800.0, 10.0], [-900.0, 900.0], [0.0, 1822.0]],
                              "shape": "linear", "delta": 1812.0, "slope_per_min": 60.4,
                              "monotonicity": 1.0, "minutes": 30.0}}},
    }  # fmt: skip
    out = io.StringIO()
    view.render_text(doc, Console(file=out, width=200, no_color=True))
    assert f"history: {summary}" in out.getvalue()
    html = render_page(view.TEMPLATE, doc)
    assert 'id="history-plots"' in html and summary in html and "store:abcd" in html
    assert html.count("<polyline") == 1  # the history's series; the window had none


def test_a_bundle_keeps_the_lookback_series(tmp_path: object) -> None:
    from pathlib import Path

    from godiag.collect import bundle
    from godiag.model.observation import Recording

    assert isinstance(tmp_path, Path)
    rec = Recording("http://svc:6060", window=5.0, started_at="2026-12-04T06:00:00Z",
                    limits={"capture_mb": 64, "capture_s": 10.0, "deadline_s": 65.0},
                    lookback=1800.0, history=[(-300.0, 10.0), (-5.0, 300.0)],
                    trends={"go_goroutines": [(-1800.0, 1.0), (-5.0, 300.0)],
                            "heap_live_bytes": [(-1800.0, 1e6), (-5.0, 2e6)]})  # fmt: skip
    bundle.save(tmp_path / "b", rec)
    back = bundle.load(tmp_path / "b", 2**20)
    assert back.trends == rec.trends and back.lookback == 1800.0
    assert back.history == rec.history


def test_wait_ages_against_uptime() -> None:
    """A group of a real dump (Prometheus's own) that waited minutes: set as growing, its
    wait ages are weighed against the process's uptime."""
    from dataclasses import replace

    from godiag.analysis.goroutines import as_is, group
    from godiag.formats.goroutines import parse
    from tests.datapaths import DATA

    path = DATA / "goroutines" / "prometheus-a.txt"
    groups = as_is(group(parse(path.read_bytes(), str(path), strict=False)))
    old = max(groups, key=lambda g: g.wait_max)
    assert old.wait_max >= 1
    lt = longterm.LongTerm(uptime_s=old.wait_max * 60 * 1.5, growing=(old, 40))
    line = longterm.wait_line(lt) or ""
    assert f"have waited {old.wait_max} min" in line and "most of its uptime" in line
    assert longterm.features(lt)["growing_group_wait_uptime_share"] == round(1 / 1.5, 4)
    young = longterm.LongTerm(uptime_s=3600.0, growing=(replace(old, wait_max=0), 40))
    assert longterm.wait_line(young) is None
    assert "most of" not in (longterm.wait_line(replace(lt, uptime_s=old.wait_max * 600)) or "")


def test_a_group_that_grew_by_hundreds_since_the_baseline_with_old_waits() -> None:
    from dataclasses import replace

    from godiag.analysis.goroutines import as_is, group
    from godiag.formats.goroutines import parse
    from tests.datapaths import DATA

    path = DATA / "goroutines" / "prometheus-a.txt"
    groups = as_is(group(parse(path.read_bytes(), str(path), strict=False)))
    old = max(groups, key=lambda g: g.wait_max)
    grown = longterm.GoroutinesSince(900.0, 420, replace(old, growth=400, count=412))
    assert longterm.goroutines_decisive(grown)
    ranked, raised = longterm.adjust([("healthy", 0.8), ("goroutine-leak", 0.2)],
                                     longterm.LongTerm(goroutines=grown))  # fmt: skip
    assert ranked[0][0] == "goroutine-leak" and "old waits" in raised["goroutine-leak"]
    # a burst: as many more, all young (a batch running now)
    burst = longterm.GoroutinesSince(900.0, 500, replace(old, growth=500, wait_max=0))
    assert not longterm.goroutines_decisive(burst)
    assert longterm.adjust([("healthy", 0.8)], longterm.LongTerm(goroutines=burst))[1] == {}
    assert longterm.doubt("healthy", longterm.LongTerm(goroutines=burst)) is None
    # fewer than 100, but the group at least doubled since the baseline: a leak minutes old
    # is most of its group, a bounded pool or a set of long polls keeps its size
    doubled = longterm.GoroutinesSince(180.0, 77, replace(old, growth=77, count=86, before=9))
    assert longterm.goroutines_decisive(doubled)
    pool = longterm.GoroutinesSince(180.0, 77, replace(old, growth=77, count=577, before=500))
    assert not longterm.goroutines_decisive(pool)


def test_connections_left_open_are_a_connection_leak_not_a_goroutine_leak() -> None:
    """A linear go_goroutines whose goroutines are HTTP transports' read/write loops with no
    caller waiting (response bodies never closed) decides connection-leak; the same growth
    with a caller stuck in each call (a request that never returns) stays goroutine-leak."""
    lt = _lt(lambda i: 3.0 * i, 150)
    left_open = replace(lt, connections=(5706, 2), end_goroutines=8630)
    ranked, notes = longterm.adjust([("healthy", 0.6), ("connection-leak", 0.1),
                                     ("goroutine-leak", 0.3)], left_open)  # fmt: skip
    assert ranked[0][0] == "connection-leak" and "goroutine-leak" not in notes, ranked
    assert "5,706 of the goroutines are connections' own" in notes["connection-leak"]
    stuck = replace(lt, connections=(400, 200), end_goroutines=700)  # one caller per 2 loops
    assert longterm.connections_left_open(stuck) is None
    assert (
        "goroutine-leak" in longterm.adjust([("healthy", 0.9), ("goroutine-leak", 0.1)], stuck)[1]
    )
    # a keep-alive pool that is a small part of a service whose goroutines grew elsewhere
    pool = replace(lt, connections=(20, 0), end_goroutines=900)
    assert longterm.connections_left_open(pool) is None


def test_a_reference_minutes_old_that_saw_nothing_stay_clears_the_leak_kinds() -> None:
    """Rule 5: a leak accumulates; since a reference two minutes old or more under which
    nothing stayed (the heap under 4 MiB, goroutines added only with young waits), the
    kinds that accumulate keep a fifth of their probability."""
    heap = longterm.HeapSince(age_s=180.0, total_growth=-5_800_000, site=None, site_growth=0,
                              site_window=None, share=0.0)  # fmt: skip
    burst = longterm.GoroutinesSince(age_s=180.0, total_growth=283, top=None, may_stay=0)
    lt = longterm.LongTerm(heap=heap, goroutines=burst)
    ranked, notes = longterm.adjust([("memory-leak", 0.3), ("connection-leak", 0.3),
                                     ("healthy", 0.25), ("deadlock", 0.15)], lt)  # fmt: skip
    assert ranked[0][0] == "healthy", ranked
    assert "since the baseline capture 3 min ago" in notes["connection-leak"]
    assert "-5.5 MiB" in notes["memory-leak"] and notes["healthy"].startswith(
        longterm.rules.COMPARED
    )
    # goroutines that may stay (old waits, or a select that loops) do not clear
    staying = replace(lt, goroutines=replace(burst, may_stay=40))
    assert "connection-leak" not in longterm.cleared(staying)
    # a reference a minute old has not seen a slow leak accumulate yet
    young = longterm.LongTerm(heap=replace(heap, age_s=60.0), goroutines=replace(burst, age_s=60.0))
    assert longterm.cleared(young) == {}


def _sleepers(n: int, minutes: int, first_id: int = 100) -> str:
    """A debug=2 dump of `n` retry goroutines asleep for `minutes` beside main's."""
    wait = f", {minutes} minutes" if minutes else ""
    head = "goroutine 1 [select (no cases)]:\nmain.main()\n\t/src/app/main.go:40 +0x1d\n\n"
    one = (
        "goroutine {id} [sleep{wait}]:\ntime.Sleep(0x1a3185c5000)\n"
        "\t/usr/local/go/src/runtime/time.go:363 +0x165\n"
        "main.(*subscriber).retryLater(0xc000123, 0x1)\n\t/src/app/hub.go:115 +0x71\n"
        "created by main.(*subscriber).pump in goroutine 42\n\t/src/app/hub.go:88 +0x1d5\n\n"
    )
    return head + "".join(one.format(id=first_id + i, wait=wait) for i in range(n))


def test_retries_asleep_for_minutes_that_pile_up_are_a_goroutine_leak() -> None:
    """Goroutines asleep a minute or more count as goroutines that stay: 400 retries
    sleeping for minutes since a reference 6 minutes old decide goroutine-leak at their
    sleep, not "nothing stayed"; the same added with young sleeps (a loop that sleeps
    seconds between rounds, a burst) do not."""
    from godiag.analysis.rootcause.derived import derive
    from godiag.formats.goroutines import parse
    from godiag.model.observation import Observation

    def obs(end: str) -> Observation:
        return Observation("http://x", dumps=[parse(end.encode(), "end")],
                           baseline_dump=parse(_sleepers(40, 0).encode(), "base"),
                           baseline_ages={"goroutine": 360.0})  # fmt: skip

    piled = obs(_sleepers(440, 5))
    since = longterm.goroutines_since(piled, None)
    assert since is not None and since.top is not None and since.may_stay == 400
    assert longterm.goroutines_decisive(since) and longterm.cleared(
        longterm.LongTerm(goroutines=since)) == {}  # fmt: skip
    loc, ev = goroutine_leak.locator(piled, derive(piled))
    assert loc is not None and (loc["function"], loc["line"]) == (
        "main.(*subscriber).retryLater", 115)  # fmt: skip
    assert "+400 goroutines asleep in main.(*subscriber).retryLater" in ev[0]
    assert "created at main.(*subscriber).pump" in ev[1]
    young = longterm.goroutines_since(obs(_sleepers(440, 0)), None)
    assert young is not None and young.top is None and young.may_stay == 0
    assert "goroutine-leak" in longterm.cleared(longterm.LongTerm(goroutines=young))


def test_a_reference_from_before_a_restart_is_not_compared() -> None:
    """A stored reference 16 minutes old against a process up for a minute is another
    process's goroutines and heap: nothing grew or cleared since it, and the history line
    says why it was not used (a restarted service was 'nothing accumulated since the
    baseline capture 16 min ago')."""
    from datetime import UTC, datetime

    from godiag.analysis.rootcause.derived import derive
    from godiag.formats.goroutines import parse
    from godiag.model.capture import Capture
    from godiag.model.observation import MetricSample, Observation

    now = datetime.now(UTC)
    started = now.timestamp() - 65.0
    obs = Observation("http://x", duration=5.0,
                      samples=[MetricSample(5.0, {"process_start_time_seconds": started})],
                      captures=[Capture(b"", "m", "metrics", now)],
                      dumps=[parse(_sleepers(440, 5).encode(), "end")],
                      baseline_dump=parse(_sleepers(40, 0).encode(), "base"),
                      baseline_ages={"goroutine": 960.0})  # fmt: skip
    assert longterm.before_start(obs, "goroutine") == 960.0
    assert longterm.goroutines_since(obs, None) is None
    lt = longterm.gather(obs, derive(obs))
    assert lt.goroutines is None and longterm.cleared(lt) == {}
    assert "stored reference 16 min old not used: it predates the process's start" in (
        longterm.summary(lt) or "")  # fmt: skip
    # the same reference taken after the start (the process up for 20 minutes) is compared
    obs.samples = [MetricSample(5.0, {"process_start_time_seconds": now.timestamp() - 1200})]
    assert longterm.before_start(obs, "goroutine") is None
    assert longterm.goroutines_since(obs, None) is not None
    # a pprof-only local process: its age from /proc (procfs#N), no metrics capture
    obs.captures = []
    obs.samples = [MetricSample(5.0, {"godiag_proc_uptime_seconds": 65.0})]
    assert longterm.before_start(obs, "goroutine") == 960.0
    obs.samples = [MetricSample(5.0, {"godiag_proc_uptime_seconds": 1200.0})]
    assert longterm.before_start(obs, "goroutine") is None


def _group_text(waits: dict[int, int], at: tuple[str, str, int, str, int], first_id: int,
                state: str) -> str:  # fmt: skip
    """A debug=2 dump of one group parked in `at` (function, file, line, creating function,
    its line): `waits` minutes -> goroutines in that order, ids from `first_id` up, and the
    service's lifecycle goroutine."""
    fn, file, line, creator, created = at
    out, gid = [], first_id
    for minutes, n in waits.items():
        age = f", {minutes} minutes" if minutes else ""
        for _ in range(n):
            gid += 1
            out.append(f"goroutine {gid} [{state}{age}]:\n{fn}(0xc000010000)\n"
                       f"\t{file}:{line} +0x3c\ncreated by {creator} in "
                       f"goroutine 1\n\t{file}:{created} +0x85\n")  # fmt: skip
    main = file.rsplit("/", 1)[0] + "/main.go"
    out.append(f"goroutine 1 [select, 9 minutes]:\nmain.main()\n\t{main}:20 +0x1d\n")
    return "\n".join(out)


def _parked(waits: dict[int, int], state: str = "chan send") -> Derived:
    """The end dump of a service with one group parked at main.(*loader).lead: `waits`
    minutes -> goroutines (as a debug=2 dump prints them), and its lifecycle goroutine."""
    from godiag.analysis.goroutines import as_is, group
    from godiag.formats.goroutines import parse

    at = ("main.(*loader).lead", "/src/cache/loader.go", 60, "main.(*loader).load", 37)
    dump = parse(_group_text(waits, at, 10, state).encode(), "end", strict=False)
    return Derived(groups=tuple(as_is(group(dump))), prefix="main")


def test_goroutines_that_parked_one_by_one_while_the_count_grew_are_a_leak() -> None:
    """Rule 8: no baseline, 4 minutes of linear go_goroutines history (+216), and one group
    holding that growth whose goroutines parked in every minute of it and are all still
    there: decisive for goroutine-leak, located at the group."""
    t = history.trend(_series(lambda i: 100 + 4.5 * i, n=49))  # 4 min at 5 s: +216
    assert t is not None and t.shape == "linear"
    derived = _parked({0: 62, 1: 61, 2: 55, 3: 41, 4: 15})
    hit = longterm.arrivals(t, derived)
    assert hit is not None and hit[0].count == 234
    assert "parked one by one" in hit[1] and "from 0 to 4 min, 172 of them" in hit[1]
    lt = longterm.LongTerm(trends={"go_goroutines": t}, arrived=hit)
    ranked, raised = longterm.adjust([("healthy", 0.6), ("goroutine-leak", 0.4)], lt)
    assert ranked[0] == ("goroutine-leak", 0.75) and "parked one by one" in raised["goroutine-leak"]
    assert longterm.features(lt)["history_arrived_goroutines"] == 234
    # the same goroutines, each counted as a window's few: their own evidence still holds
    feats = {"history_arrived_goroutines": 234, "history_goroutines_delta": 216,
             "client_conn_growth": 3, "top_growth_count": 3}  # fmt: skip
    assert goroutine_leak.unsupported(feats) is None
    assert goroutine_leak.unsupported({**feats, "history_arrived_goroutines": None})


def test_what_parked_at_once_or_left_again_is_not_an_arrival() -> None:
    t = history.trend(_series(lambda i: 100 + 4.5 * i, n=49))
    # a pool or a set of watches started at once: one wait value (and a late joiner)
    assert longterm.arrivals(t, _parked({4: 400, 0: 1})) is None
    # a ramp's requests in flight: young waits
    assert longterm.arrivals(t, _parked({0: 300, 1: 20, 2: 5})) is None
    # long polls that time out after a minute or two: the oldest is younger than the history
    assert longterm.arrivals(t, _parked({0: 100, 1: 150, 2: 40})) is None
    # goroutines piling up on a lock are deadlock's and contention's (rule 7)
    assert longterm.arrivals(t, _parked({0: 62, 1: 61, 2: 55, 3: 41}, "sync.Mutex.Lock")) is None
    # a group too small to hold the history's growth
    assert longterm.arrivals(t, _parked({0: 20, 1: 20, 2: 20, 3: 20, 4: 10})) is None
    # and no linear history: nothing
    flat = history.trend(_series(lambda i: 300 + (i % 3), n=49))
    assert longterm.arrivals(flat, _parked({0: 62, 1: 61, 2: 55, 3: 41, 4: 15})) is None


def test_real_daemons_lifecycle_groups_parked_at_once() -> None:
    """Rule 8's premise on code written elsewhere: in the dumps of Prometheus, Alertmanager
    and SeaweedFS after 26 to 65 minutes up, no group of goroutines that can pile up has
    waits spread over three minute values with half of them a minute old: their long-lived
    goroutines parked at start-up, so even a linear go_goroutines history would not make
    any of them an arrival."""
    from godiag.analysis.goroutines import as_is, group
    from godiag.formats.goroutines import parse
    from tests.datapaths import DATA

    # +50 in 10 min: the least a rule counts, so a group of 25 or more could hold it
    t = history.trend(_series(lambda i: 300 + 50 * i / 119, n=120))
    assert t is not None and t.shape == "linear" and t.delta >= 50
    dumps = sorted((DATA / "goroutines").glob("[aps]*-[abc].txt"))
    assert len(dumps) == 9
    for path in dumps:
        groups = as_is(group(parse(path.read_bytes(), str(path), strict=False)))
        spread = [g for g in groups if len(g.group.waits) >= longterm.ARRIVAL_MINUTES
                  and longterm._old(g) >= longterm.STAY_SHARE * g.count]  # fmt: skip
        assert spread == [], path.name
        assert longterm.arrivals(t, Derived(groups=tuple(groups))) is None, path.name


def test_a_kept_site_puts_memory_leak_first_only_when_the_model_did_not() -> None:
    """Rule 9 lifts memory-leak to LEAD and notes it (the verdict is then not sure); a
    memory-leak the model already put above LEAD on the window's own evidence is left as
    the model ranked it, with no note, so its verdict stands."""
    kept = longterm.Kept(("main.keep", "main.go", 10), 5 << 20, 5 << 20, "kept")
    lt = longterm.LongTerm(kept=kept)
    ranked, notes = longterm.adjust([("healthy", 0.7), ("memory-leak", 0.2), ("deadlock", 0.1)], lt)
    assert ranked[0] == ("memory-leak", longterm.LEAD)
    assert math.isclose(sum(p for _, p in ranked), 1.0)
    assert "without deciding" in notes["memory-leak"]
    ranked, notes = longterm.adjust([("memory-leak", 0.8), ("healthy", 0.2)], lt)
    assert ranked == [("memory-leak", 0.8), ("healthy", 0.2)] and "memory-leak" not in notes


def test_bursts_that_drain_are_periodic_when_the_series_ends_in_one() -> None:
    """500 goroutines every 5 s for 3 s, the last point taken during a burst: it ends 500
    above its start, and is still bursts that drain, not growth that levelled off."""
    pts = [(float(i), 505.0 if i % 5 in (2, 3, 4) else 5.0) for i in range(60)]
    t = history.trend([*pts, (60.0, 505.0)])
    assert t is not None and t.shape == "periodic", t


def _parked_dump(waits: dict[int, int], first_id: int = 10, state: str = "select") -> str:
    """A debug=2 dump of one group parked at main.(*jobs).watch: `waits` minutes ->
    goroutines, with ids from `first_id` up, oldest first."""
    at = ("main.(*jobs).watch", "/src/thumbs/main.go", 78, "main.(*jobs).start", 71)
    return _group_text(dict(sorted(waits.items(), reverse=True)), at, first_id, state)


def test_goroutines_that_parked_one_by_one_and_none_left_in_the_window_are_a_leak() -> None:
    """Rule 8 without history or baseline: 700 watchers parked over 3 minutes (a progress
    tracker whose owner forgets to close its quit channel), 19 more at the window's end and
    none of those at its start gone. Long polls with the same spread of waits come and go:
    some would have left in the window."""
    from godiag.analysis.rootcause.derived import derive
    from godiag.analysis.rootcause.kinds import goroutine_leak
    from godiag.formats.goroutines import parse
    from godiag.model.observation import Observation

    def two(a: str, b: str) -> Observation:
        dumps = [parse(a.encode(), "start"), parse(b.encode(), "end")]
        return Observation(url="http://x", dumps=dumps, duration=5.0)

    waits = {3: 20, 2: 220, 1: 250, 0: 210}
    start = _parked_dump(waits)
    grown = _parked_dump({**waits, 0: 229})  # the same ids and 19 new ones
    obs = two(start, grown)
    derived = derive(obs)
    hit = longterm.stayed(obs, derived)
    assert hit is not None and hit[0].count == 719
    assert "none of the 700 there at its start left in its 5 s" in hit[1], hit[1]
    assert "would have lost 15" in hit[1]
    lt = longterm.gather(obs, derived)
    assert "none left" in longterm.decisive(lt)["goroutine-leak"]
    loc, _ = goroutine_leak.locator(obs, derived)
    assert loc is not None and loc["function"] == "main.(*jobs).watch"
    # long polls: as many arrive as leave (the oldest 20 gone, 39 new): no rule
    turned = _parked_dump({2: 220, 1: 250, 0: 249}, first_id=30)
    obs = two(start, turned)
    assert longterm.stayed(obs, derive(obs)) is None
    # too few, or too short a window, for their silence to count: five departures expected
    few = _parked_dump({3: 5, 2: 20, 1: 20, 0: 10})
    obs = two(few, _parked_dump({3: 5, 2: 20, 1: 20, 0: 12}))
    assert longterm.stayed(obs, derive(obs)) is None
    # young waits only (a burst in flight): no rule
    young = {0: 700}
    obs = two(_parked_dump(young), _parked_dump({0: 719}))
    assert longterm.stayed(obs, derive(obs)) is None


def _watchers(n: int, first_id: int) -> str:
    """A debug=2 dump of `n` ticker loops parked in their select (a tick every few seconds
    restarts the wait: no minutes are ever printed)."""
    head = "goroutine 1 [select (no cases)]:\nmain.main()\n\t/src/fw/main.go:90 +0x1d\n\n"
    one = (
        "goroutine {id} [select]:\nmain.(*tracker).watchProgress(0xc000123, 0x1)\n"
        "\t/src/fw/main.go:54 +0x71\n"
        "created by main.(*tracker).startRollout in goroutine 7\n\t/src/fw/main.go:44 +0x1d5\n\n"
    )
    return head + "".join(one.format(id=first_id + i) for i in range(n))


def test_ticker_loops_that_outlive_the_baseline_are_a_goroutine_leak() -> None:
    """Loops woken by a ticker never show an old wait. The same goroutines (ids) as in a
    baseline 7 minutes old, in a group grown by 211, are alive that long: decisive, as old
    waits are. The same growth made of new goroutines only (a burst caught twice, a pool
    that replaced its workers) is not."""
    from godiag.formats.goroutines import parse
    from godiag.model.observation import Observation

    def since(end: str) -> longterm.GoroutinesSince:
        o = Observation("http://x", dumps=[parse(end.encode(), "end")],
                        baseline_dump=parse(_watchers(38, 100).encode(), "base"),
                        baseline_ages={"goroutine": 415.0})  # fmt: skip
        s = longterm.goroutines_since(o, None)
        assert s is not None and s.top is not None and s.top.wait_max == 0
        return s

    stayed = since(_watchers(249, 100))
    assert stayed.survivors == 38 and longterm.goroutines_decisive(stayed)
    ranked, raised = longterm.adjust([("healthy", 0.6), ("goroutine-leak", 0.3)],
                                     longterm.LongTerm(goroutines=stayed))  # fmt: skip
    assert ranked[0][0] == "goroutine-leak" and "still there" in raised["goroutine-leak"]
    assert "38 of them the same goroutines as in the baseline" in longterm.goroutine_line(stayed)
    renewed = since(_watchers(249, 5000))
    assert renewed.survivors == 0 and not longterm.goroutines_decisive(renewed)
    few = since(_watchers(10, 100) + _watchers(239, 5000).split("\n\n", 1)[1])
    assert few.survivors == 10 and not longterm.goroutines_decisive(few)


def _queued(n: int, first_id: int) -> str:
    """A debug=2 dump of `n` request handlers queued on one mutex."""
    head = "goroutine 1 [select (no cases)]:\nmain.main()\n\t/src/box/main.go:135 +0x1d\n\n"
    one = (
        "goroutine {id} [sync.Mutex.Lock]:\ninternal/sync.runtime_SemacquireMutex(0xc0, 0x0, 0x1)\n"
        "\t/usr/local/go/src/runtime/sema.go:95 +0x25\n"
        "sync.(*Mutex).Lock(0xc000123)\n\t/usr/local/go/src/sync/mutex.go:46 +0x45\n"
        "main.(*boxOffice).book(0xc000123)\n\t/src/box/main.go:70 +0x71\n"
        "created by net/http.(*Server).Serve in goroutine 1\n"
        "\t/usr/local/go/src/net/http/server.go:3464 +0x485\n\n"
    )
    return head + "".join(one.format(id=first_id + i) for i in range(n))


def test_requests_queued_on_a_lock_for_minutes_are_not_a_leak_by_their_ids() -> None:
    """Mutex waiters that lose the race park again, so their wait restarts too; a queue
    that never drains behind a lock held across slow work keeps the same goroutines for
    minutes and grows. That is lock contention: the same ids decide only for the waits
    of a loop between rounds (select, channel, sleep)."""
    from godiag.formats.goroutines import parse
    from godiag.model.observation import Observation

    o = Observation("http://x", dumps=[parse(_queued(132, 100).encode(), "end")],
                    baseline_dump=parse(_queued(7, 100).encode(), "base"),
                    baseline_ages={"goroutine": 130.0})  # fmt: skip
    s = longterm.goroutines_since(o, None)
    assert s is not None and s.top is not None and s.top.category == "lock"
    assert s.survivors == 7 and s.top.growth == 125
    assert not longterm.lived_through(s) and not longterm.goroutines_decisive(s)
    assert "the same goroutines" not in longterm.goroutine_line(s)


def test_handlers_on_keep_alive_connections_are_new_requests_in_the_same_goroutine() -> None:
    """net/http serves a keep-alive connection's requests one after another on one
    goroutine: long polls parked in a select, the same ids as minutes ago, are later
    requests on the same connections (a load that ramps up adds connections), not
    goroutines that stayed."""
    from godiag.formats.goroutines import parse
    from godiag.model.observation import Observation

    def polls(n: int) -> str:
        one = ("goroutine {id} [select]:\nmain.(*desk).waitParcel(0xc000123)\n"
               "\t/src/parcels/main.go:88 +0x71\n"
               "net/http.HandlerFunc.ServeHTTP(0xc0, {{0x9, 0xc1}}, 0xc2)\n"
               "\t/usr/local/go/src/net/http/server.go:2294 +0x29\n"
               "net/http.(*conn).serve(0xc000200, {{0x9, 0xc3}})\n"
               "\t/usr/local/go/src/net/http/server.go:2102 +0x625\n"
               "created by net/http.(*Server).Serve in goroutine 1\n"
               "\t/usr/local/go/src/net/http/server.go:3454 +0x485\n\n")  # fmt: skip
        return "".join(one.format(id=100 + i) for i in range(n))

    o = Observation("http://x", dumps=[parse(polls(160).encode(), "end")],
                    baseline_dump=parse(polls(30).encode(), "base"),
                    baseline_ages={"goroutine": 300.0})  # fmt: skip
    s = longterm.goroutines_since(o, None)
    assert s is not None and s.top is not None and s.top.category == "select"
    assert s.survivors == 30 and s.top.growth == 130
    assert not longterm.lived_through(s) and not longterm.goroutines_decisive(s)


def test_a_figure_under_a_bar_never_reads_as_the_bar() -> None:
    from godiag.analysis.rootcause.longterm.common import mb_under

    four = 4 * 2**20
    assert mb_under(four - 5000, four) == "3.99 MiB"  # not "4.0 MiB (under 4 MiB)"
    assert mb_under(3 * 2**20, four) == "3.0 MiB"
    assert mb_under(five := 5 * 2**20, four) == "5.0 MiB" and five > four


def test_history_too_short_for_a_trend_says_how_much_there_is() -> None:
    """25 s of scrapes: every series' shape is unknown; the history line says how much
    history there is and what a trend takes, not "unknown" five times over."""
    short = history.trend(_series(lambda i: 100 + i, n=5))
    assert short is not None and short.shape == "unknown"
    lt = longterm.LongTerm(trends={"go_goroutines": short, "heap_live_bytes": short},
                           lookback_s=1800.0)  # fmt: skip
    line = longterm.summary(lt) or ""
    assert "unknown" not in line
    assert "20 s of history (5 points), too little for a trend" in line
    assert f"{history.MIN_POINTS} points over {history.MIN_SPAN_S:.0f} s" in line


def test_a_linear_history_beside_a_healthy_top_says_what_would_decide() -> None:
    mb = 2**20
    heap = history.trend(_series(lambda i: 50 * mb + i * 100_000, n=60))
    assert heap is not None and heap.shape == "linear"
    lt = longterm.LongTerm(trends={"heap_live_bytes": heap}, lookback_s=1800.0)
    why = longterm.doubt("healthy", lt) or ""
    assert "a slow leak looks like this; 10 min of that history or a baseline stored now" in why
    site = ("main.put", "/src/main.go", 9)
    with_ref = replace(lt, heap=longterm.HeapSince(25.0, mb, site, mb, 0, 1.0))
    why = longterm.doubt("healthy", with_ref) or ""
    assert "a later diagnosis against the stored reference (now 25 s old) would decide" in why
