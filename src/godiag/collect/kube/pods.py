"""`k8s://` targets: a pod (or a workload's pod) read through the API server's pod proxy.

    k8s://NAMESPACE/POD[:PORT]
    k8s://NAMESPACE/deployment/NAME[:PORT]   (also statefulset, daemonset, replicaset)

A target resolves to the base URL
`https://APISERVER/api/v1/namespaces/NS/pods/NAME:PORT/proxy` and an HttpClient holding
the cluster's credentials, so every collector works on it unchanged. The port comes from
the target, else the pod's `godiag.dev/port` annotation, then `prometheus.io/port`, else
a container port named pprof, metrics or http (the proxy needs a number; a port name in
the target or an annotation is looked up among the container ports).

Before any capture the proxy is tried once: a 403 there is the one sentence naming the
missing permission (`cannot get pods/proxy in namespace NS`), not a capture failure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

from godiag.collect.http import HttpClient, endpoint_url
from godiag.collect.kube.api import KubeApi, client_for, forbidden, pod_path, status_message
from godiag.collect.kube.kubeconfig import Credentials, load
from godiag.errors import CollectError, UsageError
from godiag.model.capture import CaptureMeta

SCHEME = "k8s://"
WORKLOADS = {
    "deployment": ("apps/v1", "deployments"),
    "statefulset": ("apps/v1", "statefulsets"),
    "daemonset": ("apps/v1", "daemonsets"),
    "replicaset": ("apps/v1", "replicasets"),
}
PORT_ANNOTATIONS = ("godiag.dev/port", "prometheus.io/port")
PORT_NAMES = ("pprof", "metrics", "http")
# RFC 1123 names (namespaces, pods, workloads) and port numbers or IANA port names
_NAME = re.compile(r"[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?")
_PORT = re.compile(r"[0-9]{1,5}|[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?")
PROBE_PATH = "/debug/pprof/cmdline"  # tiny, and harmless on any service
# labels that differ between the pods of one owner (a StatefulSet names each pod)
PER_POD_LABELS = ("statefulset.kubernetes.io/pod-name", "apps.kubernetes.io/pod-index")


@dataclass(frozen=True)
class PodRef:
    """A parsed `k8s://` target."""

    namespace: str
    name: str
    kind: str = "pod"  # or one of WORKLOADS
    port: str | None = None  # a number or a container port's name

    def __str__(self) -> str:
        mid = self.name if self.kind == "pod" else f"{self.kind}/{self.name}"
        return f"{SCHEME}{self.namespace}/{mid}" + (f":{self.port}" if self.port else "")


_PROXY = re.compile(r"https?://[^/?#]+/api/v1/namespaces/[^/?#]+/pods/[^/?#]+/proxy(?=[/?#]|$)")


def proxy_base(url: str) -> str | None:
    """The pod-proxy base of a URL under one (None for any other URL)."""
    m = _PROXY.match(url)
    return m.group(0) if m else None


def is_kube(target: str) -> bool:
    return target.startswith(SCHEME)


def parse(target: str) -> PodRef:
    """`k8s://NS/POD[:PORT]` or `k8s://NS/KIND/NAME[:PORT]`; anything else a usage error."""
    usage = (
        f"{target!r}: expected k8s://NAMESPACE/POD[:PORT] or k8s://NAMESPACE/deployment/NAME[:PORT]"
    )
    if not is_kube(target):
        raise UsageError(usage)
    parts = target[len(SCHEME) :].split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise UsageError(usage)
    last, _, port = parts[-1].partition(":")
    kind = "pod" if len(parts) == 2 else parts[1].lower()
    if kind != "pod" and kind not in WORKLOADS:
        raise UsageError(f"{target!r}: {parts[1]!r} is not one of pod, {', '.join(WORKLOADS)}")
    ns = parts[0]
    for what, value in (("namespace", ns), ("name", last)):
        if not _NAME.fullmatch(value):
            raise UsageError(f"{target!r}: {what} {value!r} is not a Kubernetes name")
    if port and (not _PORT.fullmatch(port) or (port.isdigit() and not 0 < int(port) < 65536)):
        raise UsageError(f"{target!r}: port {port!r} is neither a port number nor a port name")
    return PodRef(ns, last, kind, port or None)


@dataclass(frozen=True)
class KubeOptions:
    """--kubeconfig and --context, as kubectl takes them."""

    kubeconfig: str | None = None
    context: str | None = None


@dataclass(frozen=True)
class PodEndpoint:
    """One pod's proxy: what collectors need (url, client) and what it is (metadata)."""

    url: str  # .../pods/NAME:PORT/proxy, no trailing slash
    client: HttpClient = field(repr=False)
    namespace: str = ""
    pod: str = ""
    port: int = 0
    owner: str | None = None  # "ReplicaSet/web-7d9c" (the controller), None if none
    owner_uid: str | None = None
    images: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    target: str = ""  # as the user wrote it
    digest: str | None = None  # the running image's content digest ("sha256:..."), if known

    @property
    def name(self) -> str:
        return f"{SCHEME}{self.namespace}/{self.pod}:{self.port}"

    def meta(self) -> CaptureMeta:
        """The pod as capture metadata: service name from its app labels, tags of
        OpenTelemetry's resource names."""
        service = self.labels.get("app.kubernetes.io/name") or self.labels.get("app")
        if not service and self.owner:
            name = self.owner.partition("/")[2]
            suffix = self.labels.get("pod-template-hash")  # a Deployment's ReplicaSet
            service = name.removesuffix(f"-{suffix}") if suffix else name
        service = service or self.pod  # a bare pod is its own service
        tags = {"k8s.namespace.name": self.namespace, "k8s.pod.name": self.pod}
        if self.owner:
            tags["k8s.owner"] = self.owner
        if self.images:
            tags["container.image.name"] = self.images[0][:200]
        if self.digest:
            tags["container.image.digest"] = self.digest
        return CaptureMeta(service_name=service, tags=tags)


