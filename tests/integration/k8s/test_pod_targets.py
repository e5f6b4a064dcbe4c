"""`k8s://` targets on a real kube-apiserver + etcd (tests/k8s.py): a scenario program
runs inside the test's network namespace at the pod IP, and godiag reaches it only
through the API server's pod proxy, as it would a pod of a cluster.

One program (ledger, a deadlock: the same verdict whatever the load) serves every pod of
the module; the pods differ only in how they name its port and who owns them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from godiag import schemas
from tests.k8s import POD_IP, Cluster
from tests.scenario_probe import PROGRAMS, binary

pytestmark = pytest.mark.integration
NS = "shop"
PORT = 6060
WINDOW = "3s"
WARMUP = 6.0  # the deadlock builds up under the program's own load first
PROGRAM = next(p for p in PROGRAMS if p["name"] == "ledger")


@pytest.fixture(scope="module")
def service(k8s_cluster: Cluster) -> Iterator[Cluster]:
    """The scenario program inside the namespace at POD_IP:PORT, and its pods."""
    proc = k8s_cluster.start_go(binary(PROGRAM), ["-intensity", "medium", "-lifetime", "300s"],
                                PORT)  # fmt: skip
    try:
        assert proc.url == f"http://{POD_IP}:{PORT}"
        c = k8s_cluster
        c.create_pod(NS, "ledger-direct")  # no port anywhere: the target names it
        c.create_pod(NS, "ledger-annotated", annotations={"godiag.dev/port": str(PORT)},
                     ports={"grpc": 9000})  # fmt: skip
        c.create_pod(NS, "ledger-prom", annotations={"prometheus.io/port": str(PORT)})
        c.create_pod(NS, "ledger-named", ports={"pprof": PORT})
        dep = c.create(NS, "deployments", {
            "metadata": {"name": "ledger", "labels": {"app": "ledger"}},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "ledger"}},
                     "template": {"metadata": {"labels": {"app": "ledger"}},
                                  "spec": {"containers": [{"name": "app",
                                                           "image": "example.test/ledger:v1"}]}}},
        })  # fmt: skip
        labels = {"app": "ledger", "pod-template-hash": "5f7c9"}
        rs = c.create(NS, "replicasets", {
            "metadata": {"name": "ledger-5f7c9", "labels": labels, "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "Deployment", "name": "ledger",
                "uid": dep["metadata"]["uid"], "controller": True}]},
            "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "app",
                                                           "image": "example.test/ledger:v1"}]}}},
        })  # fmt: skip
        for name in ("ledger-5f7c9-aaaaa", "ledger-5f7c9-bbbbb"):
            c.create_pod(NS, name, labels=labels, owner=rs, ports={"metrics": PORT},
                         image="example.test/ledger:v1")  # fmt: skip
        time.sleep(WARMUP)
        yield c
    finally:
        proc.close()


def _json(res: Any) -> Any:
    assert res.returncode in (0, 1), res.stderr.decode()[-2000:]
    return json.loads(res.stdout)


def _docs(text: bytes) -> list[Any]:
    """Concatenated JSON documents (diagnose --all-pods writes one per pod)."""
    dec, s, out = json.JSONDecoder(), text.decode(), []
    i = 0
    while i < len(s):
        if s[i].isspace():
            i += 1
            continue
        doc, i = dec.raw_decode(s, i)
        out.append(doc)
    return out


def _top(doc: dict[str, Any]) -> tuple[str, str | None]:
    top = doc["causes"][0]
    return top["kind"], (top["location"] or {}).get("function")


def test_pod_diagnosis_equals_the_direct_one(service: Cluster) -> None:
    common = ["--window", WINDOW, "--no-store", "--format", "json", "-q"]
    direct = _json(service.godiag("diagnose", f"http://{POD_IP}:{PORT}", *common))
    via = service.godiag("diagnose", f"k8s://{NS}/ledger-direct:{PORT}", *common)
    pod = _json(via)
    schemas.validate(pod)
    assert _top(direct) == _top(pod) == (PROGRAM["kind"], PROGRAM["fault"]["function"])
    assert via.returncode == 1  # a fault, as the direct diagnosis
    assert pod["target"]["url"].endswith(f"/api/v1/namespaces/{NS}/pods/ledger-direct:{PORT}/proxy")
    image = "example.test/godiag-scenario:v1"
    assert pod["kubernetes"] == {"namespace": NS, "pod": "ledger-direct", "port": PORT,
                                 "owner": None, "images": [image]}  # fmt: skip
    assert not pod["missing"], pod["missing"]


def test_without_pods_proxy_one_line_and_exit_2(service: Cluster) -> None:
    for args in (["diagnose", f"k8s://{NS}/ledger-direct:{PORT}", "--window", "1s"],
                 ["goroutines", f"k8s://{NS}/ledger-annotated"]):  # fmt: skip
        res = service.godiag(*args, kubeconfig=service.viewer_kubeconfig)
        err = res.stderr.decode().strip().splitlines()
        assert res.returncode == 2, res.stderr.decode()
        assert len(err) == 1 and "Traceback" not in err[0], err
        assert f"cannot get pods/proxy in namespace {NS}" in err[0], err


def test_goroutines_and_profile_through_the_proxy(service: Cluster) -> None:
    res = service.godiag("goroutines", f"k8s://{NS}/ledger-named", "--format", "json")
    doc = _json(res)
    assert doc["total"] > 10, doc.get("total")
    assert any("ledger" in json.dumps(g) for g in doc["groups"][:10])
    prof = _json(service.godiag("profile", f"k8s://{NS}/ledger-named:pprof", "--type", "heap",
                                "--format", "json"))  # fmt: skip
    assert prof["top"], prof
    assert prof["source"].startswith(f"k8s://{NS}/ledger-named") or "/proxy" in prof["source"]


@pytest.mark.parametrize("pod", ["ledger-annotated", "ledger-prom"])
def test_the_port_comes_from_the_pod_annotation(service: Cluster, pod: str) -> None:
    doc = _json(service.godiag("goroutines", f"k8s://{NS}/{pod}", "--format", "json"))
    assert doc["total"] > 10


def test_a_missing_pod_or_deployment_is_one_sentence(service: Cluster) -> None:
    cases = [(f"k8s://{NS}/no-such-pod", 'pods "no-such-pod" not found'),
             (f"k8s://{NS}/deployment/nope", 'deployments.apps "nope" not found')]  # fmt: skip
    for target, says in cases:
        res = service.godiag("goroutines", target)
        err = res.stderr.decode().strip().splitlines()
        assert res.returncode == 2 and len(err) == 1, err
        assert f"{says} in namespace {NS}" in err[0], err


def test_an_unreachable_port_is_one_sentence(service: Cluster) -> None:
    res = service.godiag("goroutines", f"k8s://{NS}/ledger-direct:6999")
    assert res.returncode == 2
    err = res.stderr.decode().strip().splitlines()
    assert len(err) == 1 and "cannot reach the pod on port 6999" in err[0], err


def test_deployment_resolves_to_a_ready_pod_with_siblings(service: Cluster) -> None:
    res = service.godiag("diagnose", f"k8s://{NS}/deployment/ledger", "--siblings", "3",
                         "--window", WINDOW, "--no-store", "--format", "json", "-q")  # fmt: skip
    doc = _json(res)
    schemas.validate(doc)
    kube = doc["kubernetes"]
    assert (kube["pod"], kube["owner"], kube["port"]) == (
        "ledger-5f7c9-aaaaa", "ReplicaSet/ledger-5f7c9", PORT)  # fmt: skip
    assert doc["target"]["service_name"] == "ledger"
    sib = kube["siblings"]
    assert [s["pod"] for s in sib["others"]] == ["ledger-5f7c9-bbbbb"]
    # the same process behind both pods: the same order of magnitude, read at one moment
    assert sib["pod"]["goroutines"] > 10 and sib["others"][0]["goroutines"] > 10
    assert sib["line"].startswith("this pod: ") and "its 1 sibling (same ReplicaSet)" in sib["line"]
    assert sib["line"] in doc["notes"]
    assert _top(doc)[0] == PROGRAM["kind"]  # the reference never changes the verdict


def test_all_pods_gives_one_document_per_pod(service: Cluster) -> None:
    res = service.godiag("diagnose", f"k8s://{NS}/deployment/ledger", "--all-pods",
                         "--window", "2s", "--no-store", "--format", "json", "-q")  # fmt: skip
    assert res.returncode in (0, 1), res.stderr.decode()[-2000:]
    docs = _docs(res.stdout)
    for doc in docs:
        schemas.validate(doc)
    assert [d["kubernetes"]["pod"] for d in docs] == ["ledger-5f7c9-aaaaa", "ledger-5f7c9-bbbbb"]
    out = service.dir / "all.json"
    res = service.godiag("diagnose", f"k8s://{NS}/deployment/ledger", "--all-pods",
                         "--window", "1s", "--no-store", "-o", str(out), "-q")  # fmt: skip
    assert res.returncode in (0, 1), res.stderr.decode()[-2000:]
    for pod in ("ledger-5f7c9-aaaaa", "ledger-5f7c9-bbbbb"):
        doc = json.loads((service.dir / f"all-{pod}.json").read_text())
        assert doc["kubernetes"]["pod"] == pod
    assert not out.exists()


def test_trace_and_check_through_the_proxy(service: Cluster) -> None:
    page = service.dir / "trace.html"
    res = service.godiag("trace", f"k8s://{NS}/ledger-named", "--duration", "1s",
                         "-o", str(page), "-q")  # fmt: skip
    assert res.returncode == 0, res.stderr.decode()[-2000:]
    raw = page.with_suffix(".pb.gz").read_bytes()
    assert raw[:2] == b"\x1f\x8b" and page.stat().st_size > 1000
    # the deadlocked transfers keep piling up: a leak rule over the window sees them grow or
    # hold, and either way it read two dumps through the proxy
    res = service.godiag("check", f"k8s://{NS}/ledger-annotated", "--rule", "goroutine-leak",
                         "--window", "1s", "--format", "json")  # fmt: skip
    doc = _json(res)
    assert doc["rule"] == "goroutine-leak", doc


def test_an_identity_without_any_grant_cannot_read_the_pod(service: Cluster) -> None:
    nobody = service.service_account_kubeconfig(NS, "nobody")
    res = service.godiag("profile", f"k8s://{NS}/ledger-named", "--type", "heap",
                         kubeconfig=nobody)  # fmt: skip
    err = res.stderr.decode().strip().splitlines()
    assert res.returncode == 2 and len(err) == 1, err
    assert f"cannot get pods in namespace {NS}" in err[0], err
    res = service.godiag("goroutines", f"k8s://{NS}/deployment/ledger", kubeconfig=nobody)
    assert res.returncode == 2
    assert f"cannot get deployments in namespace {NS}" in res.stderr.decode(), res.stderr


def test_a_cluster_ca_that_does_not_match_is_one_line(service: Cluster, tmp_path: Any) -> None:
    import subprocess

    import yaml

    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", "other.key", "-out", "other.crt", "-days", "1",
         "-subj", "/CN=another-ca"],
        cwd=tmp_path, check=True, capture_output=True,
    )  # fmt: skip
    doc = yaml.safe_load(service.admin_kubeconfig.read_text())
    doc["clusters"][0]["cluster"]["certificate-authority"] = str(tmp_path / "other.crt")
    wrong = tmp_path / "wrong-ca.kubeconfig"
    wrong.write_text(yaml.safe_dump(doc))
    res = service.godiag("goroutines", f"k8s://{NS}/ledger-named", kubeconfig=wrong)
    err = res.stderr.decode().strip().splitlines()
    assert res.returncode == 2 and len(err) == 1, err
    assert "TLS error" in err[0] and str(wrong) in err[0], err


def test_the_reports_show_the_pod_and_its_siblings(service: Cluster) -> None:
    page = service.dir / "diag.html"
    args = ["diagnose", f"k8s://{NS}/deployment/ledger", "--siblings", "1", "--window", "2s",
            "--no-store", "-q"]  # fmt: skip
    text = service.godiag(*args)
    assert text.returncode in (0, 1), text.stderr.decode()[-2000:]
    out = text.stdout.decode()
    assert f"pod: {NS}/ledger-5f7c9-aaaaa:{PORT} (ReplicaSet/ledger-5f7c9)" in out, out
    line = next((ln for ln in out.splitlines() if ln.startswith("this pod: ")), "")
    assert "goroutines" in line and "; its 1 sibling (same ReplicaSet): " in line, out
    html = service.godiag(*args, "-o", str(page))
    assert html.returncode in (0, 1), html.stderr.decode()[-2000:]
    body = page.read_text()
    assert 'id="siblings"' in body and "its 1 sibling (same ReplicaSet)" in body


REDIRECTOR = """
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

