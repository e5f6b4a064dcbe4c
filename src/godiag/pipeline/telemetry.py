"""`/metrics` of godiag serve itself (prometheus_client, one registry per Service so tests
can run several services in one process)."""

from __future__ import annotations

from typing import Any


class Telemetry:
    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        self.alerts = Counter(
            "godiag_serve_alerts_total",
            "Alerts received, by outcome (accepted, duplicate, malformed, too-large).",
            ["outcome"],
            registry=self.registry,
        )
        self.jobs = Counter(
            "godiag_serve_jobs_total",
            "Diagnosis jobs finished by this process, by result (done, failed).",
            ["result"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "godiag_serve_job_duration_seconds",
            "Wall time of diagnosis jobs, observation window included.",
            buckets=(0.5, 1, 2, 3, 5, 8, 10, 15, 30, 60, 120),
            registry=self.registry,
        )
        self.queue = Gauge(
            "godiag_serve_incidents",
            "Incidents in the shared queue, by job state.",
            ["state"],
            registry=self.registry,
        )

    def received(self, outcome: str, n: int = 1, duplicates: int = 0) -> None:
        if n:
            self.alerts.labels(outcome).inc(n)
        if duplicates:
            self.alerts.labels("duplicate").inc(duplicates)

    def job_finished(self, ok: bool, seconds: float) -> None:
        self.jobs.labels("done" if ok else "failed").inc()
        self.duration.observe(seconds)

    def exposition(self, counts: dict[str, int]) -> tuple[Any, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        for state in ("queued", "running", "done", "failed", "skipped"):
            self.queue.labels(state).set(counts.get(state, 0))
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
