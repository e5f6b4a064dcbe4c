"""The diagnosis a `godiag serve` job runs, behind the `Diagnoser` seam of jobs.py.

Every diagnoser returns the same envelope (what pages, the API and notifications read):
`{"kind", "document", "causes": [{rank, kind, title, location, evidence}], "artifacts",
"target", "started_at", "duration_s"}` where `document` is a godiag.*/v1 document that
the reporters can render to HTML.

Jobs run the full ranked diagnosis (`godiag.pipeline.diagnose`), with every artifact
stored under the incident. `goroutine_diagnoser` (two dumps a window apart, diffed) is a
lighter diagnoser that can be injected instead (`create_app(config, diagnoser)`).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from godiag.config import Config, Target
from godiag.limits import (
    CAPTURE_MB,
    CAPTURE_SECONDS,
    DEADLINE_SLACK_SECONDS,
    MB,
    Budget,
)
from godiag.pipeline.jobs import Diagnoser
from godiag.pipeline.queue import Incident
from godiag.words import many

LEAK_KINDS = {
    "leak": "goroutine-leak",
    "growth": "goroutine-leak",
    "leaked": "goroutine-leak",
    "deadlock": "deadlock",
    "stuck": "deadlock",  # a lock or a send that never completes
}


def goroutine_causes(doc: dict[str, Any], limit: int = 3) -> list[dict[str, Any]]:
    """Suspects of a goroutine diff as ranked causes: growing groups first."""
    groups = doc.get("groups", [])
    ranked = sorted(
        doc.get("suspects", []),
        key=lambda s: (-groups[s["group"]].get("growth", 0), -groups[s["group"]]["count"]),
    )
    out: list[dict[str, Any]] = []
    seen: set[int] = set()
    for s in ranked:
        if s["group"] in seen:
            continue
        seen.add(s["group"])
        g = groups[s["group"]]
        out.append(
            {
                "rank": len(out) + 1,
                "kind": LEAK_KINDS.get(s["kind"], "goroutine-leak"),
                "title": s["reason"],
                "location": g.get("user_frame"),
                "evidence": [
                    f"{many(g['count'], 'goroutine')} in state {g['state'] or g['category']}"
                    + (f", +{g['growth']} during the window" if g.get("growth") else "")
                ],
            }
        )
        if len(out) == limit:
            break
    return out


def goroutine_diagnoser(config: Config) -> Diagnoser:
    def run(target: Target, options: dict[str, Any], incident: Incident) -> dict[str, Any]:
        from godiag.analysis.goroutines import diff
        from godiag.collect.goroutines import fetch
        from godiag.formats.goroutines import parse
        from godiag.pipeline.storing import target_client, target_meta
        from godiag.store import store_outcome

        timeout = float(options.get("timeout_seconds", CAPTURE_SECONDS))
        window = float(options.get("window_seconds", 3))
        started = datetime.now(UTC)
        t0 = time.monotonic()
        limit = float(options.get("deadline_seconds", window + DEADLINE_SLACK_SECONDS))
        budget = Budget(int(options.get("max_capture_mb", CAPTURE_MB)) * MB, t0 + limit)
        client = target_client(target, budget)
        first = fetch(target.url, client=client, timeout=timeout)
        time.sleep(max(0.0, window - (time.monotonic() - t0)))
        second = fetch(target.url, client=client, timeout=timeout)
        doc = diff(
            parse(first.data, first.source, strict=False),
            parse(second.data, second.source, strict=False),
            target.url,
        )
        over = target_meta(target)
        artifacts = [
            store_outcome(c, over, config, incident_id=incident.id) for c in (first, second)
        ]
        return {
            "kind": "goroutines",
            "document": doc,
            "causes": goroutine_causes(doc),
            "artifacts": artifacts,
            "target": {"name": target.name, "url": target.url},
            "started_at": started.isoformat(),
            "duration_s": round(time.monotonic() - t0, 3),
        }

    return run


def diagnosis_diagnoser(config: Config) -> Diagnoser:
    """Ranked root causes: the same diagnosis as `godiag diagnose TARGET`."""

    def run(target: Target, options: dict[str, Any], incident: Incident) -> dict[str, Any]:
        from godiag.pipeline.diagnose import DiagnoseOptions, diagnose

        deadline = options.get("deadline_seconds")
        opts = DiagnoseOptions(
            window=float(options.get("window_seconds", 5)),
            timeout=float(options.get("timeout_seconds", CAPTURE_SECONDS)),
            max_capture_mb=int(options.get("max_capture_mb", CAPTURE_MB)),
            deadline=None if deadline is None else float(deadline),
            store=True,
            config=config,
            incident_id=incident.id,
        )
        started = datetime.now(UTC)
        t0 = time.monotonic()
        if target.url.startswith("k8s://"):  # an alert about a pod ([kubernetes])
            from godiag.pipeline.kubetargets import alert_pod
            from godiag.pipeline.pods import diagnose_pod

            ep, res = alert_pod(target.url, config.kubernetes)
            doc = diagnose_pod(ep, opts, resolver=res)
        else:
            doc = diagnose(target, opts)
        causes = [
            {k: c.get(k) for k in ("rank", "kind", "probability", "title", "location", "evidence")}
            for c in doc.get("causes", [])
        ]
        return {
            "kind": "diagnosis",
            "document": doc,
            "causes": causes,
            "artifacts": [{**a, "stored": True} for a in doc.get("artifacts", [])],
            "target": {"name": target.name, "url": target.url},
            "started_at": started.isoformat(),
            "duration_s": round(time.monotonic() - t0, 3),
        }

    return run


def default_diagnoser(config: Config) -> Diagnoser:
    return diagnosis_diagnoser(config)
