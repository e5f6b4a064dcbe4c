"""Outgoing notifications when a diagnosis finishes: a JSON webhook and Slack-compatible JSON.

Labels and annotations are alert data and may carry secrets (a DSN in a description, a
token label): everything sent out goes through `redact_labels` / `redact_text` first.
Delivery is best effort with a short timeout: a dead receiver never blocks the queue.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from typing import Any

from godiag.pipeline.queue import Incident
from godiag.store.metadata import REDACTED, SECRET_WORDS
from godiag.toolchain.envsnapshot import redact_text

log = logging.getLogger("godiag.serve")


SHOWN_CHARS = 2048  # longer values are cut for display


def _shown(text: str) -> str:
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + f"... [{len(text)} chars]"


def redact_labels(labels: dict[str, str]) -> dict[str, str]:
    """Secret-named keys lose their value; every other value has credentials cut out."""
    return {
        _shown(k): REDACTED if SECRET_WORDS.search(k[:256]) else redact_text(_shown(v))
        for k, v in labels.items()
    }


def report_link(public_url: str | None, iid: str) -> str | None:
    return f"{public_url.rstrip('/')}/incidents/{iid}" if public_url else None


def message(
    inc: Incident, report: dict[str, Any] | None, error: str | None, public_url: str | None
) -> dict[str, Any]:
    causes = (report or {}).get("causes", [])[:3]
    return {
        "schema": "godiag.serve-notification/v1",
        "incident": inc.id,
        "alertname": inc.alertname,
        "target": inc.target,
        "labels": redact_labels(inc.labels),
        "annotations": redact_labels(inc.annotations),
        "state": "done" if report is not None else "failed",
        "error": redact_text(_shown(error)) if error else None,
        "causes": [
            {"rank": c["rank"], "kind": c["kind"], "title": redact_text(c["title"])} for c in causes
        ],
        "report_url": report_link(public_url, inc.id),
    }


def slack(msg: dict[str, Any]) -> dict[str, Any]:
    """Slack incoming-webhook JSON: `text` plus mrkdwn blocks."""
    head = f"godiag: {msg['alertname']} on {msg['target']}"
    lines = [f"{c['rank']}. *{c['kind']}*: {c['title']}" for c in msg["causes"]]
    if msg["error"]:
        lines.append(f"diagnosis failed: {msg['error']}")
    if not lines:
        lines.append("no cause found")
    if msg["report_url"]:
        lines.append(f"<{msg['report_url']}|report>")
    body = "\n".join(lines)
    return {
        "text": f"{head}\n{body}",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": head[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": body[:3000]}},
        ],
    }


def post(url: str, payload: dict[str, Any], timeout: float = 5.0) -> bool:
    req = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "godiag"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return 200 <= int(resp.status) < 300
    except (OSError, ValueError) as exc:
        log.warning("notification to %s failed: %s", redact_text(url), exc)
        return False
