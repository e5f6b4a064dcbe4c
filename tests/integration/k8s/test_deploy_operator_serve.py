"""The Helm chart, `godiag operator` and `godiag serve` on a real kube-apiserver + etcd
(tests/k8s.py), with the identities the chart makes.

The chart's rendered manifests are applied with server-side apply (PATCH
application/apply-patch+yaml), the API server's authorizer is asked what each
ServiceAccount may do, and then the operator and serve run as those ServiceAccounts
(tokens from the TokenRequest API), so a rule missing from the chart fails here. A
scenario program (ledger, a deadlock) runs at the pod IP; godiag reaches it only through
the API server's pod proxy.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.test_deploy_chart import helm_path
from tests.k8s import Cluster, _kubeconfig
from tests.scenario_probe import PROGRAMS, binary

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
CHART = REPO / "deploy" / "helm" / "godiag"
SYS = "godiag-system"  # the chart's release namespace
NS = "warehouse"  # the pods' namespace, the only one the chart's RBAC opens
PORT = 6071
DIGEST = "sha256:" + "5e" * 32  # what a kubelet reports as the running image's imageID
PROGRAM = next(p for p in PROGRAMS if p["name"] == "ledger")
GROUP = "/apis/godiag.dev/v1alpha1"
WAIT = 240.0  # seconds a diagnosis may take on a loaded 2-core machine, at most
# kind -> (API path prefix, namespaced, plural)
KINDS = {
    "CustomResourceDefinition": ("/apis/apiextensions.k8s.io/v1", False,
                                 "customresourcedefinitions"),
    "ServiceAccount": ("/api/v1", True, "serviceaccounts"),
    "ConfigMap": ("/api/v1", True, "configmaps"),
    "Service": ("/api/v1", True, "services"),
    "Deployment": ("/apis/apps/v1", True, "deployments"),
    "Role": ("/apis/rbac.authorization.k8s.io/v1", True, "roles"),
    "RoleBinding": ("/apis/rbac.authorization.k8s.io/v1", True, "rolebindings"),
    "ClusterRole": ("/apis/rbac.authorization.k8s.io/v1", False, "clusterroles"),
    "ClusterRoleBinding": ("/apis/rbac.authorization.k8s.io/v1", False, "clusterrolebindings"),
}  # fmt: skip


def _path(obj: dict[str, Any]) -> str:
    prefix, namespaced, plural = KINDS[obj["kind"]]
    ns = f"/namespaces/{obj['metadata']['namespace']}" if namespaced else ""
    return f"{prefix}{ns}/{plural}/{obj['metadata']['name']}"


@pytest.fixture(scope="module")
def chart(k8s_cluster: Cluster) -> Iterator[Cluster]:
    """The chart rendered and applied (server-side apply), then the service in its pods."""
    helm = helm_path()
    if helm is None:
        pytest.skip("helm not found (make helm-bin builds it into .cache/k8s/bin)")
    c = k8s_cluster
    out = subprocess.run(
        [helm, "template", "gd", str(CHART), "--namespace", SYS, "--include-crds",
         "--set", f"rbac.namespaces={{{NS}}}", "--set", "kubernetes.selectors={app=ledger}"],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    objs = [d for d in yaml.safe_load_all(out.stdout) if d]
    c.ensure_namespace(SYS)
    c.ensure_namespace(NS)
    crds = [o for o in objs if o["kind"] == "CustomResourceDefinition"]
    for o in crds + [o for o in objs if o not in crds]:  # the CRD first, as helm does
        st, doc = c.api("PATCH", _path(o) + "?fieldManager=godiag-test&force=true", o,
                        content_type="application/apply-patch+yaml")  # fmt: skip
        assert st in (200, 201), f"apply {o['kind']}/{o['metadata']['name']}: {st} {doc}"
    c.applied = objs  # type: ignore[attr-defined]
    end = time.monotonic() + 60
    while time.monotonic() < end:  # the CRD is served once Established
        crd = c.must("GET", _path(crds[0]))
        conds = {x["type"]: x["status"] for x in crd.get("status", {}).get("conditions", [])}
        if conds.get("Established") == "True":
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"CRD not established: {crd.get('status')}")
    proc = c.start_go(binary(PROGRAM), ["-intensity", "medium", "-lifetime", "600s"], PORT)
    try:
        c.create_pod(NS, "ledger-0", labels={"app": "ledger"}, ports={"pprof": PORT},
                     image_id=f"example.test/godiag-scenario@{DIGEST}")  # fmt: skip
        c.create_pod(NS, "cache-0", labels={"app": "cache"}, ports={"pprof": PORT})
        c.create_pod("kube-system", "etcd-node-1", labels={"app": "ledger"}, ports={"pprof": PORT})
        time.sleep(6.0)  # the deadlock builds up under the program's own load
        yield c
    finally:
        proc.close()


def _review(c: Cluster, sa: str, verb: str, resource: str, ns: str, group: str = "",
            sub: str = "") -> bool:  # fmt: skip
    doc = c.must("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
        "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
        "spec": {"user": f"system:serviceaccount:{SYS}:{sa}",
                 "groups": ["system:serviceaccounts", f"system:serviceaccounts:{SYS}",
                            "system:authenticated"],
                 "resourceAttributes": {"namespace": ns, "verb": verb, "group": group,
                                        "resource": resource, "subresource": sub}},
    })  # fmt: skip
    return bool(doc["status"].get("allowed"))


def test_the_chart_applies_and_grants_only_what_godiag_needs(chart: Cluster) -> None:
    c = chart
    for o in c.applied:  # type: ignore[attr-defined]
        got = c.must("GET", _path(o))
        assert got["metadata"]["name"] == o["metadata"]["name"]
        assert "godiag-test" in json.dumps(got["metadata"].get("managedFields", []))
    op, sv = "gd-godiag-operator", "gd-godiag-serve"
    allowed = [
        (op, "watch", "godiagnoses", NS, "godiag.dev", ""),
        (op, "patch", "godiagnoses", NS, "godiag.dev", "status"),
        (op, "get", "pods", NS, "", "proxy"),
        (sv, "list", "pods", NS, "", ""),
        (sv, "get", "pods", NS, "", "proxy"),
    ]
    denied = [
        (op, "get", "secrets", NS, "", ""),
        (op, "create", "events", NS, "", ""),
        (op, "delete", "godiagnoses", NS, "godiag.dev", ""),
        (op, "get", "pods", "kube-system", "", "proxy"),
        (op, "create", "pods", NS, "", "exec"),
        (sv, "get", "godiagnoses", NS, "godiag.dev", ""),
        (sv, "get", "pods", "kube-system", "", ""),
        (sv, "create", "pods", NS, "", "portforward"),
    ]
    for sa, verb, res, ns, group, sub in allowed:
        assert _review(c, sa, verb, res, ns, group, sub), (sa, verb, res, sub, ns)
    for sa, verb, res, ns, group, sub in denied:
        assert not _review(c, sa, verb, res, ns, group, sub), (sa, verb, res, sub, ns)


def _token_kubeconfig(c: Cluster, sa: str) -> Path:
    tok = c.must("POST", f"/api/v1/namespaces/{SYS}/serviceaccounts/{sa}/token",
                 {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                  "spec": {"expirationSeconds": 3600}})  # fmt: skip
    return _kubeconfig(c.dir / f"{sa}.kubeconfig", {"token": tok["status"]["token"]}, c.ca_file, sa)


def _spawn(c: Cluster, args: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A godiag process of this checkout inside the cluster's network namespace."""
    path = os.pathsep.join([str(REPO / "src"), str(REPO), *sys.path[1:]])  # kopf from this env
    full = {**{k: v for k, v in os.environ.items() if k not in ("GODIAG_CONFIG", "KUBECONFIG")},
            "PYTHONPATH": path, "HOME": str(c.dir / "home"), "NO_COLOR": "1", **env}  # fmt: skip
    fh = open(log, "ab")  # noqa: SIM115 - kept open for the child's lifetime
    return subprocess.Popen(
        [shutil.which("nsenter") or "nsenter", "-t", str(c.netns_pid), "-n", "--",
         sys.executable, "-m", "godiag", *args],
        stdout=fh, stderr=subprocess.STDOUT, env=full, start_new_session=True,
    )  # fmt: skip


