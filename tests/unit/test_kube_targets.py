"""k8s:// targets: parsing, kubeconfig loading (as kubectl finds it), port discovery, the
pod-proxy URL shapes the collectors see, and the sibling reference line. The live side
(a real API server) is tests/integration/k8s/."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from godiag.collect.goroutines import goroutine_url
from godiag.collect.http import HttpClient
from godiag.collect.kube import kubeconfig
from godiag.collect.kube.api import ssl_context
from godiag.collect.kube.pods import (
    PodEndpoint,
    PodRef,
    _pod_port,
    parse,
    proxy_base,
    selector_query,
)
from godiag.errors import CollectError, ConfigError, UsageError
from godiag.pipeline.pods import reference_line
from godiag.pipeline.storing import base_of

PROXY = "https://10.0.0.1:6443/api/v1/namespaces/shop/pods/web-1:6060/proxy"


# ---- targets
@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("k8s://shop/web-1", PodRef("shop", "web-1")),
        ("k8s://shop/web-1:6060", PodRef("shop", "web-1", "pod", "6060")),
        ("k8s://shop/web-1:pprof", PodRef("shop", "web-1", "pod", "pprof")),
        ("k8s://shop/deployment/web", PodRef("shop", "web", "deployment")),
        ("k8s://shop/Deployment/web:9090", PodRef("shop", "web", "deployment", "9090")),
        ("k8s://kube-system/daemonset/node-agent", PodRef("kube-system", "node-agent",
                                                          "daemonset")),
    ],
)  # fmt: skip
def test_targets_parse(text: str, want: PodRef) -> None:
    assert parse(text) == want
    assert str(parse(str(want))) == str(want)  # round trip


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("k8s://shop", "expected k8s://NAMESPACE/POD"),
        ("k8s://shop/", "expected k8s://NAMESPACE/POD"),
        ("k8s://shop/a/b/c", "expected k8s://NAMESPACE/POD"),
        ("k8s://shop/cronjob/x", "'cronjob' is not one of"),
        ("k8s://Shop/web", "namespace 'Shop' is not a Kubernetes name"),
        ("k8s://shop/web_1", "name 'web_1' is not a Kubernetes name"),
        ("k8s://shop/web:0", "port '0'"),
        ("k8s://shop/web:70000", "port '70000'"),
        ("k8s://shop/web:no_such", "port 'no_such'"),
    ],
)
def test_bad_targets_are_one_usage_line(text: str, says: str) -> None:
    with pytest.raises(UsageError, match=says.replace("(", r"\(")):
        parse(text)


# ---- the URLs collectors see
def test_the_proxy_base_is_kept_where_a_service_root_is_asked() -> None:
    assert proxy_base(PROXY) == PROXY
    assert proxy_base(PROXY + "/debug/pprof/heap?gc=1") == PROXY
    assert proxy_base("https://10.0.0.1:6443/api/v1/namespaces/shop/pods/web-1") is None
    assert proxy_base("http://svc:6060/debug/pprof/") is None
    # service metadata is read from the pod's /metrics, never the API server's own
    assert base_of(PROXY + "/debug/pprof/goroutine") == PROXY
    assert base_of("http://svc:6060/debug/pprof/goroutine") == "http://svc:6060"


def test_goroutine_urls_under_the_proxy() -> None:
    assert goroutine_url(PROXY, 2) == PROXY + "/debug/pprof/goroutine?debug=2"
    assert goroutine_url(PROXY + "/", 1) == PROXY + "/debug/pprof/goroutine?debug=1"
    assert goroutine_url(PROXY + "/debug/pprof/goroutine?debug=1", 2) == (
        PROXY + "/debug/pprof/goroutine?debug=2"
    )
    assert goroutine_url("http://svc:6060", 2) == "http://svc:6060/debug/pprof/goroutine?debug=2"


# ---- ports
def _pod(annotations: dict[str, str] | None = None, ports: dict[str, int] | None = None) -> Any:
    return {
        "metadata": {"name": "web-1", "annotations": annotations or {}},
        "spec": {"containers": [
            {"name": "app", "ports": [{"name": n, "containerPort": p}
                                      for n, p in (ports or {}).items()]},
        ]},
    }  # fmt: skip


REF = PodRef("shop", "web-1")


def test_port_order_target_then_annotations_then_named_ports() -> None:
    pod = _pod({"godiag.dev/port": "7070", "prometheus.io/port": "9090"},
               {"http": 8080, "metrics": 9090, "pprof": 6060})  # fmt: skip
    assert _pod_port(pod, "1234", REF) == 1234
    assert _pod_port(pod, "http", REF) == 8080
    assert _pod_port(pod, None, REF) == 7070
    pod["metadata"]["annotations"].pop("godiag.dev/port")
    assert _pod_port(pod, None, REF) == 9090
    pod["metadata"]["annotations"].clear()
    assert _pod_port(pod, None, REF) == 6060
    assert _pod_port(_pod(None, {"http": 8080, "metrics": 9100}), None, REF) == 9100
    assert _pod_port(_pod({"godiag.dev/port": "debug"}, {"debug": 6061}), None, REF) == 6061


def test_no_port_is_one_sentence_saying_how_to_give_one() -> None:
    with pytest.raises(CollectError, match=r"k8s://shop/web-1:PORT.*godiag.dev/port"):
        _pod_port(_pod(None, {"grpc": 9000}), None, REF)
    with pytest.raises(CollectError, match="no container port named 'pprof'"):
        _pod_port(_pod(), "pprof", REF)
    with pytest.raises(CollectError, match=r"annotation godiag\.dev/port='x'"):
        _pod_port(_pod({"godiag.dev/port": "x"}), None, REF)


def test_selector_query() -> None:
    sel = {"matchLabels": {"app": "web", "tier": "front"},
           "matchExpressions": [{"key": "env", "operator": "In", "values": ["a", "b"]},
                                {"key": "canary", "operator": "DoesNotExist"}]}  # fmt: skip
    q = selector_query(sel)
    from urllib.parse import unquote

    assert unquote(q) == "labelSelector=app=web,tier=front,env in (a,b),!canary"


def test_pod_metadata_for_captures() -> None:
    ep = PodEndpoint(PROXY, HttpClient(), "shop", "web-7d9c8-abcde", 6060,
                     "ReplicaSet/web-7d9c8", "uid", ("registry.test/web:1.2",),
                     {"pod-template-hash": "7d9c8"})  # fmt: skip
    meta = ep.meta()
    assert meta.service_name == "web"  # the Deployment's name, not its ReplicaSet's
    assert meta.tags == {"k8s.namespace.name": "shop", "k8s.pod.name": "web-7d9c8-abcde",
                         "k8s.owner": "ReplicaSet/web-7d9c8",
                         "container.image.name": "registry.test/web:1.2"}  # fmt: skip
    labelled = PodEndpoint(PROXY, HttpClient(), "shop", "p", 1, labels={"app": "cart"})
    assert labelled.meta().service_name == "cart"


def test_reference_line() -> None:
    own = {"pod": "a", "goroutines": 4210.0, "heap_inuse_bytes": 812 * 2**20}
    sibs = [{"pod": "b", "goroutines": 12.0, "heap_inuse_bytes": 40 * 2**20},
            {"pod": "c", "goroutines": 15.0, "heap_inuse_bytes": 44 * 2**20},
            {"pod": "d", "goroutines": None, "heap_inuse_bytes": None, "error": "x"}]  # fmt: skip
    assert reference_line(own, sibs, "ReplicaSet/web-1") == (
        "this pod: 4,210 goroutines, 812 MB heap in use; its 2 siblings (same ReplicaSet): "
        "12–15 goroutines, 40–44 MB heap in use"
    )
    assert "no figure to compare (1 asked, 0 answered)" in reference_line(own, sibs[2:], None)


# ---- kubeconfig
def _config(users: dict[str, Any], current: str | None = "dev", **cluster: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Config", "current-context": current,
        "clusters": [{"name": "c", "cluster": {"server": "https://10.0.0.1:6443/", **cluster}}],
        "users": [{"name": n, "user": u} for n, u in users.items()],
        "contexts": [{"name": n, "context": {"cluster": "c", "user": n, "namespace": "shop"}}
                     for n in users],
    }  # fmt: skip


def _write(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(doc))
    return path


def test_kubeconfig_token_context_and_relative_files(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_bytes(b"CA PEM")
    (tmp_path / "tok").write_text("file-token\n")
    cfg = _write(tmp_path / "config", _config(
        {"dev": {"token": "inline"}, "ops": {"tokenFile": "tok"}},
        **{"certificate-authority": "ca.pem"},
    ))  # fmt: skip
    c = kubeconfig.load(str(cfg), env={})
    assert (c.server, c.context, c.token, c.namespace) == (
        "https://10.0.0.1:6443", "dev", "inline", "shop")  # fmt: skip
    assert c.ca_pem == b"CA PEM"  # relative to the kubeconfig's folder
    assert kubeconfig.load(str(cfg), "ops", env={}).token == "file-token"
    with pytest.raises(ConfigError, match="no context 'prod'"):
        kubeconfig.load(str(cfg), "prod", env={})


def test_kubeconfig_from_env_list_takes_the_first_file_with_the_context(tmp_path: Path) -> None:
    a = _write(tmp_path / "a", _config({"dev": {"token": "a"}}))
    b = _write(tmp_path / "b", _config({"ops": {"token": "b"}}, current=None))
    env = {"KUBECONFIG": f"{tmp_path / 'missing'}:{b}:{a}"}
    assert kubeconfig.load(None, None, env=env).token == "a"  # b has no current-context
    assert kubeconfig.load(None, "ops", env=env).token == "b"
    with pytest.raises(ConfigError, match="has context 'prod'"):
        kubeconfig.load(None, "prod", env=env)


def test_kubeconfig_default_then_in_cluster(tmp_path: Path) -> None:
    home = tmp_path / "home"
    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text("sa-token")
    (sa / "namespace").write_text("shop\n")
    (sa / "ca.crt").write_bytes(b"CA")
    env = {"KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"}
    c = kubeconfig.load(None, None, env=env, sa_dir=sa, home=home)
    assert (c.server, c.token, c.namespace, c.ca_pem, c.context) == (
        "https://[fd00::1]:443", "sa-token", "shop", b"CA", "in-cluster")  # fmt: skip
    (home / ".kube").mkdir(parents=True)
    _write(home / ".kube" / "config", _config({"dev": {"token": "home"}}))
    assert kubeconfig.load(None, None, env=env, sa_dir=sa, home=home).token == "home"
    with pytest.raises(ConfigError, match="no Kubernetes configuration"):
        kubeconfig.load(None, None, env={}, sa_dir=sa, home=tmp_path / "nohome")


def test_plugins_are_refused_and_bad_files_are_one_line(tmp_path: Path) -> None:
    cfg = _write(tmp_path / "c", _config({"dev": {"exec": {"command": "aws"}}}))
    with pytest.raises(ConfigError, match="exec plugin, which godiag does not run"):
        kubeconfig.load(str(cfg), env={})
    half = _write(tmp_path / "h", _config({"dev": {"client-certificate-data": "QQ=="}}))
    with pytest.raises(ConfigError, match="needs its key"):
        kubeconfig.load(str(half), env={})
    via_proxy = {"proxy-url": "socks5://127.0.0.1:1080"}
    proxied = _write(tmp_path / "p", _config({"dev": {"token": "t"}}, **via_proxy))
    with pytest.raises(ConfigError, match="proxy-url"):
        kubeconfig.load(str(proxied), env={})
    (tmp_path / "bad").write_text("clusters: [\n")
    with pytest.raises(ConfigError, match="not a valid kubeconfig"):
        kubeconfig.load(str(tmp_path / "bad"), env={})
    with pytest.raises(ConfigError, match="cannot read kubeconfig"):
        kubeconfig.load(str(tmp_path / "none"), env={})


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
def test_inline_client_certificate_loads_and_a_wrong_key_is_refused(tmp_path: Path) -> None:
    def make(name: str) -> tuple[bytes, bytes]:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", f"{name}.key", "-out",
             f"{name}.crt", "-days", "1", "-subj", f"/CN={name}"],
            cwd=tmp_path, check=True, capture_output=True,
        )  # fmt: skip
        return (tmp_path / f"{name}.crt").read_bytes(), (tmp_path / f"{name}.key").read_bytes()

    cert, key = make("me")
    _, other_key = make("other")
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    user = {"client-certificate-data": b64(cert), "client-key-data": b64(key)}
    cfg = _write(tmp_path / "c", _config(
        {"dev": user}, **{"certificate-authority-data": b64(cert)}))  # fmt: skip
    creds = kubeconfig.load(str(cfg), env={})
    assert creds.identity == "client certificate"
    ctx = ssl_context(creds)
    assert ctx.verify_mode.name == "CERT_REQUIRED" and ctx.check_hostname
    assert not list(tmp_path.glob("godiag-kube-*"))  # nothing left behind
    bad = _write(tmp_path / "bad", _config(
        {"dev": {**user, "client-key-data": b64(other_key)}}))  # fmt: skip
    with pytest.raises(ConfigError, match="client certificate"):
        ssl_context(kubeconfig.load(str(bad), env={}))


def test_a_pod_cannot_redirect_its_reader_elsewhere_on_the_api_server() -> None:
    """Same origin is not enough behind the pod proxy: a redirect out of the pod's proxy
    path would read the API server itself with the user's credentials."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            if self.path.startswith("/pod/proxy/debug/pprof/goroutine"):
                self.send_response(302)
                self.send_header("Location", f"http://127.0.0.1:{port}/api/v1/secrets")
            elif self.path.startswith("/pod/proxy/moved"):
                self.send_response(302)
                self.send_header("Location", "/pod/proxy/here")
            else:
                self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = srv.server_address[1]
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{port}/pod/proxy"
        pod = HttpClient(headers={"Authorization": "Bearer t"}, within=base + "/")
        with pytest.raises(CollectError, match=r"redirected out of .*: not followed"):
            pod.get(base + "/debug/pprof/goroutine?debug=2", 5)
        assert "/api/v1/secrets" not in seen
        assert pod.get(base + "/moved", 5).status == 200  # under the pod: followed
        assert HttpClient().get(base + "/debug/pprof/goroutine", 5).status == 200
        assert seen[-1] == "/api/v1/secrets"  # what `within` prevents
    finally:
        srv.shutdown()
        srv.server_close()
