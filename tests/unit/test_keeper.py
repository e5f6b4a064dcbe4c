"""keeper.py: a leak's location is the slice or map that keeps the values, when the heap
profile ties one to the code that made them; recorded slow runs of go/corpus programs
(data/diagnose/slow), each a different shape of that tie, and the cases it must leave."""

from __future__ import annotations

import pytest
from tools.slow_eval import SLOW

from godiag.analysis.rootcause import keeper
from godiag.collect.sources import BundleSource
from godiag.formats.observation import build
from godiag.formats.pprof import decode
from godiag.model.observation import Observation
from godiag.model.profile import Profile
from godiag.pipeline.diagnose import IN_FLIGHT, MB, DiagnoseOptions, replay
from tests.datapaths import DATA

pytestmark = pytest.mark.skipif(not SLOW.is_dir(), reason="no data/diagnose/slow")


def _observed(name: str) -> Observation:
    src = BundleSource(SLOW / name / "captures", 512 * MB)
    return build(src.record(), limit=512 * MB, pool=IN_FLIGHT, decoded=src.decoded)


def _site(obs: Observation, function: str, line: int) -> tuple[str, str, int]:
    """The end profile's site of `function` at `line` (its file is the recording machine's)."""
    found = {p[0] for p in keeper.stats(obs.heap[-1], None) if p[0][0] == function}
    return next(s for s in found if s[2] == line)


def test_a_value_made_by_the_caller_is_kept_by_the_callees_append() -> None:
    """fanout retain-all: `publishTick` makes each message body (39 MiB since the baseline,
    22,000 objects of 1.8 KiB) and calls `Publish`, whose `t.log = append(t.log, m)` keeps
    it: 64 arrays of 8 KiB that grew since the baseline and allocated twice what they hold."""
    obs = _observed("fanout--retain-all-1")
    found = keeper.keeper(_site(obs, "main.(*deployment).publishTick", 84), obs.heap[-1],
                          obs.baseline_heap, None)  # fmt: skip
    assert found is not None
    assert (found.site[0], found.site[2]) == ("main.(*broker).Publish", 129)
    assert found.grew is not None and found.grew > 0 and found.churn >= keeper.CHURN
    assert "made there, kept here" in found.line


def test_a_middleware_files_the_handlers_response_in_a_map() -> None:
    """notesapi request-audit: the handler writes its response into a recorder (`Write`,
    from `wrap`'s closure) and the same closure, inlined under another name, files it in
    an audit map that forgets to delete: the two paths meet in `wrap`'s code."""
    obs = _observed("notesapi--request-audit-2")
    value = _site(obs, "main.(*recorder).Write", 112)
    found = keeper.keeper(value, obs.heap[-1], obs.baseline_heap, None)
    assert found is not None
    assert (found.site[0], found.site[2]) == ("main.(*auditTrail).record", 39)
    assert keeper.code("main.(*api).routes.(*api).wrap.func2") == "(*api).wrap"
    assert keeper.code("main.startTraffic.func1.2") == "startTraffic"


def test_no_reference_needs_the_container_reallocated() -> None:
    """grpcinventory reservation-history, Prometheus only: the receipts `receipt` builds
    are kept by `Reserve`'s append two lines after it calls it. Without a reference the
    container's growth is its reallocations (one 820 KiB array, 3x allocated)."""
    obs = _observed("grpcinventory--reservation-history-1")
    found = keeper.keeper(_site(obs, "main.receipt", 225), obs.heap[-1], None, None)
    assert found is not None
    assert (found.site[0], found.site[2]) == ("main.(*inventory).Reserve", 213)
    assert found.grew is None and found.churn >= keeper.CHURN