def _stop(p: subprocess.Popen[bytes]) -> None:
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(10)


def _wait_status(c: Cluster, name: str, log: Path) -> dict[str, Any]:
    end = time.monotonic() + WAIT
    while time.monotonic() < end:
        obj = c.must("GET", f"{GROUP}/namespaces/{NS}/godiagnoses/{name}")
        st = obj.get("status") or {}
        if st.get("phase") in ("Done", "Failed"):
            return obj
        time.sleep(1.0)
    raise AssertionError(f"{name}: no answer: {obj.get('status')}\n{log.read_text()[-3000:]}")


def _godiagnosis(c: Cluster, name: str, target: dict[str, Any]) -> None:
    c.must("POST", f"{GROUP}/namespaces/{NS}/godiagnoses", {
        "apiVersion": "godiag.dev/v1alpha1", "kind": "GoDiagnosis",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"target": target, "window": "3s"},
    })  # fmt: skip


def test_the_operator_answers_a_godiagnosis_as_the_charts_service_account(chart: Cluster) -> None:
    c = chart
    kubeconfig = _token_kubeconfig(c, "gd-godiag-operator")
    log = c.dir / "operator.log"
    proc = _spawn(c, ["operator", "--kubeconfig", str(kubeconfig), "--namespace", NS], log, {})
    try:
        _godiagnosis(c, "ledger-deadlock", {"pod": "ledger-0", "port": PORT})
        _godiagnosis(c, "by-selector", {"selector": "app=ledger", "port": PORT})
        _godiagnosis(c, "nobody", {"selector": "app=absent", "port": PORT})
        obj = _wait_status(c, "ledger-deadlock", log)
        st = obj["status"]
        assert st["phase"] == "Done", st
        _answers_the_deadlock(st)
        assert st["target"] == f"k8s://{NS}/ledger-0:{PORT}"
        assert st["observedGeneration"] == obj["metadata"]["generation"]
        conds = {x["type"]: x for x in st["conditions"]}
        reason = "NotSure" if st["verdict"] == "not-sure" else "Diagnosed"
        assert conds["Done"]["status"] == "True" and conds["Done"]["reason"] == reason, conds
        assert conds["Running"]["status"] == "False"
        sel = _wait_status(c, "by-selector", log)["status"]
        assert sel["phase"] == "Done", sel
        _answers_the_deadlock(sel)
        none = _wait_status(c, "nobody", log)["status"]
        assert none["phase"] == "Failed"
        assert "no Running pod" in none["reason"] and "app=absent" in none["reason"]
    finally:
        _stop(proc)


