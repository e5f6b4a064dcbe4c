"""`godiag check`: capture now, fetch (or take) the earlier capture, run the rule.

The earlier side is a stored baseline (`--baseline ID|TIMESTAMP|latest`, resolved for
the target's service name and the rule's artifact type) or, without one, a first
capture taken `window` seconds before the second. Elapsed time always comes from the
captures' own timestamps, so a baseline stored hours ago normalises correctly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

from godiag.collect.http import HttpClient
from godiag.collect.kube.pods import KubeOptions
from godiag.errors import CollectError, StoreError, UsageError
from godiag.model.capture import Capture, CaptureMeta

# How to take a baseline a rule can use later, said when none is stored.
HOW_TO_STORE = {
    "heap": "godiag profile TARGET --type heap --gc --store --as-baseline",
    "goroutine": "godiag goroutines URL --store --as-baseline",
    "mutex": "godiag profile TARGET --type mutex --store --as-baseline",
    "metrics": "godiag check --rule gc-pressure TARGET --store --as-baseline",
}


@dataclass(frozen=True)
class CheckRequest:
    rule: str
    target: str
    baseline: str | None = None
    window_s: float = 10.0
    config_path: str | None = None
    user: CaptureMeta | None = None
    store: bool = False
    as_baseline: bool = False
    timeout: float = 30.0
    kube: KubeOptions | None = None  # for k8s:// targets
    metrics: str | None = None  # --metrics: where the GC counters are, when not under target


def capture(
    kind: str, client: HttpClient, url: str, meta: CaptureMeta, timeout: float,
    metrics: tuple[str, HttpClient] | None = None,
) -> Capture:  # fmt: skip
    """One snapshot of what a rule compares (heap with gc=1: in-use figures are current).
    `metrics`: the target's metrics URL and its client, read instead of /metrics and
    /debug/vars under `url`."""
    from godiag.collect.pprof import (
        collect_metrics,
        collect_metrics_at,
        collect_profile,
        collect_vars,
    )

    if kind == "goroutine":
        from godiag.collect.goroutines import fetch_url

        cap = fetch_url(url, client=client, timeout=timeout)
        return replace(cap, meta=cap.meta.merged(meta))
    if kind == "metrics" and metrics is not None:
        return replace(collect_metrics_at(metrics[1], metrics[0], timeout), meta=meta)
    if kind == "metrics":
        try:
            cap = collect_metrics(client, url, timeout)
        except CollectError:
            cap = replace(collect_vars(client, url, timeout), profile_type="expvar")
        return replace(cap, meta=meta)
    return collect_profile(client, url, kind, gc=kind == "heap", timeout=timeout, meta=meta)


def decode(cap: Capture) -> Any:
    if cap.profile_type == "goroutine":
        from godiag.formats.goroutines import parse

        return parse(cap.data, cap.source)
    if cap.profile_type in ("metrics", "expvar"):
        from godiag.analysis.rules.gc_pressure import from_expvar, from_metrics

        t = cap.captured_at.timestamp()
        if cap.profile_type == "expvar" or cap.data.lstrip()[:1] == b"{":
            from godiag.formats import expvar

            return from_expvar(expvar.memstats(expvar.parse(cap.data, cap.source)), t)
        from godiag.formats import prometheus

        return from_metrics(prometheus.parse(cap.data, cap.source), t)
    from godiag.formats.pprof import decode as decode_pprof

    return decode_pprof(cap.data, cap.source)


def stored_baseline(req: CheckRequest, conf: Any, service: str, kind: str) -> Capture:
    from godiag.store import open_store

    assert req.baseline is not None
    # GC counters are stored as `metrics` (/metrics) or `expvar` (/debug/vars).
    kinds = [kind, "expvar"] if kind == "metrics" else [kind]
    try:
        with open_store(conf) as st:
            for i, k in enumerate(kinds):
                try:
                    art = st.resolve_baseline(req.baseline, service, k)
                    break
                except StoreError:
                    if i == len(kinds) - 1:
                        raise
            data = st.read(art.id)
    except StoreError as exc:
        raise UsageError(
            f"no usable baseline for --rule {req.rule}: {exc}. Store one first: "
            f"{HOW_TO_STORE.get(kind, '--store --as-baseline')}, or leave out --baseline to "
            "compare two captures taken --window apart"
        ) from None
    m = art.meta
    meta = CaptureMeta(m.service_name, m.go_version, m.build_commit, dict(m.tags), m.host)
    return Capture(data, f"store:{art.id}", m.profile_type, m.captured_at, None, meta)


def _side(cap: Capture, stored: dict[str, Any] | None = None) -> dict[str, Any]:
    from godiag.store.metadata import format_time

    art = cap.source.removeprefix("store:") if cap.source.startswith("store:") else None
    return {
        "source": cap.source,
        "artifact": art or (stored or {}).get("id"),
        "captured_at": format_time(cap.captured_at),
        "profile_type": cap.profile_type,
    }


def run_check(req: CheckRequest) -> dict[str, Any]:
    from godiag.analysis.rules import rule_module
    from godiag.pipeline.profiles import resolve_service
    from godiag.pipeline.storing import keep, load_config, service_metadata

    mod = rule_module(req.rule)
    kind: str = mod.PROFILE_TYPE
    conf = load_config(req.config_path)
    svc = resolve_service(req.target, req.config_path, req.kube, metrics=req.metrics)
    if req.metrics is not None and kind != "metrics":
        raise UsageError(f"--metrics: only for --rule gc-pressure ({req.rule} reads profiles)")
    meta = service_metadata(svc.url, client=svc.client, configured=svc.meta, user=req.user)
    assert meta.service_name is not None

    def take() -> Capture:
        return capture(kind, svc.client, svc.url, meta, req.timeout, svc.metrics)

    taken: list[Capture] = []
    reference = stored_baseline(req, conf, meta.service_name, kind) if req.baseline else None
    if reference is None or kind == "metrics":  # gc-pressure always measures a window now
        taken.append(take())
        time.sleep(req.window_s)
    taken.append(take())
    before = reference if kind != "metrics" and reference is not None else taken[0]
    after = taken[-1]
    elapsed = (after.captured_at - before.captured_at).total_seconds()
    if elapsed <= 0:
        raise UsageError(f"baseline {before.source} was captured after now: check the clocks")
    if kind == "metrics":
        ref = decode(reference) if reference is not None else None
        verdict = mod.evaluate(ref, decode(taken[0]), decode(taken[1]))
    else:
        labels = (_label(before), _label(after))
        verdict = mod.evaluate(decode(before), decode(after), elapsed, labels=labels)
    stored = (
        keep(taken, conf, enabled=True, baseline=req.as_baseline)
        if req.store or req.as_baseline
        else None
    )
    doc: dict[str, Any] = {
        "schema": "godiag.check/v1",
        "rule": req.rule,
        "target": {"url": svc.url, "service_name": meta.service_name},
        "baseline": {
            "ref": req.baseline,
            **_side(reference if reference is not None else before, _first(stored)),
        },
        "current": _side(after, stored[-1] if stored else None),
        "elapsed_s": round(elapsed, 3),
        **{k: v for k, v in verdict.to_json().items() if k != "rule"},
        "verdict": "violated" if verdict.violated else "ok",
    }
    if stored is not None:
        doc["stored"] = stored
    return doc


def _first(stored: list[dict[str, Any]] | None) -> dict[str, Any] | None:
    return stored[0] if stored and len(stored) > 1 else None


def _label(cap: Capture) -> str:
    if cap.source.startswith("store:"):
        return f"baseline {cap.source.removeprefix('store:')[:12]}"
    return f"at {cap.captured_at.strftime('%H:%M:%S')}"
