"""When the observer takes a CPU profile on its own: Observer._cpu_high, read at every inner
sample of the window."""

from __future__ import annotations

from godiag.collect.http import HttpClient
from godiag.model.capture import CaptureMeta
from godiag.model.observation import MetricSample
from godiag.pipeline.observe import Observer


def _busy(cpu_seconds: list[float]) -> bool:
    obs = Observer("http://127.0.0.1:1", HttpClient(), 5.0, None, CaptureMeta())
    obs.samples = [MetricSample(1.25 * i, {"process_cpu_seconds_total": v})
                   for i, v in enumerate(cpu_seconds)]  # fmt: skip
    return obs._cpu_high()


def test_a_burst_after_an_idle_start_calls_for_a_profile() -> None:
    """Bursty load: idle over the first interval, busy over the second. Since the start
    that is under the threshold (0.096 CPU-s/s); over the last interval alone it is the
    burst itself (0.16)."""
    assert not _busy([4.36, 4.40])
    assert _busy([4.36, 4.40, 4.60])
    # a service that stays idle is left alone, whatever the counter's level
    assert not _busy([100.0, 100.05, 100.1, 100.12])


def test_a_burst_over_is_still_seen_since_the_start() -> None:
    """Busy in the first interval, idle in the last: since the start it still used more
    than the threshold, and the profile is still worth taking (the hot code may return)."""
    assert _busy([4.0, 5.5, 5.52])
