"""Fault-kind probabilities from features: the trained model, and two baselines.

The model is multinomial logistic regression over transformed features, scaled by a
temperature fitted on out-of-fold predictions of whole held-out templates, averaged with a
random forest's leaf frequencies over the same inputs. It is stored as plain JSON
(coefficients, scaling, temperature, the trees' splits and leaves): loading it runs no
code, unlike a pickle, and scoring needs only arithmetic, so scikit-learn is a
training-time tool only.
"""

from __future__ import annotations

import json
import math
from array import array
from collections.abc import Collection
from functools import lru_cache
from importlib import resources
from typing import Any

from godiag.analysis.rootcause import kinds, longterm

KINDS = kinds.IDS  # the model's classes, in catalog order
FLOOR = 0.4  # below this top probability the diagnosis says it is not sure
MIN_SCALE = 0.1  # smallest standard deviation of an input (transformed units)
CLIP = 5.0  # standardised inputs are clipped to +-CLIP
CATEGORIES = ("channel", "select", "lock", "running", "runnable", "io", "sleep", "other")
FRACTIONS = {
    "largest_group_share",
    "heap_growth_top_share",
    "gc_cpu_fraction",
    "cpu_profile_gc_share",
    "stuck_handler_share",
    "lock_waiter_share",
    "lock_wait_share",
}
FLAGS = {"top_growth_blocked", "top_growth_lock"}
BYTES = {
    "heap_inuse_bytes",
    "heap_growth_bytes_per_s",
    "alloc_bytes_per_s",
    "alloc_bytes_per_cpu_s",
}
# Reported, not model inputs: the two lock profiles enter as lock_wait_s_per_s (few
# services turn on either, so one column learns from both); the request rate measures
# load, not a fault; the history has no training data (no Prometheus in the scenarios);
# GC pause p99 and the thread count follow the machine (scheduling delays stretch
# stop-the-world pauses, blocking syscalls add threads) more than the fault, and
# with them the leave-one-program-out runs picked up spurious patterns. The heap's size
# says how big a service is, not whether it leaks (the leaking scenarios were the only
# large heaps, so a healthy service with a large heap at rest read as a leak); growth
# is what a leak shows.
SKIP = {
    # the stored baseline and the Prometheus history (longterm.FEATURES): the training
    # data has neither; they act after the model (longterm.adjust)
    *longterm.FEATURES,
    # evidence for the kinds' `unsupported` checks, not model inputs
    "client_conn_goroutines",
    "client_conn_growth",
    "fd_growth",
    "self_conn_growth",
    "peer_conn_growth",
    "lock_waiters_across",
    "lock_waiters_growth",
    "stuck_handlers_settled",
    "top_growth_count",
    "top_growth_ended_share",
    "top_growth_moved_share",
    "top_growth_from_zero",
    "lock_holder_waits",
    "dial_live_bytes",
    "heap_growth_retention",
    "heap_growth_in_flight",
    "heap_growth_in_flight_rise",
    "heap_growth_fallback",
    "heap_growth_top_bytes",
    "heap_growth_window_bytes",
    "heap_inuse_bytes",
    "largest_group_category",
    "goroutines_delta_5m",
    "mutex_wait_s_per_s",
    "block_wait_s_per_s",
    "http_requests_per_s",
    "gc_pause_p99_ms",
    "threads",
    # a healthy service's heavy path (a report, a search) concentrates its CPU profile as
    # much as a spinning loop does: as an input it made five held-out runs confidently
    # wrong (cpu-saturation at >= 0.9), without it none (docs/evaluation.md); it is
    # cpu-saturation's evidence check instead (a hot function, or "not sure")
    "cpu_hotspot_share",
    # evidence for cpu-saturation's check against the collector's share, not an input
    "cpu_code_share",
    # where the hot function runs: for cpu-saturation's doubt (a request path), not an input
    "cpu_hotspot_request_share",
    # where the allocating site allocates: for gc-pressure's doubt, not an input
    "alloc_request_share",
    # evidence for goroutine-leak's stuck-requests check, not an input
    "blocked_client_calls",
}
# Whether a lock profile is on says how a service is run, not whether it is contended
# (the scenarios that turn one on are mostly the contended ones): no flag for it. Nor for
# HTTP status counters: every scenario program exports them and few other services do, so
# their absence read as "not the scenarios' healthy programs" (an idle service of another
# framework scored memory-leak over healthy on it alone).
MISSING_FLAGS = (
    "leaked_goroutines",
    "cpu_seconds_per_s",
    "cpu_profile_gc_share",
)


