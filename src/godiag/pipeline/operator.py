"""`godiag operator`: diagnose the pod a GoDiagnosis names and write the answer in its status.

The handlers are kopf's (create, resume and spec updates of `godiagnoses.godiag.dev`), in
three steps kopf runs one after the other, patching the object between them: `accept`
reads the spec (Pending, or Failed naming the field), `start` sets Running, `diagnose`
runs the same pipeline as `godiag diagnose k8s://NS/POD:PORT` (`pipeline/diagnose.py`
through `pipeline/pods.py`) and sets Done with the verdict, or Failed with the reason.
What the status holds is `pipeline/godiagnosis.py`'s (pure); the diagnosis of a request
(the pod reached through the API server's pod proxy, with the operator's credentials) is
the injected `Run`.

kopf is asked for nothing beyond the CRD: no events (posting off), no peering objects
(standalone), no watch of CRDs and namespaces (scanning off), progress kept in the
object's annotations, so the RBAC of the Helm chart is get/list/watch/patch on
godiagnoses, patch on their status, and the pods.
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

    from godiag.config import Config
    from godiag.pipeline.kubetargets import KubeAccess

log = logging.getLogger("godiag.operator")

# a request -> the godiag.diagnosis/v1 document of its pod (GodiagError: why there is none)
Run = Callable[[gd.Request], dict[str, Any]]
ANNOTATION_PREFIX = "godiag.dev"


@dataclass(frozen=True)
class OperatorOptions:
    config: Config
    store: bool = False  # store the captures in the configured store
    workers: int = 2  # diagnoses at once


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def reconcile(obj: dict[str, Any], run: Run) -> dict[str, Any]:
    """The final status of one GoDiagnosis: Done with the verdict, or Failed with why."""
    from godiag.pipeline.diagnose import unobserved

    try:
        req = gd.parse_spec(obj)
    except gd.SpecError as exc:
        return gd.failed(obj, f"invalid spec: {exc}", None, now())
    try:
        doc = run(req)
    except GodiagError as exc:
        return gd.failed(obj, str(exc), req.target(), now())
    if (why := unobserved(doc)) is not None:
        return gd.failed(obj, why, req.target(), now())
    return gd.done(obj, doc, req.target(), now())


def registry(
    run: Run, options: OperatorOptions, login: Callable[..., Any]
) -> kopf.OperatorRegistry:
    """kopf's handlers for GoDiagnosis objects, on a registry of their own."""
    import kopf

    reg = kopf.OperatorRegistry()
    res = (gd.GROUP, gd.VERSION, gd.PLURAL)

    @kopf.on.startup(registry=reg)
    def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
        settings.posting.enabled = False  # no Events: the status says it all, no RBAC for them
        settings.peering.standalone = True
        # no watch of CRDs and namespaces (no RBAC for them): the CRD must exist at start,
        # and only the namespaces named (or all) are served
        settings.scanning.disabled = True
        settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(
            prefix=ANNOTATION_PREFIX
        )
        settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
            prefix=ANNOTATION_PREFIX, key="last-handled-configuration"
        )
        settings.execution.max_workers = options.workers

    kopf.on.login(registry=reg)(login)

    def accept(body: kopf.Body, patch: kopf.Patch, **_: Any) -> None:
        obj = _plain(body)
        if gd.finished(obj):
            return
        try:
            req = gd.parse_spec(obj)
        except gd.SpecError as exc:  # nothing to run: Failed at once, with the field
            patch.status.update(gd.failed(obj, f"invalid spec: {exc}", None, now()))
            return
        patch.status.update(gd.pending(obj, req.target(), now()))

    def start(body: kopf.Body, patch: kopf.Patch, **_: Any) -> None:
        obj = _plain(body)
        if gd.finished(obj):
            return
        patch.status.update(gd.running(obj, gd.parse_spec(obj).target(), now()))

    def diagnose(body: kopf.Body, patch: kopf.Patch, **_: Any) -> None:
        obj = _plain(body)
        if gd.finished(obj):
            return
        status = reconcile(obj, run)
        log.info(
            "GoDiagnosis %s/%s: %s %s", obj["metadata"].get("namespace"),
            obj["metadata"].get("name"), status["phase"],
            status.get("verdict") or status.get("reason"),
        )  # fmt: skip
        patch.status.update(status)

    # kopf runs a cause's handlers one at a time, in this order, patching the object
    # between them: Pending, then Running are written (and visible) before the window
    for cause, on in (("create", kopf.on.create), ("resume", kopf.on.resume)):
        for step in (accept, start, diagnose):
            on(*res, id=f"{cause}-{step.__name__}", registry=reg)(step)
    for step in (accept, start, diagnose):
        kopf.on.update(*res, id=f"update-{step.__name__}", field="spec", registry=reg)(step)
    return reg


def login_handler(access: KubeAccess) -> Callable[..., kopf.ConnectionInfo]:
    """kopf's login: the same cluster and identity as godiag's own API calls (kubeconfig
    with relative paths read as kubectl reads them, or the service account), read again
    on each login so a rotated token is picked up."""

    def login(**_: Any) -> kopf.ConnectionInfo:
        import kopf

        c = access.credentials()
        return kopf.ConnectionInfo(
            server=c.server,
            ca_data=c.ca_pem,
            insecure=c.insecure or None,
            certificate_data=c.cert_pem,
            private_key_data=c.key_pem,
            token=c.token,
            default_namespace=c.namespace,
        )

    return login


def _plain(body: Any) -> dict[str, Any]:
    """kopf's read-only body as plain dicts (what godiagnosis.py reads)."""
    import copy

    return {k: copy.deepcopy(dict(body.get(k) or {})) for k in ("metadata", "spec", "status")}
