"""memory-leak: heap in use that grows at one call site between two absolute snapshots.

Only absolute heap profiles compare (`/debug/pprof/heap`, best with gc=1 so in-use
figures are current): `heap?seconds=N` is already a delta and would be counted twice.
A site is leaking when its inuse_space growth, normalised by the elapsed time, passes
three bars at once, so that sampling noise never trips the rule:

- rate: at least `min_rate` bytes per minute (default 1 MiB/min);
- share: the growth is at least `min_share` of the heap in use now (default 1 %), so
  a big heap's jitter is not a leak (a short window on a service that has leaked for
  hours sees a small share: compare with an older baseline or a longer --window);
- size: at least `min_samples` sampling periods (default 8 x MemProfileRate, 4 MiB at
  Go's default 512 KiB). Each sampled object stands for about one period of bytes, so
  a site's estimate moves by whole periods when different objects happen to be
  sampled; a few periods of difference is chance, not growth.
"""

from __future__ import annotations

from typing import Any

from godiag.analysis.rules import Verdict, human, per_minute, where
from godiag.analysis.sites import by_site, growth_rows, pick_or_innermost
from godiag.model.findings import Evidence, Finding, Location, Severity
from godiag.model.profile import Profile

PROFILE_TYPE = "heap"
SAMPLE = "inuse_space"
MIB = 1 << 20
DEFAULT_PERIOD = 512 * 1024


def _mb(n: float) -> str:
    return human(n, "bytes")


def evaluate(
    before: Profile,
    after: Profile,
    elapsed_s: float,
    *,
    labels: tuple[str, str] = ("baseline", "now"),
    min_rate: float = 1.0 * MIB,
    min_share: float = 0.01,
    min_samples: int = 8,
) -> Verdict:
    old = by_site(before, SAMPLE, chooser=pick_or_innermost)
    new = by_site(after, SAMPLE, chooser=pick_or_innermost)
    total_before, total_after = sum(old.values()), sum(new.values())
    period = after.period if after.period > 0 else DEFAULT_PERIOD
    min_growth = min_samples * period
    sites: list[dict[str, Any]] = []
    leaking: list[dict[str, Any]] = []
    for (fn, file, line), b, a in growth_rows(old, new)[:10]:
        grew = a - b
        rate = per_minute(grew, elapsed_s)
        share = grew / total_after if total_after else 0.0
        bad = grew >= min_growth and rate >= min_rate and share >= min_share
        row = {
            "function": fn, "file": file or None, "line": line or None,
            "before": b, "after": a, "growth": grew, "per_minute": round(rate),
            "share": round(share, 4), "violates": bad,
        }  # fmt: skip
        sites.append(row)
        if bad:
            leaking.append(row)
    measurements = {
        "sample_type": SAMPLE,
        "unit": "bytes",
        "elapsed_s": round(elapsed_s, 3),
        "inuse_before": total_before,
        "inuse_after": total_after,
        "growth": total_after - total_before,
        "per_minute": round(per_minute(total_after - total_before, elapsed_s)),
    }
    thresholds = {"min_rate_per_minute": min_rate, "min_share": min_share,
                  "min_growth": min_growth}  # fmt: skip
    if not leaking:
        top = sites[0] if sites else None
        detail = (f"; largest growth {_mb(top['growth'])} at {where(top)}"
                  if top and top["growth"] > 0 else "")  # fmt: skip
        return Verdict(
            "memory-leak", False,
            f"no call site's heap in use grew past the thresholds in {elapsed_s:.0f}s{detail}",
            measurements, sites, [], thresholds,
        )  # fmt: skip
    findings = [_finding(r, elapsed_s, labels) for r in leaking]
    head = leaking[0]
    summary = (
        f"heap in use at {where(head)} grew {_mb(head['growth'])} in {elapsed_s:.0f}s "
        f"({_mb(head['per_minute'])}/min, {head['share']:.0%} of the heap)"
    )
    return Verdict("memory-leak", True, summary, measurements, sites, findings, thresholds)


def _finding(row: dict[str, Any], elapsed_s: float, labels: tuple[str, str]) -> Finding:
    file, line = row["file"], row["line"]
    return Finding(
        id="memory-leak",
        severity=Severity.ERROR,
        title=f"heap in use at {row['function']} grows {_mb(row['per_minute'])}/min",
        detail=(
            f"inuse_space allocated at this site went from {_mb(row['before'])} ({labels[0]}) "
            f"to {_mb(row['after'])} ({labels[1]}) in {elapsed_s:.0f}s: the memory it "
            "allocates stays reachable (a cache, map or slice that is never pruned, or a "
            "reference kept by a long-lived object)"
        ),
        evidence=(
            Evidence(
                command=f"heap inuse_space {labels[0]} -> {labels[1]}",
                output=f"{row['before']} -> {row['after']} bytes (+{row['growth']} in "
                f"{elapsed_s:.1f}s)",
                file=file,
                line=line,
            ),
        ),
        location=Location(file, line) if file else None,
        fix="bound what this site keeps (evict, cap the size, or drop references when done); "
        "see what the new memory is with `godiag profile TARGET --type heap --gc --base ID` "
        "against the baseline artifact",
    )
