"""`godiag watch`: Prometheus-free alerting. Scrape each configured target's /metrics (its
`metrics_url` when set), evaluate `[[serve.watch.rules]]` locally (a threshold `above`, or
a `rise` over `over_seconds`), and enqueue the same jobs an Alertmanager alert would,
through the same `accept()`. A fired rule stays quiet for `cooldown_seconds` per target
(holmes-style), so a service stuck above a threshold is diagnosed once per cooldown, not
every scrape.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

from godiag.config import Config, Target
from godiag.errors import GodiagError, ParseError
from godiag.formats.alertmanager import Alert, Notification
from godiag.pipeline.jobs import accept
from godiag.pipeline.queue import Queue
from godiag.pipeline.settings import ServeSettings, WatchRule

log = logging.getLogger("godiag.watch")
_SAMPLE = re.compile(
    r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+([-+]?(?:[0-9.eE+-]+|NaN|Inf|[+-]Inf))(?:\s+-?\d+)?"
)
MAX_LINES = 200_000


def samples(text: str, source: str) -> dict[str, float]:
    """`name{labels}` -> value of a Prometheus text exposition (the unlabelled first wins)."""
    out: dict[str, float] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if n > MAX_LINES:
            raise ParseError(source, f"more than {MAX_LINES} lines", line=n)
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.fullmatch(line)
        if not m:
            raise ParseError(source, f"not a sample line: {line[:60]!r}", line=n)
        try:
            value = float(m.group(3))
        except ValueError:
            raise ParseError(source, f"bad value {m.group(3)[:30]!r}", line=n) from None
        out.setdefault(m.group(1) + (m.group(2) or ""), value)
    return out


@dataclass
class RuleState:
    history: deque[tuple[float, float]] = field(default_factory=deque)
    quiet_until: float = 0.0


def evaluate(rule: WatchRule, state: RuleState, now: float, value: float) -> bool:
    """Record `value`; True when the rule fires now (and start its cooldown)."""
    state.history.append((now, value))
    while state.history and state.history[0][0] < now - rule.over_seconds:
        state.history.popleft()
    if now < state.quiet_until or math.isnan(value):
        return False
    if rule.above is not None:
        fired = value > rule.above
    else:
        assert rule.rise is not None
        fired = value - min(v for _, v in state.history) > rule.rise
    if fired:
        state.quiet_until = now + rule.cooldown_seconds
    return fired


def alert_for(rule: WatchRule, target: Target, value: float) -> Alert:
    labels = {"alertname": rule.alertname, "service": target.name, **rule.labels}
    fp = hashlib.sha256(f"{rule.alertname}|{target.name}".encode()).hexdigest()[:16]
    return Alert(
        status="firing",
        labels=labels,
        annotations={"summary": f"{rule.metric} = {value:g} (godiag watch)"},
        starts_at=datetime.now(UTC),
        ends_at=None,
        generator_url="",
        fingerprint=fp,
    )


def _scrape(t: Target) -> dict[str, float]:
    """The target's /metrics (Prometheus text), or its metrics URL when it has one (the
    target's credentials only on its own origin: storing.metrics_client), where an expvar
    document gives the names expvar's samples take in a diagnosis
    (go_memstats_heap_inuse_bytes, go_gc_cycles_total)."""
    from godiag.collect.http import endpoint_url, shown_url
    from godiag.collect.pprof import collect_metrics_at
    from godiag.formats import expvar
    from godiag.formats.observation import expvar_sample
    from godiag.pipeline.storing import metrics_client, target_client

    client = target_client(t)
    if t.metrics_url is None:
        url = endpoint_url(t.url, "/metrics")
        body = client.get(url, timeout=5).body
        return samples(body.decode("utf-8", "replace"), shown_url(url))
    cap = collect_metrics_at(metrics_client(t, client), t.metrics_url, timeout=5)
    if cap.profile_type == "expvar":
        return expvar_sample(0.0, expvar.parse(cap.data, cap.source)).values
    return samples(cap.data.decode("utf-8", "replace"), cap.source)


def scrape_once(
    config: Config, settings: ServeSettings, queue: Queue, states: dict[tuple[str, str], RuleState]
) -> int:
    """One pass over every target; returns how many jobs it queued."""
    queued = 0
    for t in config.targets:
        try:
            values = _scrape(t)
        except GodiagError as exc:
            log.warning("%s: %s", t.name, exc)
            continue
        now = time.monotonic()
        for rule in settings.watch_rules:
            value = values.get(rule.metric)
            if value is None:
                continue
            st = states.setdefault((rule.alertname, t.name), RuleState())
            if evaluate(rule, st, now, value):
                note = Notification(
                    version="4",
                    group_key="godiag-watch",
                    status="firing",
                    receiver="godiag-watch",
                    alerts=(alert_for(rule, t, value),),
                )
                queued += len(accept(queue, note, config, settings).new)
    return queued