@pytest.mark.parametrize(
    ("run", "function", "line"),
    [
        # the copy `make([]record, len(d.input))` makes 180 KiB objects at its own line:
        # that line keeps them (the fault's line); nothing further is named
        ("nightlybatch--run-history-1", "main.(*service).remember", 233),
        # parts read by io.ReadAll and stored in a map nothing on their path grows
        ("blobstore--kept-parts-1", "main.(*server).putPart", 160),
    ],
)
def test_left_alone(run: str, function: str, line: int) -> None:
    obs = _observed(run)
    assert keeper.keeper(_site(obs, function, line), obs.heap[-1], obs.baseline_heap, None) is None


def test_a_path_only_through_a_shared_accept_loop_is_no_tie() -> None:
    """Paths are cut MAX_DEPTH callers above their site (`stats`): further up, every
    handler of a server shares its accept loop."""
    a = (("main.a", "x.go", 1), ("main.b", "x.go", 2), ("main.c", "x.go", 3),
         ("main.d", "x.go", 4), ("main.serve", "x.go", 9))  # fmt: skip
    b = (("main.k", "y.go", 1), ("main.serve", "x.go", 9))
    assert keeper._tie(a[: keeper.MAX_DEPTH + 1], b) is None
    assert keeper._tie(a, b) == 5  # what the cut leaves out


KEEPER = DATA / "keeper"


def _profiles(name: str) -> tuple[Profile, Profile]:
    return tuple(decode((KEEPER / name / f).read_bytes(), f)  # type: ignore[return-value]
                 for f in ("heap-end.pb.gz", "heap-baseline.pb.gz"))  # fmt: skip


def _value(end: Profile, function: str) -> tuple[str, str, int]:
    return next(p[0] for p in keeper.stats(end, None) if p[0][0] == function)


def test_values_handed_over_through_a_channel_name_the_one_container_that_grew() -> None:
    """pricefeed: the producer's packed buffers (64 MiB since the baseline) reach the
    consumer through a channel, so no call path ties them to the history the consumer
    appends them to; that slice is the only container that grew (+21 MiB, one array
    reallocated 5x over): named, with the evidence saying nothing ties it."""
    end, base = _profiles("pricefeed")
    found = keeper.keeper(_value(end, "main.packDepth"), end, base, None)
    assert found is not None
    assert (found.site[0], found.site[2]) == ("main.(*book).apply", 87)
    assert "no call path ties it" in found.line and "not a proven one" in found.line
    # without a baseline minutes old there is no growth to single it out
    assert keeper.keeper(_value(end, "main.packDepth"), end, None, None) is None


def test_a_constructors_values_are_kept_by_its_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    """stationwx: `newStationState` makes 23 KiB rings (large objects at its own line, so
    no container search); it is a constructor by its name, and its caller
    `(*registry).state` is where the ring is kept."""
    end, base = _profiles("stationwx")
    value = _value(end, "main.newStationState")
    assert keeper.keeper(value, end, base, None) is None
    found = keeper.maker_caller(value, end, None)
    assert found is not None
    assert (found.site[0], found.site[2]) == ("main.(*registry).state", 87)
    assert "a helper that makes values by its name" in found.line
    # a name that does not say it makes values hands nothing over
    monkeypatch.setattr(keeper, "MAKERS", ("render",))
    assert keeper.maker_caller(value, end, None) is None


def test_a_value_built_over_several_lines_is_one_functions_growth() -> None:
    """invoicer: each invoice's text grows a strings.Builder over four Fprintf lines of
    `renderInvoice`, none of which holds half of the 10.5 MiB the live heap gained since
    the baseline (the largest 43%, and it kept 20% of what it allocated, reallocating);
    summed over the function's lines that grew, it is all of it and kept a third: the
    baseline decides memory-leak. The location is the maker's caller (keeper.py)."""
    doc = replay(KEEPER / "invoicer", DiagnoseOptions(store=False, flames=False))
    top = doc["causes"][0]
    assert top["kind"] == "memory-leak" and doc["confident"], doc["verdict"]
    ev = " | ".join(top["evidence"])
    assert "(100%) in the function of main.renderInvoice" in ev
    assert top["location"]["function"] == "main.(*server).issue"
