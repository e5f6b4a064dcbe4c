"""Alerts about pods against a real `godiag serve` with `[kubernetes]` enabled, without a
cluster: the allowlist refuses on arrival, and an accepted pod whose API server cannot
be reached fails its job with that reason (tests/integration/k8s/ has the real cluster)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.integration.serve.harness import ADMIN_H, alert, payload
from tests.servers import free_ports

pytestmark = pytest.mark.integration


def test_pod_alerts_are_refused_outside_the_allowlist(serve_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (dead,) = free_ports(1)  # nothing listens there: the API server is down
    kc = tmp_path / "kubeconfig"
    kc.write_text(f"""apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {{server: "https://127.0.0.1:{dead}", insecure-skip-tls-verify: true}}
users: [{{name: u, user: {{token: not-a-real-token}}}}]
contexts: [{{name: x, context: {{cluster: c, user: u}}}}]
current-context: x
""")  # fmt: skip
    sp = serve_factory({}, tail=f"""[kubernetes]
enabled = true
kubeconfig = "{kc}"
namespaces = ["shop"]
default_port = 6060
""")  # fmt: skip
    labels = {"alertname": "GoGoroutinesHigh", "severity": "warning"}
    body = payload([
        alert("00000000000000b1", {**labels, "namespace": "shop", "pod": "api-7d9f"}),
        alert("00000000000000b2", {**labels, "namespace": "kube-system", "pod": "etcd-0"}),
    ])  # fmt: skip
    r = httpx.post(f"{sp.url}/api/v1/alerts", content=body, headers=ADMIN_H, timeout=20)
    assert r.status_code == 202 and r.json()["accepted"] == 2
    items = {i["labels"]["namespace"]: i for i in sp.wait_state({"failed", "skipped"}, 60)}
    refused = items["kube-system"]
    assert refused["state"] == "skipped" and refused["target"] is None
    assert refused["note"] == (
        "refused: namespace 'kube-system' is not in the [kubernetes] namespaces allowlist (shop)"
    )
    ours = items["shop"]
    assert ours["target"] == "k8s://shop/api-7d9f:6060"
    assert ours["state"] == "failed"
    assert f"127.0.0.1:{dead}" in ours["error"], ours["error"]
