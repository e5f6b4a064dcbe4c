"""gc-pressure: the garbage collector running too often or eating too much CPU.

Counters come from /metrics (runtime/metrics names as client_golang exports them:
go_gc_cycles_total_gc_cycles_total, go_cpu_classes_gc_total_cpu_seconds_total,
go_cpu_classes_total_cpu_seconds_total; or go_gc_duration_seconds_count) or from
/debug/vars memstats (NumGC, GCCPUFraction). The current rate is measured between two
snapshots taken now; the stored baseline snapshot gives the reference rate over the
period before. Violated when GC takes at least `max_cpu_fraction` of the CPU (default
10 %), or runs at least `ratio` times as often as in the reference period while taking
at least 5 % of the CPU and running at least once per second.
"""

from __future__ import annotations

from typing import Any

from godiag.analysis.rules import Verdict
from godiag.errors import CollectError
from godiag.formats.prometheus import MetricFamily

PROFILE_TYPE = "metrics"

Snapshot = dict[str, float]  # gc_cycles, gc_cpu_s, cpu_s, lifetime_gc_fraction; t (seconds)


def _value(fams: dict[str, MetricFamily], *names: str) -> float | None:
    """The first of `names` exposed: a sample of that exact name in its family (a counter's
    family may be named without `_total`; a summary's `_count` lives in the family without
    it, as client_golang's go_gc_duration_seconds_count does), else a counter's or gauge's
    one sample."""
    for name in names:
        bases = (name, name.removesuffix("_total"), name.removesuffix("_count"))
        for fam in (f for b in dict.fromkeys(bases) if (f := fams.get(b)) is not None):
            for s in fam.samples:
                if s.name in (name, name.removesuffix("_total") + "_count"):
                    return s.value
            if name in (fam.name, fam.name + "_total") and fam.samples and fam.type in (
                "counter", "gauge", "untyped"
            ):  # fmt: skip
                return fam.samples[0].value
    return None


def from_metrics(fams: dict[str, MetricFamily], t: float) -> Snapshot:
    snap: Snapshot = {"t": t}
    cycles = _value(fams, "go_gc_cycles_total_gc_cycles_total", "go_gc_duration_seconds_count")
    gc_cpu = _value(fams, "go_cpu_classes_gc_total_cpu_seconds_total")
    cpu = _value(fams, "go_cpu_classes_total_cpu_seconds_total")
    for key, v in (("gc_cycles", cycles), ("gc_cpu_s", gc_cpu), ("cpu_s", cpu)):
        if v is not None:
            snap[key] = v
    return snap


def from_expvar(memstats: dict[str, float], t: float) -> Snapshot:
    snap: Snapshot = {"t": t}
    if "NumGC" in memstats:
        snap["gc_cycles"] = memstats["NumGC"]
    if "GCCPUFraction" in memstats:
        snap["lifetime_gc_fraction"] = memstats["GCCPUFraction"]
    return snap


def _rates(a: Snapshot, b: Snapshot) -> dict[str, float]:
    dt = b["t"] - a["t"]
    out: dict[str, float] = {"seconds": round(dt, 3)}
    if dt <= 0:
        return out
    if "gc_cycles" in a and "gc_cycles" in b:
        out["gc_cycles_per_s"] = round((b["gc_cycles"] - a["gc_cycles"]) / dt, 4)
    if all(k in a and k in b for k in ("gc_cpu_s", "cpu_s")) and b["cpu_s"] > a["cpu_s"]:
        frac = (b["gc_cpu_s"] - a["gc_cpu_s"]) / (b["cpu_s"] - a["cpu_s"])
        out["gc_cpu_fraction"] = round(frac, 4)
    elif "lifetime_gc_fraction" in b:
        out["gc_cpu_fraction"] = round(b["lifetime_gc_fraction"], 4)  # since process start
    return out


def evaluate(
    reference: Snapshot | None,
    first: Snapshot,
    second: Snapshot,
    *,
    max_cpu_fraction: float = 0.10,
    ratio: float = 2.0,
) -> Verdict:
    now = _rates(first, second)
    ref = _rates(reference, first) if reference is not None else None
    measurements: dict[str, Any] = {"now": now, "reference": ref}
    thresholds = {"max_cpu_fraction": max_cpu_fraction, "ratio": ratio}
    if "gc_cycles_per_s" not in now:
        # nothing measured is no answer: the caller says so and exits 2, never "ok"
        raise CollectError(
            "the service exposes no GC counters: neither /metrics (go_gc_duration_seconds, "
            "or client_golang's runtime/metrics go_gc_cycles_total_gc_cycles_total) nor "
            "/debug/vars memstats (NumGC)"
        )
    cps, frac = now["gc_cycles_per_s"], now.get("gc_cpu_fraction")
    reasons = []
    if frac is not None and frac >= max_cpu_fraction:
        reasons.append(f"GC used {frac:.0%} of the CPU (limit {max_cpu_fraction:.0%})")
    ref_cps = (ref or {}).get("gc_cycles_per_s")
    if (ref_cps is not None and cps >= 1.0 and frac is not None and frac >= 0.05
            and cps >= ratio * max(ref_cps, 1e-9)):  # fmt: skip
        reasons.append(f"{cps:g} GC cycles/s against {ref_cps:g}/s in the reference period")
    # without the collector's CPU share (go_gc_duration_seconds alone), the rate is
    # reported and the CPU limit is not judged: not "0%"
    share = (
        f"GC CPU {frac:.1%}"
        if frac is not None
        else "GC CPU share not exposed (client_golang's runtime/metrics collector "
        "go_cpu_classes_gc_total_cpu_seconds_total or expvar's GCCPUFraction gives it)"
    )
    summary = "; ".join(reasons) or f"{cps:g} GC cycles/s, {share} over {now['seconds']:g}s"
    findings = []
    if reasons:
        from godiag.model.findings import Evidence, Finding, Severity

        findings.append(Finding(
            id="gc-pressure", severity=Severity.WARNING, title=summary,
            detail="the collector runs so often that it takes CPU from the program: "
            "allocation rate is high for the heap size GOGC allows",
            evidence=(Evidence(command="GC counters now", output=str(now)),)
            + ((Evidence(command="GC counters reference", output=str(ref)),) if ref else ()),
            fix="allocate less in hot paths (reuse buffers, sync.Pool), or raise GOGC / set "
            "GOMEMLIMIT so the heap may grow before collecting",
        ))  # fmt: skip
    return Verdict("gc-pressure", bool(reasons), summary, measurements, [], findings, thresholds)