def _slog(v: float) -> float:
    return math.copysign(math.log1p(abs(v)), v)


def input_names() -> list[str]:
    from godiag.analysis.rootcause.features import FEATURES

    names = [n for n in FEATURES if n not in SKIP]
    names += [f"largest_group_is_{c}" for c in CATEGORIES]
    names += [f"{n}_missing" for n in MISSING_FLAGS]
    return names


def vectorize(features: dict[str, Any]) -> tuple[list[float], list[bool]]:
    """Model inputs and, per input, whether it was missing (imputed at the mean later)."""
    from godiag.analysis.rootcause.features import FEATURES

    xs: list[float] = []
    miss: list[bool] = []
    for n in FEATURES:
        if n in SKIP:
            continue
        v = features.get(n)
        if v is None:
            xs.append(0.0)
            miss.append(True)
            continue
        v = float(v)
        if n in BYTES:
            v /= 2**20
        xs.append(v if n in FRACTIONS | FLAGS else _slog(v))
        miss.append(False)
    cat = features.get("largest_group_category")
    for c in CATEGORIES:
        xs.append(float(cat == c))
        miss.append(False)
    for n in MISSING_FLAGS:
        xs.append(float(features.get(n) is None))
        miss.append(False)
    return xs, miss


@lru_cache(maxsize=1)
def load_model() -> dict[str, Any]:
    text = resources.files("godiag.analysis.rootcause").joinpath("model.json").read_text()
    model: dict[str, Any] = json.loads(text)
    return model


def _softmax(z: list[float]) -> list[float]:
    m = max(z)
    e = [math.exp(v - m) for v in z]
    s = sum(e)
    return [v / s for v in e]


def scores(model: dict[str, Any], features: dict[str, Any]) -> list[float]:
    xs, miss = vectorize(features)
    z = [
        0.0 if m else max(-CLIP, min(CLIP, (x - mu) / max(sd, MIN_SCALE)))
        for x, m, mu, sd in zip(xs, miss, model["mean"], model["scale"], strict=True)
    ]
    logits = [
        b + sum(w * v for w, v in zip(row, z, strict=True))
        for row, b in zip(model["coef"], model["intercept"], strict=True)
    ]
    return [v / model.get("temperature", 1.0) for v in logits]


def forest_probabilities(forest: dict[str, Any], xs: list[float]) -> list[float]:
    """The forest's class probabilities for the (untransformed-by-scaling) inputs `xs`:
    the mean over its trees of the class frequencies at the leaf each tree reaches.

    A tree is a list of nodes, the root first: a split is [input, threshold, left, right]
    (inputs at or below the threshold go left, as scikit-learn's do), a leaf is a list
    holding one list, its class frequencies. Inputs are compared in single precision, as
    scikit-learn compares them: two training values one float32 step apart put a threshold
    between them that a double-precision input can fall on the other side of.
    """
    xs = list(array("f", xs))
    total: list[float] = []
    for tree in forest["trees"]:
        node = tree[0]
        while len(node) != 1:
            node = tree[node[2] if xs[node[0]] <= node[1] else node[3]]
        leaf = node[0]
        total = [a + b for a, b in zip(total, leaf, strict=True)] if total else list(leaf)
    return [v / len(forest["trees"]) for v in total]


