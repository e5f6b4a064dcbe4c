"""The store as memory across a restart: a capture of the process that ran before is
another process's heap, never this one's reference (pipeline/reference.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from godiag.analysis.rootcause.longterm.common import CLOCK_SLACK_S, LOCAL_SLACK_S
from godiag.config import Config
from godiag.model.capture import Capture, CaptureMeta
from godiag.model.observation import MetricSample
from godiag.pipeline.reference import process_start, reference
from godiag.store import save_capture
from tests import datapaths

HEAP = (datapaths.DATA / "keeper" / "pricefeed" / "heap-end.pb.gz").read_bytes()
NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)


def _put(conf: Config, minutes_ago: float) -> None:
    at = NOW - timedelta(minutes=minutes_ago)
    cap = Capture(HEAP, "http://127.0.0.1:1/debug/pprof/heap", "heap", at,
                  meta=CaptureMeta("svc", "go1.26.0", "abc"))  # fmt: skip
    assert save_capture(cap, None, conf)[0] is not None


def test_only_captures_since_the_process_started_are_a_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GODIAG_HOME", str(tmp_path))
    conf = Config(path=None)
    _put(conf, 20)  # the process before the restart
    _put(conf, 3)  # this one, started 5 minutes ago
    started = NOW - timedelta(minutes=5)
    refs, _, notes = reference(conf, "svc", NOW, 1800, not_before=started)
    assert [round(-r.at / 60) for r in refs] == [3] and notes == []
    refs, _, _ = reference(conf, "svc", NOW, 1800)  # the start unknown: the oldest
    assert [round(-r.at / 60) for r in refs] == [20]
    refs, _, notes = reference(conf, "svc", NOW, 1800, not_before=NOW - timedelta(minutes=1))
    assert refs == []
    assert any("not used as reference: taken" in n and "another process's" in n for n in notes)


def test_the_start_comes_from_proc_else_from_metrics() -> None:
    """A local process's /proc age is read on godiag's own clock (a few seconds' slack); the
    exported start is the target's clock (a minute's)."""
    slack = timedelta(seconds=CLOCK_SLACK_S)
    t = NOW.timestamp() - 600
    assert process_start([MetricSample(1.0, {"process_start_time_seconds": t})], NOW) == (
        datetime.fromtimestamp(t, UTC) - slack
    )
    proc = [MetricSample(4.0, {"godiag_proc_uptime_seconds": 604.0})]
    local = NOW - timedelta(seconds=600 + LOCAL_SLACK_S)
    assert process_start(proc, NOW) == local
    both = [MetricSample(4.0, {"godiag_proc_uptime_seconds": 604.0,
                               "process_start_time_seconds": t})]  # fmt: skip
    assert process_start(both, NOW) == local
    assert process_start([MetricSample(1.0, {"go_goroutines": 3.0})], NOW) is None


def test_a_local_restart_40_s_after_the_capture_is_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A service restarted 40 s after its last diagnosis and watched for 3 minutes: the
    stored capture 3 min 40 s old is the process before, read from /proc on this machine."""
    monkeypatch.setenv("GODIAG_HOME", str(tmp_path))
    conf = Config(path=None)
    _put(conf, 220 / 60)
    proc = [MetricSample(5.0, {"godiag_proc_uptime_seconds": 185.0})]
    refs, _, notes = reference(conf, "svc", NOW, 1800, not_before=process_start(proc, NOW))
    assert refs == [] and any("another process's" in n for n in notes)


def test_a_capture_seconds_old_is_no_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The diagnosis run six seconds before this one (stored by default) sees what this
    window sees: the reference is the oldest capture at least three windows and 15 s back,
    else none."""
    from godiag.pipeline.reference import min_reference_age

    monkeypatch.setenv("GODIAG_HOME", str(tmp_path))
    conf = Config(path=None)
    _put(conf, 0.1)
    assert min_reference_age(5.0) == 15.0 and min_reference_age(30.0) == 90.0
    refs, _, _ = reference(conf, "svc", NOW, 1800, min_age_s=min_reference_age(5.0))
    assert refs == []
    _put(conf, 2)
    refs, _, _ = reference(conf, "svc", NOW, 1800, min_age_s=min_reference_age(5.0))
    assert [round(-r.at / 60) for r in refs] == [2]
