"""The GoDiagnosis resource (deploy/crds/godiagnoses.godiag.dev.yaml) read and written as data.

`parse_spec` reads what a GoDiagnosis asks for (strictly: a wrong field is a Failed status
that names it, never a guess); `running`, `done` and `failed` are the statuses the
operator writes. All pure: a diagnosis document (`godiag.diagnosis/v1`) in, a status out,
so the mapping is unit-tested without an API server (docs/kubernetes.md "Operator").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from godiag.durations import parse_duration
from godiag.errors import GodiagError, UsageError

GROUP = "godiag.dev"
VERSION = "v1alpha1"
PLURAL = "godiagnoses"
KIND = "GoDiagnosis"
NOT_SURE = "not-sure"
WINDOW = (1.0, 600.0)  # seconds: two samples need a second; a job should not hold a slot long
LOOKBACK = (60.0, 3600.0)
DEFAULT_WINDOW = 5.0
DEFAULT_LOOKBACK = 300.0  # the span the model's goroutine-history feature was trained on
# RFC 1123 label (namespace) and subdomain (pod name), as the API server validates them
_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_POD = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")


class SpecError(GodiagError):
    """The GoDiagnosis's spec cannot be run as written."""


@dataclass(frozen=True)
class Request:
    """What one GoDiagnosis asks for: a pod (by name or selector), its port, the timing."""

    namespace: str
    pod: str | None
    selector: str | None
    port: int
    window: float = DEFAULT_WINDOW
    lookback: float = DEFAULT_LOOKBACK

    def target(self) -> str:
        """The pod target as `godiag diagnose` spells it (docs/kubernetes.md)."""
        if self.pod is not None:
            return f"k8s://{self.namespace}/{self.pod}:{self.port}"
        return f"k8s://{self.namespace}/selector/{self.selector}:{self.port}"


def parse_spec(obj: dict[str, Any]) -> Request:
    """The request of a GoDiagnosis object (its `metadata` and `spec`)."""
    meta = obj.get("metadata") or {}
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        raise SpecError("spec: missing")
    tgt = spec.get("target")
    if not isinstance(tgt, dict):
        raise SpecError("spec.target: missing")
    unknown = sorted(set(tgt) - {"namespace", "pod", "selector", "port"})
    if unknown:
        raise SpecError(f"spec.target: unknown field {unknown[0]!r}")
    ns = tgt.get("namespace") or meta.get("namespace")
    if not isinstance(ns, str) or not _NAMESPACE.fullmatch(ns):
        raise SpecError(f"spec.target.namespace: {ns!r} is not a namespace name")
    pod, selector = tgt.get("pod"), tgt.get("selector")
    if (pod is None) == (selector is None):
        raise SpecError("spec.target: give exactly one of pod, selector")
    if pod is not None and (not isinstance(pod, str) or not _POD.fullmatch(pod)):
        raise SpecError(f"spec.target.pod: {pod!r} is not a pod name")
    if selector is not None and (not isinstance(selector, str) or not selector.strip()):
        raise SpecError("spec.target.selector: expected a label selector such as app=api")
    port = tgt.get("port")
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise SpecError(f"spec.target.port: {port!r} is not a port number")
    return Request(
        namespace=ns,
        pod=pod,
        selector=selector.strip() if selector is not None else None,
        port=port,
        window=_duration(spec, "window", DEFAULT_WINDOW, WINDOW),
        lookback=_duration(spec, "lookback", DEFAULT_LOOKBACK, LOOKBACK),
    )


def _duration(spec: dict[str, Any], key: str, default: float, bounds: tuple[float, float]) -> float:
    raw = spec.get(key)
    if raw is None:
        return default
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise SpecError(f"spec.{key}: expected a duration such as 30s")
    try:
        seconds = parse_duration(str(raw), f"spec.{key}", error=UsageError)
    except UsageError as exc:
        raise SpecError(str(exc)) from None
    lo, hi = bounds
    if not lo <= seconds <= hi:
        raise SpecError(f"spec.{key}: {raw} is outside {lo:g}s to {hi:g}s")
    return seconds


def _condition(
    kind: str, ok: bool, reason: str, message: str, generation: int | None, now: str,
    previous: list[dict[str, Any]],
) -> dict[str, Any]:  # fmt: skip
    """A Kubernetes condition; its lastTransitionTime moves only when its status changes."""
    status = "True" if ok else "False"
    before = next((c for c in previous if c.get("type") == kind), None)
    since = before.get("lastTransitionTime") if before and before.get("status") == status else None
    cond: dict[str, Any] = {
        "type": kind,
        "status": status,
        "reason": reason,
        "message": message[:1024],
        "lastTransitionTime": since or now,
    }
    if generation is not None:
        cond["observedGeneration"] = generation
    return cond