def probabilities(model: dict[str, Any], features: dict[str, Any]) -> list[float]:
    """The model's probability per class (model["classes"] order).

    The logistic part alone extrapolates linearly: one input far from anything it was
    fitted on moves every kind. The forest reads thresholds and combinations (a high
    allocation rate with a flat heap) and stays within what it saw. On held-out templates
    their average ranked better than either (docs/evaluation.md), so a model that has a
    forest is scored as that average.
    """
    probs = _softmax(scores(model, features))
    forest = model.get("forest")
    if not forest:
        return probs
    w = float(forest["weight"])
    q = forest_probabilities(forest, vectorize(features)[0])
    return [(1 - w) * a + w * b for a, b in zip(probs, q, strict=True)]


def ruled_out(features: dict[str, Any]) -> set[str]:
    """Kinds whose own evidence was looked for and is absent: they are not ranked.

    Each kind's module says what its rule-out looks at (lock-contention without any lock
    waiter or lock wait; healthy with a goroutine waiting on a lock the whole window).
    """
    return {k.id for k in kinds.KINDS.values() if k.ruled_out and k.ruled_out(features)}


def rank(features: dict[str, Any], model: dict[str, Any] | None = None) -> list[tuple[str, float]]:
    """(kind, calibrated probability) for every kind, most likely first."""
    model = model or load_model()
    probs = probabilities(model, features)
    out = ruled_out(features)
    if out and len(out) < len(probs):
        keep = [0.0 if c in out else p for c, p in zip(model["classes"], probs, strict=True)]
        probs = [p / sum(keep) for p in keep]
    return sorted(zip(model["classes"], probs, strict=True), key=lambda kv: -kv[1])


def by_evidence(
    ranked: list[tuple[str, float]], features: dict[str, Any], evidenced: Collection[str] = ()
) -> tuple[list[tuple[str, float]], dict[str, str]]:
    """The ranking with the most probable kind whose own evidence is there first, every
    other kind after it in the model's order: (ranking, set-aside kind -> why), the set-aside
    kinds being those the model scored above the new first.

    The model learned each kind from services where its evidence was there; without it the
    kind's score is a guess, and a guess does not take the top from a kind with evidence
    (healthy included: an idle service with no growth, no CPU and no connection is not a
    leak, whatever the score). Below the top the order is the model's, so a list read top
    to bottom never shows a kind below one it outscores except beneath the first (each
    unconfirmed kind says so where it is listed). Probabilities are the model's; nothing
    moves when the model's first has its evidence. A kind a lead put first (`evidenced`,
    longterm.evidenced: unread response bodies holding connections, a site keeping what it
    allocates) has its evidence.
    """
    why = {k: w for k, _ in ranked
           if k not in evidenced and (w := kinds.unsupported(k, features)) is not None}  # fmt: skip
    kept = [kv for kv in ranked if kv[0] not in why]
    if not why or not kept or kept[0] == ranked[0]:
        return ranked, {}
    first = kept[0]
    ahead = ranked[: ranked.index(first)]
    return [first, *ahead, *ranked[len(ahead) + 1 :]], {k: why[k] for k, _ in ahead}


# A runner-up with this share of the top's probability or more, and evidence of its own, makes
# the top a contest between two readings of the same captures, not a verdict (on the
# held-out rankings: of the sure answers it withdraws, 9 were wrong and 3 right).
CONTEST = 0.7


def contested(
    ranked: list[tuple[str, float]], features: dict[str, Any]
) -> tuple[str, float] | None:
    """The runner-up (kind, probability) that contests the top, or None: the most probable
    kind after the top whose own evidence is there (`kinds.unsupported`; a guess contests
    nothing), when it is a fault kind (healthy is the absence of evidence, not a reading of
    it) scored CONTEST of the top's probability or more."""
    if len(ranked) < 2:
        return None
    p1 = ranked[0][1]
    rival = next((kv for kv in ranked[1:] if kinds.unsupported(kv[0], features) is None), None)
    if rival is None or rival[0] == "healthy" or rival[1] < CONTEST * p1:
        return None
    return rival