def _pod_port(pod: dict[str, Any], wanted: str | None, ref: PodRef) -> int:
    containers = (pod.get("spec") or {}).get("containers") or []
    ports = [p for c in containers for p in (c.get("ports") or []) if isinstance(p, dict)]
    by_name = {str(p.get("name")): int(p["containerPort"]) for p in ports
               if p.get("name") and p.get("containerPort")}  # fmt: skip
    where = f"{SCHEME}{ref.namespace}/{pod['metadata']['name']}"
    if wanted is not None:
        if wanted.isdigit():
            return int(wanted)
        if wanted in by_name:
            return by_name[wanted]
        raise CollectError(f"{where}: no container port named {wanted!r}")
    notes = (pod.get("metadata") or {}).get("annotations") or {}
    for key in PORT_ANNOTATIONS:
        value = str(notes.get(key, "")).strip()
        if value:
            if value.isdigit() and 0 < int(value) < 65536:
                return int(value)
            if value in by_name:
                return by_name[value]
            raise CollectError(f"{where}: annotation {key}={value!r} is not a port of the pod")
    for name in PORT_NAMES:
        if name in by_name:
            return by_name[name]
    raise CollectError(
        f"{where}: which port serves pprof/metrics? Give it ({where}:PORT), annotate the pod "
        f"with godiag.dev/port, or name a container port pprof, metrics or http"
    )


def _ready(pod: dict[str, Any]) -> bool:
    st = pod.get("status") or {}
    if (pod.get("metadata") or {}).get("deletionTimestamp") or st.get("phase") != "Running":
        return False
    if not st.get("podIP"):
        return False
    conds = {c.get("type"): c.get("status") for c in st.get("conditions") or []}
    return conds.get("Ready") == "True"


