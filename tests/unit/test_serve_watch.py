"""`godiag watch`: the /metrics sample reader (fuzzed: a value or a ParseError with the line)
and rule evaluation (threshold, rise over a window, cooldown)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from godiag.errors import ParseError
from godiag.pipeline.settings import WatchRule
from godiag.pipeline.watch import RuleState, evaluate, samples

TEXT = """# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 1520
go_threads 12
go_info{version="go1.26.0"} 1
go_gc_duration_seconds{quantile="0.5"} 3.1e-05
process_start_time_seconds 1.7e+09 1700000000000
"""


def test_samples() -> None:
    s = samples(TEXT, "m")
    assert s["go_goroutines"] == 1520 and s['go_info{version="go1.26.0"}'] == 1
    with pytest.raises(ParseError) as err:
        samples("go_goroutines 1\nthis is not a metric line\n", "m")
    assert err.value.line == 2


@given(cut=st.integers(0, len(TEXT)), junk=st.text(max_size=40), at=st.integers(0, len(TEXT)))
def test_fuzz_samples(cut: int, junk: str, at: int) -> None:
    text = TEXT[:cut]
    text = text[:at] + junk + text[at:]
    with contextlib.suppress(ParseError):
        for v in samples(text, "m").values():
            assert isinstance(v, float)


def test_threshold_cooldown_and_rise() -> None:
    above = WatchRule("G", "go_goroutines", above=100, cooldown_seconds=60)
    st_ = RuleState()
    assert not evaluate(above, st_, 0, 50)
    assert evaluate(above, st_, 15, 150)
    assert not evaluate(above, st_, 30, 150)  # cooling down
    assert evaluate(above, st_, 76, 150)
    rise = WatchRule("S", "go_goroutines", rise=100, over_seconds=60, cooldown_seconds=1)
    st_ = RuleState()
    assert not evaluate(rise, st_, 0, 1000)
    assert not evaluate(rise, st_, 30, 1050)
    assert evaluate(rise, st_, 45, 1101)
    assert not evaluate(rise, st_, 200, 1500)  # the window moved on: no rise inside it
