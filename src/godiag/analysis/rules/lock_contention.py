"""lock-contention: time spent waiting on locks that grows fast between two profiles.

Mutex (and block) profiles are cumulative since the process started, so the delay
accumulated between two snapshots, divided by the wall time between them, is how many
seconds per second goroutines spent waiting at each call site (1.0 = one goroutine
waiting all the time). A site violates the rule when that rate reaches `min_rate`
(default 0.05 s/s) and the delay grew by at least `min_delay` (default 10 ms), which
keeps a handful of sampled events from deciding the verdict.
"""

from __future__ import annotations

from typing import Any

from godiag.analysis.rules import Verdict, human, where
from godiag.analysis.sites import by_site, growth_rows, pick_or_innermost
from godiag.model.findings import Evidence, Finding, Location, Severity
from godiag.model.profile import Profile

PROFILE_TYPE = "mutex"
SAMPLE = "delay"


def evaluate(
    before: Profile,
    after: Profile,
    elapsed_s: float,
    *,
    labels: tuple[str, str] = ("baseline", "now"),
    min_rate: float = 0.05,
    min_delay_ns: int = 10_000_000,
) -> Verdict:
    old = by_site(before, SAMPLE, chooser=pick_or_innermost)
    new = by_site(after, SAMPLE, chooser=pick_or_innermost)
    sites: list[dict[str, Any]] = []
    for (fn, file, line), b, a in growth_rows(old, new)[:10]:
        grew = a - b
        rate = grew / 1e9 / elapsed_s if elapsed_s > 0 else 0.0
        sites.append({
            "function": fn, "file": file or None, "line": line or None, "before": b,
            "after": a, "growth": grew, "wait_per_second": round(rate, 4),
            "violates": grew >= min_delay_ns and rate >= min_rate,
        })  # fmt: skip
    total = sum(new.values()) - sum(old.values())
    measurements = {
        "sample_type": SAMPLE,
        "unit": "nanoseconds",
        "elapsed_s": round(elapsed_s, 3),
        "delay_growth": total,
        "wait_per_second": round(total / 1e9 / elapsed_s, 4) if elapsed_s > 0 else 0.0,
    }
    thresholds = {"min_wait_per_second": min_rate, "min_delay_ns": min_delay_ns}
    bad = [s for s in sites if s["violates"]]
    if not bad:
        return Verdict(
            "lock-contention", False,
            f"lock waits grew {human(total, 'nanoseconds')} in {elapsed_s:.0f}s "
            f"({measurements['wait_per_second']} s/s), under the threshold",
            measurements, sites, [], thresholds,
        )  # fmt: skip
    head = bad[0]
    summary = (
        f"goroutines waited {human(head['growth'], 'nanoseconds')} on a lock at {where(head)} "
        f"in {elapsed_s:.0f}s ({head['wait_per_second']} s per second)"
    )
    findings = [_finding(s, elapsed_s, labels) for s in bad]
    return Verdict("lock-contention", True, summary, measurements, sites, findings, thresholds)


def _finding(s: dict[str, Any], elapsed_s: float, labels: tuple[str, str]) -> Finding:
    return Finding(
        id="lock-contention",
        severity=Severity.WARNING,
        title=f"lock contention at {s['function']}: {s['wait_per_second']} s of waiting per s",
        detail=(
            f"contended delay attributed to this site grew from "
            f"{human(s['before'], 'nanoseconds')} ({labels[0]}) to "
            f"{human(s['after'], 'nanoseconds')} ({labels[1]}) in {elapsed_s:.0f}s"
        ),
        evidence=(
            Evidence(
                command=f"mutex delay {labels[0]} -> {labels[1]}",
                output=f"+{s['growth']} ns in {elapsed_s:.1f}s",
                file=s["file"],
                line=s["line"],
            ),
        ),
        location=Location(s["file"], s["line"]) if s["file"] else None,
        fix="hold the lock for less time (move work outside the critical section), shard "
        "the data, or use sync.RWMutex/atomics where readers dominate",
    )