class H(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(302)
        self.send_header("Location", sys.argv[2])
        self.send_header("Content-Length", "0")
        self.end_headers()

HTTPServer((sys.argv[1], 7070), H).serve_forever()
"""


def test_a_pod_cannot_send_godiag_elsewhere_on_the_api_server(service: Cluster) -> None:
    """The proxy rewrites a pod's redirects to the host the client asked into the pod's
    proxy path, comparing host:port as strings; another spelling of the same origin (a
    port with a leading zero) passes through, and followed with the user's credentials it
    would read the cluster (secrets). godiag follows redirects only under the pod's path."""
    import os
    import signal
    import sys
    from urllib.parse import urlsplit

    api = urlsplit(service.server)
    secrets = f"https://{api.hostname}:0{api.port}/api/v1/namespaces/kube-system/secrets"
    proc = service.spawn("redirector", [sys.executable, "-c", REDIRECTOR, POD_IP, secrets])
    try:
        service.create_pod(NS, "redirector", annotations={"godiag.dev/port": "7070"})
        time.sleep(1.0)
        res = service.godiag("goroutines", f"k8s://{NS}/redirector")
        err = res.stderr.decode().strip().splitlines()
        assert res.returncode == 2 and len(err) == 1, err
        assert "redirected out of" in err[0] and "not followed" in err[0], err
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def test_stored_captures_carry_the_pod(service: Cluster) -> None:
    """--store: the pod's namespace, name, owner and image are the artifacts' tags, the
    Deployment's name their service (the local store lives in the run's own home)."""
    pod = "ledger-5f7c9-bbbbb"
    # the scenario build stamps no commit: given, as a deployment would
    build = ["--go-version", "go1.26.0", "--build-commit", "0123456789ab", "--store", "-q"]
    res = service.godiag("goroutines", f"k8s://{NS}/{pod}", *build)
    assert res.returncode == 0, res.stderr.decode()[-2000:]
    res = service.godiag("profile", f"k8s://{NS}/{pod}", "--type", "heap", *build)
    assert res.returncode == 0, res.stderr.decode()[-2000:]
    listed = _json(service.godiag("store", "ls", "--tag", f"k8s.pod.name={pod}",
                                  "--format", "json"))  # fmt: skip
    arts = listed["artifacts"] if isinstance(listed, dict) else listed
    assert sorted(a["profile_type"] for a in arts) == ["goroutine", "heap"], arts
    pod_tags = {"k8s.namespace.name": NS, "k8s.pod.name": pod,
                "k8s.owner": "ReplicaSet/ledger-5f7c9",
                "container.image.name": "example.test/ledger:v1"}  # fmt: skip
    for a in arts:
        assert a["service_name"] == "ledger"
        assert {k: a["tags"].get(k) for k in pod_tags} == pod_tags, a  # and what /metrics says


def test_statefulset_siblings_despite_per_pod_labels(service: Cluster) -> None:
    """A StatefulSet labels each pod with its own name and index: siblings are found by the
    labels they share and the controller's uid."""
    c = service
    sts = c.create(NS, "statefulsets", {
        "metadata": {"name": "cache"},
        "spec": {"serviceName": "cache", "replicas": 2,
                 "selector": {"matchLabels": {"app": "cache"}},
                 "template": {"metadata": {"labels": {"app": "cache"}},
                              "spec": {"containers": [{"name": "app",
                                                       "image": "example.test/cache:v2"}]}}},
    })  # fmt: skip
    for i in (0, 1):
        labels = {"app": "cache", "statefulset.kubernetes.io/pod-name": f"cache-{i}",
                  "apps.kubernetes.io/pod-index": str(i)}  # fmt: skip
        c.create_pod(NS, f"cache-{i}", labels=labels, owner=sts, ports={"http": PORT},
                     image="example.test/cache:v2")  # fmt: skip
    doc = _json(c.godiag("diagnose", f"k8s://{NS}/statefulset/cache", "--siblings", "5",
                         "--window", "2s", "--no-store", "--format", "json", "-q"))  # fmt: skip
    kube = doc["kubernetes"]
    assert (kube["pod"], kube["owner"]) == ("cache-0", "StatefulSet/cache")
    assert [s["pod"] for s in kube["siblings"]["others"]] == ["cache-1"]
    assert "(same StatefulSet)" in kube["siblings"]["line"]