def _previous(obj: dict[str, Any]) -> list[dict[str, Any]]:
    conds = (obj.get("status") or {}).get("conditions")
    return [c for c in conds if isinstance(c, dict)] if isinstance(conds, list) else []


def _generation(obj: dict[str, Any]) -> int | None:
    gen = (obj.get("metadata") or {}).get("generation")
    return gen if isinstance(gen, int) else None


def finished(obj: dict[str, Any]) -> bool:
    """Done or Failed for the object's current generation: nothing left to do (a resume
    after an operator restart must not diagnose again what was answered)."""
    status = obj.get("status") or {}
    return status.get("phase") in ("Done", "Failed") and status.get(
        "observedGeneration"
    ) == _generation(obj)


def pending(obj: dict[str, Any], target: str, now: str) -> dict[str, Any]:
    """Accepted (the spec reads), the diagnosis not started yet."""
    gen = _generation(obj)
    prev = _previous(obj)
    return {
        "phase": "Pending",
        "target": target,
        "reason": None,
        "conditions": [
            _condition("Running", False, "Accepted", f"{target} is next", gen, now, prev),
            _condition("Done", False, "Accepted", "the diagnosis has not started", gen, now, prev),
        ],
    }


def running(obj: dict[str, Any], target: str | None, now: str) -> dict[str, Any]:
    gen = _generation(obj)
    prev = _previous(obj)
    return {
        "phase": "Running",
        "target": target,
        "reason": None,
        "conditions": [
            _condition("Running", True, "Observing", f"observing {target}", gen, now, prev),
            _condition("Done", False, "Observing", "the diagnosis is running", gen, now, prev),
        ],
    }


def failed(obj: dict[str, Any], reason: str, target: str | None, now: str) -> dict[str, Any]:
    gen = _generation(obj)
    prev = _previous(obj)
    return {
        "phase": "Failed",
        "target": target,
        "reason": reason[:1024],
        "verdict": None,
        "probability": None,
        "location": None,
        "causes": [],
        "observedGeneration": gen,
        "conditions": [
            _condition("Running", False, "Failed", reason, gen, now, prev),
            _condition("Done", False, "Failed", reason, gen, now, prev),
        ],
    }


def verdict_of(doc: dict[str, Any]) -> str:
    """The top cause's kind when the diagnosis is confident in it, else not-sure."""
    causes = doc.get("causes") or []
    if not causes or not doc.get("confident"):
        return NOT_SURE
    return str(causes[0]["kind"])


def _location(loc: Any) -> dict[str, Any] | None:
    if not isinstance(loc, dict):
        return None
    return {k: loc[k] for k in ("function", "file", "line") if loc.get(k) is not None}


def _cause(c: dict[str, Any]) -> dict[str, Any]:
    out = {k: c[k] for k in ("rank", "kind", "probability", "title")}
    loc = _location(c.get("location"))
    if loc is not None:  # a null inside a list would not be a merge patch's deletion
        out["location"] = loc
    return out


def done(obj: dict[str, Any], doc: dict[str, Any], target: str, now: str) -> dict[str, Any]:
    """The status of a finished diagnosis (`doc` is a godiag.diagnosis/v1 document)."""
    gen = _generation(obj)
    prev = _previous(obj)
    causes = doc.get("causes") or []
    top = causes[0] if causes else None
    verdict = verdict_of(doc)
    status: dict[str, Any] = {
        "phase": "Done",
        "target": target,
        "reason": None,
        "verdict": verdict,
        "probability": top["probability"] if top else None,
        "location": _location(top.get("location")) if top else None,
        "causes": [_cause(c) for c in causes[:3]],
        "summary": str(doc.get("verdict", ""))[:1024],
        "artifacts": [str(a["id"]) for a in doc.get("artifacts") or []],
        "observedGeneration": gen,
    }
    message = str(doc.get("verdict", ""))
    status["conditions"] = [
        _condition("Running", False, "Finished", message, gen, now, prev),
        _condition(
            "Done", True, "NotSure" if verdict == NOT_SURE else "Diagnosed", message, gen, now, prev
        ),
    ]
    return status