# "healthy" says no fault is there: a verdict only when the model gives it clearly more than
# every fault together. Its mistakes are silent (exit 0, nobody looks). Held out by template,
# a healthy top at 40-50% was wrong on 9 of 28 runs and at 50-55% on 4 of 10 (on services
# written outside the project, 3 of 7); at 55% or more on 1 of 9.
HEALTHY_FLOOR = 0.55


def shown_at(kind: str, p: float) -> str:
    """`p` as a percentage that never rounds up to the floor `kind` needs for a verdict
    when it is under it: healthy at 0.5476 is "54.7%" and a fault at 0.3955 "39.5%" ("55%"
    and "40%" would meet the floor the verdict says they missed), else "NN%". The
    verdict and the table's row print the same figure."""
    # every floor a verdict may name: the top's below FLOOR ("below the 40% floor"), and
    # healthy's own
    floors = (FLOOR, HEALTHY_FLOOR) if kind == "healthy" else (FLOOR,)
    if any(p < f and round(p * 100) >= round(f * 100) for f in floors):
        return f"{math.floor(p * 1000) / 10:.1f}%"
    return f"{p:.0%}"


def outweighed(ranked: list[tuple[str, float]]) -> tuple[float, list[tuple[str, float]]] | None:
    """When healthy ranks first below HEALTHY_FLOOR: what the faults score together, and
    the faults, most likely first. None otherwise."""
    if not ranked or ranked[0][0] != "healthy" or ranked[0][1] >= HEALTHY_FLOOR:
        return None
    faults = sorted((kv for kv in ranked[1:] if kv[0] != "healthy"), key=lambda kv: -kv[1])
    return sum(p for _, p in faults), faults


def _f(features: dict[str, Any], name: str) -> float:
    v = features.get(name)
    return 0.0 if v is None else float(v)


def rules(features: dict[str, Any]) -> list[tuple[str, float]]:
    """Hand-written thresholds, as an alerting rule book would have them (baseline)."""

    def f(name: str) -> float:
        return _f(features, name)

    fired: list[str] = []
    if f("goroutine_growth_per_min") > 600 and f("top_growth_blocked"):
        fired.append("deadlock")
    if f("fd_growth_per_min") > 120:
        fired.append("connection-leak")
    if f("top_growth_blocked") and f("top_growth_per_min") > 60:
        fired.append("goroutine-leak")
    if f("lock_waiters") >= 3 or f("mutex_wait_s_per_s") > 0.05 or f("block_wait_s_per_s") > 0.05:
        fired.append("lock-contention")
    if f("heap_growth_bytes_per_s") > 256 * 1024:
        fired.append("memory-leak")
    if f("gc_cycles_per_s") > 5 or (features.get("gogc_percent") or 100) <= 25:
        fired.append("gc-pressure")
    if f("cpu_seconds_per_s") > 0.2:
        fired.append("cpu-saturation")
    fired.append("healthy")
    return [(k, 1.0 if i == 0 else 0.0) for i, k in enumerate(fired)]


def largest_group(features: dict[str, Any]) -> list[tuple[str, float]]:
    """What a reader of the largest goroutine group alone would conclude (baseline)."""
    cat, share = features.get("largest_group_category"), _f(features, "largest_group_share")
    kind = "healthy"
    if cat in ("channel", "select") and share >= 0.2:
        kind = "goroutine-leak"
    elif cat == "lock" and share >= 0.2:
        kind = "deadlock" if share >= 0.5 else "lock-contention"
    elif cat in ("running", "runnable"):
        kind = "cpu-saturation"
    return [(kind, 1.0)]
