"""The shape of a metric's history: slope, monotonicity and one of a few named shapes.

Pure over (seconds, value) points, as a Prometheus range query gives them. A real leak is
slow (a goroutine a second, tens of KB a minute): inside a diagnosis window it is below
the noise, over minutes it is a straight line. A batch that starts hundreds of goroutines
and lets them finish is the opposite: large moves that come back. The shapes:

- `flat`: the series stays within a few units (or 2 % of its level) of where it was;
- `linear`: it grows steadily: a least-squares line explains most of it (R² >= 0.8) and
  most moves are up (monotonicity >= 0.6);
- `level-off`: it grew, then stopped (the second half's slope under a quarter of the
  first's): a cache or pool filling up, not a leak;
- `periodic`: it rises above the middle of its range and falls back under it twice or
  more (bursts that drain);
- `declining`, `irregular`: the rest; `unknown` with fewer than MIN_POINTS points or
  less than MIN_SPAN_S seconds.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

Points = list[tuple[float, float]]

MIN_POINTS = 5
MIN_SPAN_S = 30.0
FLAT_ABS = 3.0  # units (goroutines, fds) a flat series may move
FLAT_REL = 0.02  # or this fraction of its median level, whichever is larger
LINEAR_R2 = 0.8
LINEAR_MONOTONIC = 0.6
LEVEL_OFF_RATIO = 0.25
PERIODIC_CYCLES = 2


@dataclass(frozen=True)
class Trend:
    points: int
    span_s: float  # first to last point
    first: float
    last: float
    delta: float  # last - first
    low: float
    high: float
    slope_per_min: float  # least-squares slope
    r2: float  # of the least-squares line (0 for a constant series)
    monotonicity: float  # increasing steps / steps that moved (0 when none moved)
    cycles: int  # rises above mid-range that fell back below it
    shape: str

    @property
    def growing(self) -> bool:
        return self.shape == "linear"

    @property
    def minutes(self) -> float:
        return self.span_s / 60.0


def _fit(pts: Points) -> tuple[float, float]:
    """Least-squares slope (per second) and R²."""
    n = len(pts)
    mt = sum(t for t, _ in pts) / n
    mv = sum(v for _, v in pts) / n
    stt = sum((t - mt) ** 2 for t, _ in pts)
    svv = sum((v - mv) ** 2 for _, v in pts)
    if stt <= 0:
        return 0.0, 0.0
    stv = sum((t - mt) * (v - mv) for t, v in pts)
    slope = stv / stt
    r2 = 0.0 if svv <= 0 else (stv * stv) / (stt * svv)
    return slope, r2


def _cycles(values: list[float], low: float, high: float) -> int:
    """Times the series went above mid-range and came back below it (with a 10 % band
    around mid-range, so noise at the middle does not count)."""
    mid, band = (low + high) / 2, (high - low) * 0.1
    above, n = False, 0
    for v in values:
        if not above and v > mid + band:
            above = True
        elif above and v < mid - band:
            above = False
            n += 1
    return n


def _median(values: list[float]) -> float:
    s = sorted(values)
    m = len(s) // 2
    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2


def trend(points: Points) -> Trend | None:
    """The trend of `points` (any order); None without any finite point."""
    pts = sorted((t, v) for t, v in points if math.isfinite(t) and math.isfinite(v))
    if not pts:
        return None
    values = [v for _, v in pts]
    low, high = min(values), max(values)
    span = pts[-1][0] - pts[0][0]
    slope, r2 = _fit(pts) if len(pts) >= 2 else (0.0, 0.0)
    steps = [b - a for a, b in itertools.pairwise(values) if b != a]
    mono = sum(1 for s in steps if s > 0) / len(steps) if steps else 0.0
    cycles = _cycles(values, low, high)
    delta = values[-1] - values[0]
    return Trend(
        points=len(pts), span_s=span, first=values[0], last=values[-1], delta=delta,
        low=low, high=high, slope_per_min=slope * 60, r2=r2, monotonicity=mono,
        cycles=cycles, shape=_shape(pts, low, high, delta, r2, mono, cycles),
    )  # fmt: skip


def _shape(
    pts: Points, low: float, high: float, delta: float, r2: float, mono: float, cycles: int
) -> str:
    if len(pts) < MIN_POINTS or pts[-1][0] - pts[0][0] < MIN_SPAN_S:
        return "unknown"
    values = [v for _, v in pts]
    if high - low <= max(FLAT_ABS, FLAT_REL * abs(_median(values))):
        return "flat"
    rng = high - low
    # bursts that drain twice or more are periodic wherever the series happens to end: one
    # taken during a burst ends high and would otherwise read as grown, then levelled off
    if cycles >= PERIODIC_CYCLES:
        return "periodic"
    if delta >= 0.5 * rng:
        half = len(pts) // 2
        first, _ = _fit(pts[: half + 1])
        second, _ = _fit(pts[half:])
        if first > 0 and second < LEVEL_OFF_RATIO * first:
            return "level-off"
        if r2 >= LINEAR_R2 and mono >= LINEAR_MONOTONIC:
            return "linear"
    if delta <= -0.5 * rng:
        return "declining"
    return "irregular"


def describe(t: Trend, unit: str = "") -> str:
    """'+1,812, linear' (the change over the span, and the shape)."""
    d = f"{t.delta:+,.0f}{unit}" if abs(t.delta) >= 10 else f"{t.delta:+,.2f}{unit}"
    extra = f", {t.cycles} bursts" if t.shape == "periodic" else ""
    return f"{d}, {t.shape}{extra}"