def _answers_the_deadlock(st: dict[str, Any]) -> None:
    """The ledger's deadlock as its diagnosis answers it: the verdict with its location, or
    "not sure" with deadlock among the causes listed. On some runs of a loaded 2-core
    machine the model reads the stuck handlers' inbound connections as a connection-leak
    first (docs/evaluation.md lists such runs of the scenario deadlocks); what this test
    checks, the operator putting the diagnosis's answer in the status, is the same."""
    kinds = [x["kind"] for x in st["causes"]]
    assert 1 <= len(kinds) <= 3, st
    if st["verdict"] == "not-sure":
        assert "deadlock" in kinds, st
        return
    assert st["verdict"] == PROGRAM["kind"] == "deadlock", st
    assert st["probability"] >= 0.5
    assert st["location"]["function"] and st["location"]["line"] > 0
    assert kinds[0] == "deadlock"


def _inside(c: Cluster, code: str) -> Any:
    res = c.run([sys.executable, "-c", code], timeout=60)
    assert res.returncode == 0, res.stderr.decode()[-2000:]
    return json.loads(res.stdout)


def _request(port: int, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> str:
    """Python run inside the namespace: one request, printed as {status, body}."""
    return (
        "import json, urllib.request as u, urllib.error as e\n"
        f"r = u.Request('http://127.0.0.1:{port}{path}', data={body!r}, method={method!r},"
        f" headers={headers!r})\n"
        "try:\n    res = u.urlopen(r, timeout=20); st, raw = res.status, res.read()\n"
        "except e.HTTPError as x:\n    st, raw = x.code, x.read()\n"
        "try:\n    doc = json.loads(raw)\n"
        "except ValueError:\n    doc = raw.decode(errors='replace')\n"
        "print(json.dumps({'status': st, 'body': doc}))\n"
    )


def test_serve_diagnoses_an_alert_about_a_pod_inside_the_allowlist(
    chart: Cluster, tmp_path: Path
) -> None:
    from tests.integration.serve.harness import ADMIN, READER, alert, payload

    c = chart
    kubeconfig = _token_kubeconfig(c, "gd-godiag-serve")
    port = 18089
    conf = tmp_path / "godiag.toml"
    conf.write_text(f"""
[store]
path = "{tmp_path / "store"}"
[serve]
listen = "127.0.0.1:{port}"
window_seconds = 3
[[serve.credentials]]
role = "admin"
bearer = "{ADMIN}"
[[serve.credentials]]
role = "read"
username = "{READER[0]}"
password = "{READER[1]}"
[kubernetes]
enabled = true
kubeconfig = "{kubeconfig}"
namespaces = ["{NS}"]
selectors = ["app=ledger"]
default_port = {PORT}
""")
    log = tmp_path / "serve.log"
    proc = _spawn(c, ["serve", "--config", str(conf)], log, {})
    admin = {"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"}
    import base64

    read = {"Authorization": "Basic " + base64.b64encode(":".join(READER).encode()).decode()}
    try:
        end = time.monotonic() + 60
        while True:
            res = c.run([sys.executable, "-c", _request(port, "GET", "/healthz", None, {})],
                        timeout=30)  # fmt: skip
            if res.returncode == 0:
                break
            assert proc.poll() is None and time.monotonic() < end, log.read_text()[-2000:]
            time.sleep(0.5)
        labels = {"alertname": "GoGoroutinesHigh", "severity": "warning"}
        body = payload([
            alert("a1", {**labels, "namespace": NS, "pod": "ledger-0"}),
            alert("a2", {**labels, "namespace": "kube-system", "pod": "etcd-node-1"}),
            alert("a3", {**labels, "namespace": NS, "pod": "cache-0"}),
        ])  # fmt: skip
        posted = _inside(c, _request(port, "POST", "/api/v1/alerts", body, admin))
        assert posted["status"] == 202 and posted["body"]["accepted"] == 3, posted
        end = time.monotonic() + WAIT
        while True:
            listed = _inside(c, _request(port, "GET", "/api/v1/incidents", None, read))
            items = {i["target"] or i["id"]: i for i in listed["body"]["incidents"]}
            if all(i["state"] in ("done", "failed", "skipped") for i in items.values()):
                break
            assert time.monotonic() < end, (items, log.read_text()[-3000:])
            time.sleep(1.0)
        ours = items[f"k8s://{NS}/ledger-0:{PORT}"]
        assert ours["state"] == "done", ours
        one = _inside(c, _request(port, "GET", f"/api/v1/incidents/{ours['id']}", None, read))
        inc = one["body"]
        assert inc["causes"][0]["kind"] == "deadlock"
        # the diagnosis is stored with the incident (the queue's database) ...
        assert inc["has_report"] and inc["report"]["document"]["schema"] == "godiag.diagnosis/v1"
        # ... and its captures: the scenario binary carries no VCS revision, the running
        # image's digest (status imageID) identifies the build instead
        stored = inc["report"]["document"]["store"]
        assert stored["missing"] == [] and stored["stored"] > 0, stored
        assert inc["report"]["document"]["artifacts"], stored
        assert inc["report"]["document"]["kubernetes"]["pod"] == "ledger-0"
        refused = [i for i in items.values() if i["state"] == "skipped"]
        assert len(refused) == 1 and "kube-system" in refused[0]["note"]
        assert "not in the [kubernetes] namespaces allowlist" in refused[0]["note"]
        cache = items[f"k8s://{NS}/cache-0:{PORT}"]
        assert cache["state"] == "failed"
        assert "matches none of the [kubernetes] selectors" in (cache.get("error") or ""), cache
    finally:
        _stop(proc)
