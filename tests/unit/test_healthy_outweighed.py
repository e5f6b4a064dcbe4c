"""A "healthy" top says no fault is there: a verdict only when the model gives it more
than every fault together (ranker.HEALTHY_FLOOR). And the baseline command a verdict
advises carries the flags its metadata lacks, so that it stores as printed."""

from __future__ import annotations

import pytest
from tools.slow_eval import SLOW

from godiag.analysis.rootcause import ranker
from godiag.model.capture import CaptureMeta
from godiag.pipeline.diagnose import DiagnoseOptions, _store_flags, replay


def test_a_healthy_top_below_half_is_outweighed_by_the_faults() -> None:
    ranked = [("healthy", 0.45), ("memory-leak", 0.3), ("gc-pressure", 0.25)]
    total, faults = ranker.outweighed(ranked) or (0.0, [])
    assert total == pytest.approx(0.55)
    assert faults[0] == ("memory-leak", 0.3)


def test_a_healthy_top_just_above_half_is_not_a_verdict_either() -> None:
    """At 50-55% "no fault" has been wrong about 2 times in 5 (held out): the faults score
    nearly as much, and the verdict says so rather than that they score more."""
    from godiag.pipeline.diagnose import _outweighed

    why = _outweighed([("healthy", 0.52), ("memory-leak", 0.3), ("connection-leak", 0.18)], {})
    assert why is not None
    assert why.startswith("the faults together score nearly as much (48%: memory-leak 30%")
    assert "only at 55% or more" in why
    below = _outweighed([("healthy", 0.4996), ("memory-leak", 0.5004)], {})
    assert below is not None and below.startswith("the faults together score more (50.1%")


def test_named_faults_without_evidence_say_so() -> None:
    """The causes list ranks a kind without evidence of its own after those with it, or
    leaves it out: the verdict naming it says why (an idle service: no heap growth, no
    goroutine growth)."""
    from godiag.pipeline.diagnose import _outweighed

    idle = {"heap_growth_bytes_per_s": 0.0, "heap_growth_top_share": 0.0, "goroutines": 8,
            "goroutine_growth_per_min": 0.0, "cpu_seconds_per_s": 0.01}  # fmt: skip
    ranked = [("healthy", 0.49), ("cpu-saturation", 0.08), ("goroutine-leak", 0.17),
              ("memory-leak", 0.12)]  # fmt: skip
    why = _outweighed(ranked, idle)
    assert why is not None
    # none of them has its own evidence: said once, plainly
    assert "goroutine-leak 17%, memory-leak 12%, cpu-saturation 8%), none of them with" in why
    assert "no fault was seen, but one window does not rule out" in why
    # one with evidence among them: each without says so
    mixed = _outweighed(ranked, idle, frozenset({"goroutine-leak"}))
    assert mixed is not None
    assert "memory-leak 12% (not confirmed by its own evidence)" in mixed
    assert "goroutine-leak 17%, " in mixed and "no fault was seen" not in mixed
    # a kind a lead put first has its evidence
    proven = _outweighed(ranked, idle, frozenset({"goroutine-leak", "memory-leak"}))
    assert proven is not None and "goroutine-leak 17%, memory-leak 12%, cpu" in proven


@pytest.mark.parametrize(
    "ranked",
    [
        [("healthy", 0.55), ("memory-leak", 0.45)],
        [("healthy", 0.9), ("memory-leak", 0.1)],
        # a fault on top is judged by its own rules (the floor, its evidence, a rival)
        [("memory-leak", 0.45), ("healthy", 0.3), ("gc-pressure", 0.25)],
    ],
)
def test_healthy_at_the_floor_or_more_or_a_fault_on_top_is_not(
    ranked: list[tuple[str, float]],
) -> None:
    assert ranker.outweighed(ranked) is None


@pytest.mark.skipif(not SLOW.is_dir(), reason="no data/diagnose/slow (make collect-slow)")
def test_a_slow_memory_leak_scored_healthy_first_is_not_called_healthy() -> None:
    """A view history kept per customer (sqlorders view-history, watched for minutes with
    Prometheus history only): the model ranks healthy first, below the floor, memory-leak
    close behind; the verdict is not sure and does not call the service healthy (the
    outweighed wording itself is tested on ranked lists above)."""
    doc = replay(SLOW / "sqlorders--view-history-1" / "captures",
                 DiagnoseOptions(store=False, flames=False))  # fmt: skip
    top = doc["causes"][0]
    assert top["kind"] == "healthy" and top["probability"] < ranker.HEALTHY_FLOOR
    assert not doc["confident"]
    assert doc["verdict"].startswith("not sure:")
    assert "memory-leak" in {c["kind"] for c in doc["causes"]}


ADVICE = "a baseline stored now (`godiag diagnose URL --store --as-baseline`) would decide"


def test_the_baseline_command_gets_the_flags_the_metadata_lacks() -> None:
    # a pprof-only service: its name comes from the host, nothing says its version or commit
    text = _store_flags(ADVICE, CaptureMeta(service_name="invoicer"))
    assert ("`godiag diagnose URL --store --as-baseline --go-version VERSION "
            "--build-commit REV`") in text  # fmt: skip
    assert "--service" not in text


def test_complete_metadata_leaves_the_command_as_it_is() -> None:
    meta = CaptureMeta(service_name="s", go_version="go1.26.1", build_commit="abc123")
    assert _store_flags(ADVICE, meta) == ADVICE


def test_a_stored_diagnosis_is_the_baseline_the_advice_asks_for() -> None:
    """When this diagnosis was stored, its captures are the reference of those after it:
    the advice says so instead of a command that would store them again."""
    meta = CaptureMeta(service_name="invoicer")
    text = _store_flags(ADVICE, meta, stored=True)
    assert "godiag diagnose URL" not in text and "stored now, is a later one's reference" in text
    healthy = "a stored baseline (`godiag diagnose URL --as-baseline` now, diagnose again later)"
    assert _store_flags(healthy, meta, stored=True) == (
        "a stored baseline (this diagnosis, stored now, is a later one's reference within "
        "--lookback; diagnose again later)")  # fmt: skip
