"""`godiag operator`: diagnose the pod a GoDiagnosis names and write the answer in its status.

The handler is kopf's (create, resume and spec updates of `godiagnoses.godiag.dev`), in two
steps kopf runs one after the other, patching the object between them: `start` sets phase
Running, `diagnose` runs the same pipeline as `godiag diagnose k8s://NS/POD:PORT`
(`pipeline/diagnose.py`) and sets Done with the verdict, or Failed with the reason. What
the status holds is `pipeline/godiagnosis.py`'s (pure); how a pod becomes a `Target` (the
API server's pod proxy, with the operator's credentials) is the injected `Resolve`.

kopf is asked for nothing beyond the CRD: no events (posting off), no peering objects
(standalone), progress kept in the object's annotations, so the RBAC of the Helm chart is
get/list/watch/patch on godiagnoses, patch on their status, and the pods.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from godiag.errors import GodiagError
from godiag.pipeline import godiagnosis as gd

if TYPE_CHECKING:
    import kopf

    from godiag.config import Config, Target

log = logging.getLogger("godiag.operator")

# the pod a request names -> the target the diagnosis reads (raises GodiagError when none)
Resolve = Callable[[gd.Request], "Target"]
# (target, request) -> a godiag.diagnosis/v1 document
Run = Callable[["Target", gd.Request], dict[str, Any]]
ANNOTATION_PREFIX = "godiag.dev"


@dataclass(frozen=True)
class OperatorOptions:
    config: Config
    store: bool = False  # store the captures in the configured store
    workers: int = 2  # diagnoses at once


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def pipeline_run(options: OperatorOptions) -> Run:
    """The diagnosis of `godiag diagnose` on a resolved pod target."""

    def run(target: Target, req: gd.Request) -> dict[str, Any]:
        from godiag.pipeline.diagnose import DiagnoseOptions, diagnose

        opts = DiagnoseOptions(
            window=req.window, lookback=req.lookback, store=options.store, config=options.config,
            flames=False,
        )  # fmt: skip
        return diagnose(target, opts)

    return run


def reconcile(
    obj: dict[str, Any], resolve: Resolve, run: Run, options: OperatorOptions
) -> dict[str, Any]:
    """The final status of one GoDiagnosis: Done with the verdict, or Failed with why."""
    from godiag.pipeline.diagnose import unobserved

    try:
        req = gd.parse_spec(obj)
    except gd.SpecError as exc:
        return gd.failed(obj, f"invalid spec: {exc}", None, now())
    try:
        target = resolve(req)
        doc = run(target, req)
    except GodiagError as exc:
        return gd.failed(obj, str(exc), req.target(), now())
    if (why := unobserved(doc)) is not None:
        return gd.failed(obj, why, req.target(), now())
    return gd.done(obj, doc, req.target(), now())


def registry(
    resolve: Resolve, options: OperatorOptions, login: Callable[..., Any]
) -> kopf.OperatorRegistry:
    """kopf's handlers for GoDiagnosis objects, on a registry of their own."""
    import kopf

    reg = kopf.OperatorRegistry()
    run = pipeline_run(options)
    res = (gd.GROUP, gd.VERSION, gd.PLURAL)

    @kopf.on.startup(registry=reg)
    def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
        settings.posting.enabled = False  # no Events: the status says it all, no RBAC for them
        settings.peering.standalone = True
        settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(
            prefix=ANNOTATION_PREFIX
        )
        settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
            prefix=ANNOTATION_PREFIX, key="last-handled-configuration"
        )
        settings.execution.max_workers = options.workers

    kopf.on.login(registry=reg)(login)

    def start(body: kopf.Body, patch: kopf.Patch, **_: Any) -> None:
        obj = _plain(body)
        if gd.finished(obj):
            return
        try:
            target: str | None = gd.parse_spec(obj).target()
        except gd.SpecError:
            target = None
        patch.status.update(gd.running(obj, target, now()))

    def diagnose(body: kopf.Body, patch: kopf.Patch, **_: Any) -> None:
        obj = _plain(body)
        if gd.finished(obj):
            return
        status = reconcile(obj, resolve, run, options)
        log.info(
            "GoDiagnosis %s/%s: %s %s", obj["metadata"].get("namespace"),
            obj["metadata"].get("name"), status["phase"],
            status.get("verdict") or status.get("reason"),
        )  # fmt: skip
        patch.status.update(status)

    # kopf runs a cause's handlers one at a time, patching between them: Running is
    # written (and visible) before the diagnosis starts
    kopf.on.create(*res, id="create-start", registry=reg)(start)
    kopf.on.create(*res, id="create-diagnose", registry=reg)(diagnose)
    kopf.on.resume(*res, id="resume-start", registry=reg)(start)
    kopf.on.resume(*res, id="resume-diagnose", registry=reg)(diagnose)
    kopf.on.update(*res, id="update-start", field="spec", registry=reg)(start)
    kopf.on.update(*res, id="update-diagnose", field="spec", registry=reg)(diagnose)
    return reg


def _plain(body: Any) -> dict[str, Any]:
    """kopf's read-only body as plain dicts (what godiagnosis.py reads)."""
    import copy

    return {k: copy.deepcopy(dict(body.get(k) or {})) for k in ("metadata", "spec", "status")}