def _controller(pod: dict[str, Any]) -> tuple[str | None, str | None]:
    for ref in (pod.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return f"{ref.get('kind')}/{ref.get('name')}", ref.get("uid")
    return None, None


def selector_query(selector: dict[str, Any]) -> str:
    """A workload's label selector as the `labelSelector` query (matchLabels and
    matchExpressions, as the API server's selector syntax)."""
    terms = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for e in selector.get("matchExpressions") or []:
        key, op, values = e.get("key"), e.get("operator"), e.get("values") or []
        if op == "In":
            terms.append(f"{key} in ({','.join(values)})")
        elif op == "NotIn":
            terms.append(f"{key} notin ({','.join(values)})")
        elif op == "Exists":
            terms.append(str(key))
        elif op == "DoesNotExist":
            terms.append(f"!{key}")
    return "labelSelector=" + quote(",".join(terms), safe="")


class Resolver:
    """Resolves `k8s://` targets of one cluster and identity."""

    def __init__(self, creds: Credentials, timeout: float = 10.0) -> None:
        self.creds = creds
        self.api = KubeApi.connect(creds, timeout)
        self.proxy_client = client_for(creds)  # the collectors' budgets apply to it

    def pod(self, ns: str, name: str) -> dict[str, Any]:
        return self.api.get(pod_path(ns, name), resource="pods", namespace=ns)

    def pods(self, ns: str, query: str) -> list[dict[str, Any]]:
        doc = self.api.get(pod_path(ns), resource="pods", namespace=ns, query=query)
        return [p for p in doc.get("items") or [] if isinstance(p, dict)]

    def workload_pods(self, ref: PodRef) -> list[dict[str, Any]]:
        """The ready pods of a workload, by name (the first is `k8s://NS/KIND/NAME`'s)."""
        group, plural = WORKLOADS[ref.kind]
        path = f"/apis/{group}/namespaces/{quote(ref.namespace, safe='')}/{plural}/{ref.name}"
        obj = self.api.get(path, resource=plural, namespace=ref.namespace)
        selector = (obj.get("spec") or {}).get("selector") or {}
        if not selector.get("matchLabels") and not selector.get("matchExpressions"):
            raise CollectError(f"{ref}: the {ref.kind} has no pod selector")
        ready = [p for p in self.pods(ref.namespace, selector_query(selector)) if _ready(p)]
        if not ready:
            raise CollectError(f"{ref}: no ready pod (the {ref.kind} selects none Running)")
        return sorted(ready, key=lambda p: str(p["metadata"]["name"]))

    def endpoint(self, pod: dict[str, Any], ref: PodRef, target: str) -> PodEndpoint:
        md = pod.get("metadata") or {}
        name = str(md.get("name"))
        if not _ready(pod) and not (pod.get("status") or {}).get("podIP"):
            phase = (pod.get("status") or {}).get("phase") or "unknown"
            raise CollectError(f"{SCHEME}{ref.namespace}/{name}: the pod is {phase} with no IP")
        port = _pod_port(pod, ref.port, ref)
        owner, uid = _controller(pod)
        images = tuple(str(c.get("image")) for c in (pod.get("spec") or {}).get("containers") or []
                       if c.get("image"))  # fmt: skip
        url = f"{self.creds.server}{pod_path(ref.namespace, name)}:{port}/proxy"
        # its own client: the pod's redirects may not leave its proxy path (a redirect to
        # the API server's /api/... would read the cluster with the user's credentials)
        client = replace(self.proxy_client, within=url + "/")
        return PodEndpoint(url, client, ref.namespace, name, port, owner, uid, images,
                           dict(md.get("labels") or {}), target, _digest(pod))  # fmt: skip

    def check_proxy(self, ep: PodEndpoint) -> None:
        """One small GET through the proxy: the API server's refusal is a clear error
        here rather than one failed capture after another."""
        res = ep.client.get(endpoint_url(ep.url, PROBE_PATH), self.api.timeout, allow_error=True)
        if res.status < 400:
            return
        msg = status_message(res.body)
        if msg is None:
            return  # the service's own answer (no pprof here, say): the collectors judge it
        if res.status == 403:
            raise CollectError(forbidden("get", "pods/proxy", ep.namespace, self.creds))
        if res.status in (502, 503):
            raise CollectError(
                f"{ep.name}: the API server cannot reach the pod on port {ep.port}: {msg}"
            )
        raise CollectError(f"{ep.name}: the pod proxy answered {res.status}: {msg}")

    def resolve(self, target: str, all_pods: bool = False) -> list[PodEndpoint]:
        ref = parse(target)
        if ref.kind == "pod":
            pods = [self.pod(ref.namespace, ref.name)]
        else:
            pods = self.workload_pods(ref)
            pods = pods if all_pods else pods[:1]
        eps = [self.endpoint(p, ref, target) for p in pods]
        self.check_proxy(eps[0])
        return eps

    def siblings(self, ep: PodEndpoint, limit: int) -> list[PodEndpoint]:
        """Up to `limit` other ready pods of the same controller (same port rule)."""
        if ep.owner_uid is None or limit <= 0:
            return []
        keep = {k: v for k, v in sorted(ep.labels.items()) if k not in PER_POD_LABELS}
        query = selector_query({"matchLabels": keep}) if keep else ""
        out: list[PodEndpoint] = []
        ref = PodRef(ep.namespace, ep.pod, "pod", str(ep.port))  # the pods of one template
        for p in sorted(self.pods(ep.namespace, query), key=lambda p: str(p["metadata"]["name"])):
            if p["metadata"].get("name") == ep.pod or _controller(p)[1] != ep.owner_uid:
                continue
            if not _ready(p):
                continue
            try:
                sib = self.endpoint(p, ref, ep.target)
            except CollectError:
                continue
            out.append(sib)
            if len(out) >= limit:
                break
        return out


def resolver(kube: KubeOptions | None = None, timeout: float = 10.0) -> Resolver:
    kube = kube or KubeOptions()
    return Resolver(load(kube.kubeconfig, kube.context), timeout)


def resolve(target: str, kube: KubeOptions | None = None, timeout: float = 10.0) -> PodEndpoint:
    """The one pod a `k8s://` target names (a workload's first ready pod), proxy checked."""
    return resolver(kube, timeout).resolve(target)[0]


_DIGEST = re.compile(r"@(sha256:[0-9a-f]{64})$")


def _digest(pod: dict[str, Any]) -> str | None:
    """The content digest of the pod's first container image as the kubelet resolved it
    (status imageID `repo@sha256:...`), else as the spec pinned it: a build's identity
    when the binary carries no VCS revision."""
    st = (pod.get("status") or {}).get("containerStatuses") or []
    spec = (pod.get("spec") or {}).get("containers") or []
    for ref in [*(str(c.get("imageID") or "") for c in st[:1]),
                *(str(c.get("image") or "") for c in spec[:1])]:  # fmt: skip
        if m := _DIGEST.search(ref):
            return m.group(1)
    return None
