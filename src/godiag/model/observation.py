"""What a diagnosis observed of a service, raw and decoded.

`Recording` is the raw side: every capture of the window with its role ("heap@start",
"metrics#3", ...) and when it was asked for, plus the facts that are not captures (what
could not be read and why, the Prometheus history, the window's length). A live service
and a saved bundle both give a Recording (collect/sources.py); `formats/observation.py`
decodes one into an `Observation`, the decoded side that analysis/rootcause reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from godiag.model.capture import Capture, CaptureMeta
from godiag.model.goroutine import Dump
from godiag.model.profile import Profile


@dataclass
class MetricSample:
    at: float  # seconds since the observation started
    values: dict[str, float]  # sample name -> value, series of one name summed
    http_5xx: float | None = None  # requests answered 5xx so far (None: no request metric)
    gc_pause_quantiles: dict[float, float] = field(default_factory=dict)  # seconds
    post_gc: bool = False  # taken right after a forced GC: heap values are live data


@dataclass
class Observation:
    url: str
    started: float = 0.0
    duration: float = 0.0
    metrics_source: str | None = None  # "metrics", "expvar" or None
    samples: list[MetricSample] = field(default_factory=list)
    vars_first: dict[str, Any] | None = None
    vars_last: dict[str, Any] | None = None
    # the last MemStats of a debug=1 heap profile (memstats#N), for a service without expvar
    memstats_last: dict[str, Any] | None = None
    dumps: list[Dump] = field(default_factory=list)  # [start, end]
    leak: Profile | None = None
    heap: list[Profile] = field(default_factory=list)  # absolute snapshots after a GC
    # heap profiles with the window's inner metrics samples, no forced GC (each as of the
    # service's own last GC): how a growing site moved between the two ends
    heap_mid: list[Profile] = field(default_factory=list)
    mutex: list[Profile] = field(default_factory=list)
    block: list[Profile] = field(default_factory=list)
    cpu: Profile | None = None
    cpu_seconds: float = 0.0
    # go_goroutines before the window, from the Prometheus named in the configuration:
    # (seconds relative to the observation's start, value)
    history: list[tuple[float, float]] = field(default_factory=list)
    # the target's series in that Prometheus over the lookback (collect/promapi.py
    # HISTORY_QUERIES: go_goroutines, heap_live_bytes, ...), times as in `history`
    trends: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    lookback: float = 0.0  # seconds of history asked for (0: none)
    # the stored reference of the service (newest baseline, else oldest capture within the
    # lookback): a heap profile and a goroutine dump taken `baseline_age` seconds before
    # the observation started (`baseline_ages`: "heap"/"goroutine" -> seconds);
    # `baseline_sources` names them ("store:ID")
    baseline_heap: Profile | None = None
    baseline_dump: Dump | None = None
    baseline_ages: dict[str, float] = field(default_factory=dict)
    baseline_sources: list[str] = field(default_factory=list)
    build_path: str | None = None
    captures: list[Capture] = field(default_factory=list)  # the ones a diagnosis stores
    missing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # captures that went over a budget: {"capture", "budget" (bytes|time|deadline|memory),
    # "why"}; each is also one sentence in `missing`
    budget_hits: list[dict[str, str]] = field(default_factory=list)

    def note_missing(self, what: str) -> None:
        if what not in self.missing:
            self.missing.append(what)


@dataclass(frozen=True)
class Recorded:
    """One capture of an observation: which role it plays and when it was asked for."""

    role: str  # "heap@start", "goroutine@end", "metrics#3", "gcount#1", "vars@start", "cpu"
    # ("heap@baseline", "goroutine@baseline": the stored reference, at < 0, not stored again)
    at: float  # seconds since the observation started
    capture: Capture
    stored: bool = True  # one of the diagnosis's artifacts (samples in between are not)
    after_gc: bool = False  # a metrics sample read right after a heap snapshot's forced GC


@dataclass
class Recording:
    """Everything a diagnosis needs from the service, before any decoding."""

    url: str  # as shown (no credentials)
    metrics_url: str | None = None  # the target's metrics URL when set, as shown
    duration: float = 0.0
    cpu_seconds: float = 0.0
    metrics_source: str | None = None  # which metrics endpoint answered ("none": neither)
    history: list[tuple[float, float]] = field(default_factory=list)
    trends: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    lookback: float = 0.0
    captures: list[Recorded] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    budget_hits: list[dict[str, str]] = field(default_factory=list)
    # the diagnosis around the window: what a replay reports as it was recorded
    window: float = 0.0
    started_at: str = ""  # ISO 8601 UTC, when the diagnosis began
    diagnosis_s: float = 0.0  # wall time of the whole diagnosis
    limits: dict[str, float] = field(default_factory=dict)  # capture_mb, capture_s, deadline_s
    host_busy: float | None = None  # this machine's busy CPUs over the window (loopback only)
    cpu_count: int | None = None  # this machine's CPUs
    meta: CaptureMeta = field(default_factory=CaptureMeta)  # what the service says it is
    # the godiag that recorded a saved bundle (provenance.tool()); None: a live recording,
    # or a bundle written before the manifest named its godiag
    tool: dict[str, str] | None = None

    def note_missing(self, what: str) -> None:
        if what not in self.missing:
            self.missing.append(what)
