"""goroutine-leak: groups of blocked goroutines that keep growing between two dumps.

Groups are matched by stack signature through the goroutine diff (analysis/goroutines).
A group violates the rule when it grew by at least `min_growth` goroutines *and* by at
least `min_relative` of its earlier size, while waiting (running or runnable goroutines
growing with load are not a leak). Normalising by time is reported (per minute) so a
slow leak and a fast one read the same way across different baseline ages.
"""

from __future__ import annotations

from typing import Any

from godiag.analysis.goroutines import diff
from godiag.analysis.rules import Verdict, per_minute
from godiag.model.findings import Evidence, Finding, Location, Severity
from godiag.model.goroutine import Dump
from godiag.words import many

PROFILE_TYPE = "goroutine"
BUSY = {"running", "runnable"}


def _site(group: dict[str, Any]) -> dict[str, Any]:
    uf = group.get("user_frame") or (group["frames"][0] if group["frames"] else None)
    if uf is None:
        return {"function": "?", "file": None, "line": None}
    return {"function": uf["function"], "file": uf["file"] or None, "line": uf["line"] or None}


def evaluate(
    before: Dump,
    after: Dump,
    elapsed_s: float,
    *,
    labels: tuple[str, str] = ("baseline", "now"),
    min_growth: int = 10,
    min_relative: float = 0.5,
) -> Verdict:
    doc = diff(before, after, labels[1])
    sites: list[dict[str, Any]] = []
    for g in doc["groups"][:10]:
        grew = int(g["growth"])
        bad = (
            grew >= min_growth and grew >= min_relative * g["before"] and g["category"] not in BUSY
        )
        cb = g.get("created_by")
        sites.append({
            **_site(g), "state": g["state"], "category": g["category"],
            "before": g["before"], "after": g["count"], "growth": grew,
            "per_minute": round(per_minute(grew, elapsed_s), 1), "violates": bad,
            "created_by": None if cb is None else f"{cb['function']} ({cb['file']}:{cb['line']})",
        })  # fmt: skip
    measurements = {
        "unit": "goroutines",
        "elapsed_s": round(elapsed_s, 3),
        "total_before": before.total,
        "total_after": after.total,
        "growth": after.total - before.total,
        "per_minute": round(per_minute(after.total - before.total, elapsed_s), 1),
    }
    thresholds = {"min_growth": min_growth, "min_relative": min_relative}
    leaking = [s for s in sites if s["violates"]]
    if not leaking:
        return Verdict(
            "goroutine-leak", False,
            f"no waiting goroutine group grew by {min_growth}+ in {elapsed_s:.0f}s "
            f"({before.total} -> {many(after.total, 'goroutine')})",
            measurements, sites, [], thresholds,
        )  # fmt: skip
    head = leaking[0]
    summary = (
        f"{head['growth']} more goroutines blocked in {head['state']} at {head['function']} "
        f"({head['file']}:{head['line']}) in {elapsed_s:.0f}s ({head['per_minute']}/min)"
    )
    findings = [_finding(s, elapsed_s, labels) for s in leaking]
    return Verdict("goroutine-leak", True, summary, measurements, sites, findings, thresholds)


def _finding(s: dict[str, Any], elapsed_s: float, labels: tuple[str, str]) -> Finding:
    return Finding(
        id="goroutine-leak",
        severity=Severity.ERROR,
        title=f"goroutines blocked in {s['state']} at {s['function']} keep accumulating",
        detail=(
            f"{s['before']} ({labels[0]}) -> {s['after']} ({labels[1]}) goroutines with this "
            f"stack in {elapsed_s:.0f}s, all waiting ({s['category']}); created by "
            f"{s['created_by'] or 'unknown'}. Goroutines that wait forever are never freed."
        ),
        evidence=(
            Evidence(
                command=f"goroutine dump {labels[0]} -> {labels[1]}",
                output=f"{s['before']} -> {s['after']} (+{s['growth']}, {s['per_minute']}/min)",
                file=s["file"],
                line=s["line"],
            ),
        ),
        location=Location(s["file"], s["line"]) if s["file"] else None,
        fix="give the blocked operation a way out: a buffered channel, a select on ctx.Done() "
        "or a timeout, or make sure the other side always receives/sends",
    )
