"""Alerts about pods: `namespace` + `pod` labels -> a `k8s://NS/POD:PORT` target, inside
the `[kubernetes]` allowlist only (docs/serve.md "Pods").

Two checks, at two moments. `pod_ref` (pure, when the alert is accepted) refuses a
namespace outside `namespaces`; the pod's labels are known only to the API server, so
`selectors` are checked when the job runs, on the pod the API server returns, before
anything is fetched from it (`check_labels`). The labels of an alert never become a URL
of their own: the pod is reached through the API server's pod proxy with godiag's
credentials, and only a pod of an allowed namespace whose labels match is diagnosed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from godiag.config import KubernetesConfig
from godiag.errors import CollectError, ConfigError
from godiag.pipeline.godiagnosis import Request

if TYPE_CHECKING:
    from godiag.collect.kube.kubeconfig import Credentials
    from godiag.collect.kube.pods import PodEndpoint, Resolver
    from godiag.pipeline.operator import OperatorOptions, Run

SCHEME = "k8s://"
_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")
_REF = re.compile(r"k8s://([a-z0-9-]{1,63})/([a-z0-9.-]{1,253}):(\d{1,5})")


def pod_ref(labels: dict[str, str], k8s: KubernetesConfig) -> tuple[str | None, str | None]:
    """(the pod target of an alert, None) or (None, why it is refused); (None, None) when
    the alert names no pod or Kubernetes is off."""
    ns, pod = labels.get("namespace", ""), labels.get("pod", "")
    if not k8s.enabled or not ns or not pod:
        return None, None
    if not _NAME.fullmatch(ns) or len(ns) > 63 or not _NAME.fullmatch(pod):
        return None, f"refused: labels namespace={ns[:80]!r} pod={pod[:80]!r} do not name a pod"
    if not k8s.allows_namespace(ns):
        allowed = ", ".join(k8s.namespaces)
        return None, (f"refused: namespace {ns!r} is not in the [kubernetes] namespaces "
                      f"allowlist ({allowed})")  # fmt: skip
    return f"{SCHEME}{ns}/{pod}:{k8s.default_port}", None


def split_ref(ref: str) -> tuple[str, str, int]:
    """`k8s://NS/POD:PORT` -> (NS, POD, PORT)."""
    m = _REF.fullmatch(ref)
    if m is None:
        raise CollectError(f"{ref!r} is not a pod target (k8s://NAMESPACE/POD:PORT)")
    return m.group(1), m.group(2), int(m.group(3))


def selector_matches(selector: str, labels: dict[str, str]) -> bool:
    """An equality-based label selector (`a=b`, `a==b`, `a!=b`, comma-separated: all must
    hold), as the API server reads it; `[kubernetes] selectors` are checked to this form."""
    for part in selector.split(","):
        m = re.fullmatch(r"\s*([^=!\s]+)\s*(==|=|!=)\s*(\S*)\s*", part)
        if m is None:
            return False
        key, op, value = m.groups()
        if op == "!=":
            if labels.get(key) == value:
                return False
        elif labels.get(key) != value:
            return False
    return True


def check_labels(ref: str, labels: dict[str, str], k8s: KubernetesConfig) -> None:
    """Refuse a pod whose labels match none of `[kubernetes] selectors` (when given)."""
    if k8s.selectors and not any(selector_matches(s, labels) for s in k8s.selectors):
        raise CollectError(
            f"refused: pod {ref} matches none of the [kubernetes] selectors "
            f"({'; '.join(k8s.selectors)})"
        )


@dataclass(frozen=True)
class KubeAccess:
    """Where the API server is and who godiag is to it: a kubeconfig (and context), or the
    pod's service account (`in_cluster`), as `[kubernetes]` or the command line say."""

    kubeconfig: str | None = None
    context: str | None = None
    in_cluster: bool = False

    @classmethod
    def of(cls, k8s: KubernetesConfig) -> KubeAccess:
        return cls(k8s.kubeconfig, k8s.context, k8s.in_cluster)

    def credentials(self) -> Credentials:
        """Read again on every call: a projected service-account token is rotated."""
        from godiag.collect.kube.kubeconfig import in_cluster, load

        if self.in_cluster:
            found = in_cluster(os.environ)
            if found is None:
                raise ConfigError(
                    "[kubernetes] in_cluster: no service account here "
                    "(KUBERNETES_SERVICE_HOST unset or no token mounted)"
                )
            return found
        return load(self.kubeconfig, self.context)

    def resolver(self) -> Resolver:
        from godiag.collect.kube.pods import Resolver

        return Resolver(self.credentials())


def pod_endpoint(res: Resolver, req: Request) -> PodEndpoint:
    """The pod a GoDiagnosis names: by name, or the first ready pod (by name) that its
    label selector matches; the proxy is checked before the window starts."""
    from urllib.parse import quote

    from godiag.collect.kube.pods import PodRef

    if req.pod is not None:
        return res.resolve(req.target())[0]
    assert req.selector is not None
    pods = res.pods(req.namespace, "labelSelector=" + quote(req.selector, safe=""))
    ready = sorted(
        (p for p in pods if (p.get("status") or {}).get("phase") == "Running"),
        key=lambda p: str(p["metadata"]["name"]),
    )
    if not ready:
        raise CollectError(
            f"{req.target()}: no Running pod in {req.namespace} matches {req.selector!r}"
        )
    name = str(ready[0]["metadata"]["name"])
    ep = res.endpoint(ready[0], PodRef(req.namespace, name, "pod", str(req.port)), req.target())
    res.check_proxy(ep)
    return ep


def pod_run(options: OperatorOptions, access: KubeAccess) -> Run:
    """The operator's diagnosis of a request: `godiag diagnose k8s://NS/POD:PORT`'s."""

    def run(req: Request) -> dict[str, Any]:
        from godiag.pipeline.diagnose import DiagnoseOptions
        from godiag.pipeline.pods import diagnose_pod

        res = access.resolver()
        ep = pod_endpoint(res, req)
        opts = DiagnoseOptions(
            window=req.window, lookback=req.lookback, store=options.store,
            config=options.config, flames=False,
        )  # fmt: skip
        return diagnose_pod(ep, opts, resolver=res)

    return run


def alert_pod(ref: str, k8s: KubernetesConfig) -> tuple[PodEndpoint, Resolver]:
    """The pod of an accepted alert (`pod_ref`'s target), refused unless its labels match
    the `[kubernetes] selectors`: checked on what the API server says, before any fetch."""
    res = KubeAccess.of(k8s).resolver()
    ns, pod, port = split_ref(ref)
    if not k8s.allows_namespace(ns):  # the configuration may have changed since
        raise CollectError(f"refused: namespace {ns!r} is no longer in the [kubernetes] allowlist")
    from godiag.collect.kube.pods import PodRef

    obj = res.pod(ns, pod)
    check_labels(ref, dict((obj.get("metadata") or {}).get("labels") or {}), k8s)
    ep = res.endpoint(obj, PodRef(ns, pod, "pod", str(port)), ref)
    res.check_proxy(ep)
    return ep, res
