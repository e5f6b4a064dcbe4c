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

import re

from godiag.config import KubernetesConfig
from godiag.errors import CollectError

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
