"""A real Kubernetes control plane (etcd + kube-apiserver) in a private network namespace.

Built by `make k8s-bins` (tools/k8s-bins.sh) into .cache/k8s/bin/. Without the binaries,
without root or without `unshare`/`nsenter`/`ip`/`openssl`, the fixture skips with the reason.

How it works: `unshare -n sleep infinity` holds a new network namespace (nothing of it
reaches the host's network); every process of the cluster, every Go service and every
godiag command runs in it through `nsenter -t PID -n`. Inside, loopback is up and carries
192.0.2.10/32 (POD_IP) and 192.0.2.1/32 (API_IP): the API server's pod proxy refuses
loopback pod IPs, so pods get POD_IP and services listen on POD_IP:PORT; the API server
listens on API_IP:6443, an address of its own as in a cluster (the proxy rewrites a pod's
redirects to the pod's own host:port, so one shared address would hide what a redirect to
the API server does). No kubelet, no controller-manager: pods are
created with spec.nodeName set and their status is patched to Running/Ready with POD_IP;
namespaces get their `default` ServiceAccount from the fixture.

Fixture API (import the fixture into a conftest: `from tests.k8s import k8s_cluster`):

- `k8s_cluster` (session scope) -> `Cluster`, with:
  - `admin_kubeconfig`: Path; client certificate of group system:masters (files on disk);
  - `viewer_kubeconfig`: Path; bearer token of ServiceAccount `godiag-test/viewer`, which may
    get/list/watch pods, replicasets, deployments, but not pods/proxy (the RBAC case);
  - `service_account_kubeconfig(ns, name, rules=None, cluster_wide=False)` -> Path: a
    kubeconfig with the token of ServiceAccount ns/name (made if missing), granted `rules`
    (RBAC PolicyRules) by a Role in ns, or a ClusterRole when cluster_wide;
  - `server`: SERVER, "https://192.0.2.1:6443"; `ca_file`: Path of the cluster CA;
  - `api(method, path, body=None, content_type=...)` -> (status, dict) as admin;
  - `ensure_namespace(ns)`: the namespace and its `default` ServiceAccount;
  - `create_pod(ns, name, *, ports={name: port}, annotations={}, labels={},
    owner=None (an object dict from api(), made the pod's controller), image=...)` ->
    the pod as stored after its status was patched to Running/Ready at POD_IP;
  - `create(ns, plural, body, group="apps/v1")` -> the created object (ReplicaSets,
    Deployments, ...);
  - `start_go(binary, args, port)` -> tests.gohelpers.GoProcess running inside the
    namespace at POD_IP:port (`-addr` is added); close it in the test;
  - `run(args, timeout=..., env=None, input=None)` -> CompletedProcess inside the namespace;
  - `spawn(name, args)` -> Popen of a long-running process inside the namespace (output in
    `dir/NAME.log`; killed with the cluster, or kill its process group yourself);
  - `godiag(*args, kubeconfig=None, timeout=...)` -> CompletedProcess of `python -m godiag`
    run inside the namespace from this checkout (KUBECONFIG set to `kubeconfig`, or
    admin's; an empty config and store so nothing of the user's is read);
  - `netns_pid`: the namespace holder's PID, for `nsenter -t PID -n` of your own.
- `POD_IP`, `API_IP`, `API_PORT`, `SERVER`, `BIN` (module constants) and `missing()` (why
  the cluster cannot start, or None).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.gohelpers import REPO, GoProcess

BIN = REPO / ".cache" / "k8s" / "bin"
POD_IP = "192.0.2.10"
API_IP = "192.0.2.1"
API_PORT = 6443
SERVER = f"https://{API_IP}:{API_PORT}"
START_TIMEOUT = 120.0  # a loaded 2-core machine takes 10-40 s to bring the API server up
TOOLS = ("unshare", "nsenter", "ip", "openssl")


def missing() -> str | None:
    """Why the cluster cannot run here, or None."""
    for b in ("etcd", "kube-apiserver"):
        if not os.access(BIN / b, os.X_OK):
            return f"{BIN / b} missing (run `make k8s-bins`)"
    if os.geteuid() != 0:
        return "needs root for a private network namespace (unshare -n)"
    for t in TOOLS:
        if shutil.which(t) is None:
            return f"`{t}` not installed"
    return None


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _make_pki(d: Path) -> None:
    """A CA, the API server's certificate (for API_IP), client certs, the SA signing key."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
             "-subj", "/CN=godiag-test-ca", cwd=d)  # fmt: skip
    (d / "server.ext").write_text(
        f"subjectAltName=IP:{API_IP},IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,"
        "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\n"
        "extendedKeyUsage=serverAuth\n"
    )
    (d / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    for name, subj, ext in (
        ("server", "/CN=kube-apiserver", "server.ext"),
        ("admin", "/O=system:masters/CN=godiag-admin", "client.ext"),
    ):
        _openssl("req", "-new", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr",
                 "-subj", subj, cwd=d)  # fmt: skip
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", f"{name}.crt",
                 cwd=d)  # fmt: skip
    _openssl("genrsa", "-out", "sa.key", "2048", cwd=d)
    _openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=d)


def _kubeconfig(path: Path, user: dict[str, Any], ca: Path, name: str) -> Path:
    import yaml

    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "test", "cluster": {"server": SERVER,
                                                   "certificate-authority": str(ca)}}],
        "users": [{"name": name, "user": user}],
        "contexts": [{"name": name, "context": {"cluster": "test", "user": name}}],
        "current-context": name,
    }  # fmt: skip
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


class Cluster:
    """The running control plane (see the module's doc for what tests use)."""

    pki: Path
    ca_file: Path
    admin_kubeconfig: Path
    viewer_kubeconfig: Path

    def __init__(self, work: Path) -> None:
        self.dir = work
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: dict[str, Path] = {}
        self.server = SERVER
        self.holder: subprocess.Popen[bytes] | None = None
        self.netns_pid = 0

    def start(self) -> None:
        work = self.dir
        self.holder = subprocess.Popen(
            ["unshare", "-n", "sleep", "infinity"], start_new_session=True
        )
        self.netns_pid = self.holder.pid
        self._wait_netns()
        self.run(["ip", "link", "set", "lo", "up"], check=True)
        for ip in (POD_IP, API_IP):
            self.run(["ip", "addr", "add", f"{ip}/32", "dev", "lo"], check=True)
        pki = work / "pki"
        pki.mkdir()
        _make_pki(pki)
        self.pki = pki
        self.ca_file = pki / "ca.crt"
        self.admin_kubeconfig = _kubeconfig(
            work / "admin.kubeconfig",
            {"client-certificate": str(pki / "admin.crt"), "client-key": str(pki / "admin.key")},
            self.ca_file,
            "admin",
        )
        self._start_etcd()
        self._start_apiserver()
        self.viewer_kubeconfig = self._viewer()

    # ---- processes inside the namespace
    def _wait_netns(self) -> None:
        end = time.monotonic() + 10
        me = os.readlink("/proc/self/ns/net")
        while time.monotonic() < end:
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{self.netns_pid}/ns/net") != me:
                    return
            if self.holder is None or self.holder.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError("unshare -n did not make a network namespace")

    def _enter(self) -> list[str]:
        return ["nsenter", "-t", str(self.netns_pid), "-n", "--"]

    def run(
        self,
        args: list[str],
        *,
        timeout: float = 60,
        env: dict[str, str] | None = None,
        input: bytes | None = None,
        check: bool = False,
    ) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [*self._enter(), *args], capture_output=True, timeout=timeout, env=env,
            input=input, check=check,
        )  # fmt: skip

    def spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = self.dir / f"{name}.log"
        self.logs[name] = log
        with log.open("wb") as f:
            p = subprocess.Popen(
                [*self._enter(), *args], stdout=f, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.procs.append(p)
        return p

    def _tail(self, name: str, n: int = 40) -> str:
        try:
            lines = self.logs[name].read_text(errors="replace").splitlines()
        except (KeyError, OSError):
            return ""
        return "\n".join(lines[-n:])

    def _wait(self, name: str, proc: subprocess.Popen[bytes], ready: Any) -> None:
        end = time.monotonic() + START_TIMEOUT
        while time.monotonic() < end:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited ({proc.returncode}):\n{self._tail(name)}")
            if ready():
                return
            time.sleep(0.3)
        raise RuntimeError(f"{name} not ready in {START_TIMEOUT:g}s:\n{self._tail(name)}")

    def _start_etcd(self) -> None:
        data = self.dir / "etcd"
        p = self.spawn("etcd", [
            str(BIN / "etcd"), "--name", "default", "--data-dir", str(data),
            "--listen-client-urls", "http://127.0.0.1:2379",
            "--advertise-client-urls", "http://127.0.0.1:2379",
            "--listen-peer-urls", "http://127.0.0.1:2380",
            "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
            "--initial-cluster", "default=http://127.0.0.1:2380",
            "--unsafe-no-fsync", "--log-level", "warn",
        ])  # fmt: skip
        health = "http://127.0.0.1:2379/health"
        code = f"import urllib.request as u; print(u.urlopen({health!r}, timeout=2).read())"
        probe = [sys.executable, "-c", code]
        self._wait("etcd", p, lambda: b'"health":"true"' in self.run(probe, timeout=10).stdout)

    def _start_apiserver(self) -> None:
        pki = self.pki
        p = self.spawn("kube-apiserver", [
            str(BIN / "kube-apiserver"),
            "--etcd-servers=http://127.0.0.1:2379",
            "--bind-address=0.0.0.0", f"--secure-port={API_PORT}",
            f"--advertise-address={API_IP}",
            f"--tls-cert-file={pki / 'server.crt'}", f"--tls-private-key-file={pki / 'server.key'}",
            f"--client-ca-file={pki / 'ca.crt'}",
            f"--service-account-key-file={pki / 'sa.pub'}",
            f"--service-account-signing-key-file={pki / 'sa.key'}",
            "--service-account-issuer=https://kubernetes.default.svc",
            "--authorization-mode=RBAC",
            "--service-cluster-ip-range=10.0.0.0/24",
            "--enable-priority-and-fairness=false",
            "--profiling=false",
            f"--cert-dir={self.dir / 'apiserver-certs'}",
            "--v=1",
        ])  # fmt: skip

        def ready() -> bool:
            st, _ = self.api("GET", "/readyz", raw=True)
            return st == 200

        self._wait("kube-apiserver", p, ready)

    # ---- the API, as admin
    def api(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = "application/json",
        raw: bool = False,
    ) -> tuple[int, Any]:
        data = b"" if body is None else json.dumps(body).encode()
        res = self.run(
            [sys.executable, "-m", "tests.k8s_api", str(self.ca_file), str(self.pki / "admin.crt"),
             str(self.pki / "admin.key"), method, SERVER + path, content_type],
            input=data, timeout=30, env={**os.environ, "PYTHONPATH": str(REPO)},
        )  # fmt: skip
        if res.returncode != 0:
            return 0, res.stderr.decode(errors="replace")[-500:]
        head, _, rest = res.stdout.partition(b"\n")
        status = int(head)
        if raw:
            return status, rest.decode(errors="replace")
        try:
            return status, json.loads(rest) if rest else {}
        except ValueError:
            return status, rest.decode(errors="replace")

    def must(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        st, doc = self.api(method, path, body, **kw)
        if st not in (200, 201):
            raise AssertionError(f"{method} {path}: {st} {doc}")
        return doc

    def ensure_namespace(self, ns: str) -> None:
        st, _ = self.api("GET", f"/api/v1/namespaces/{ns}")
        if st == 404:
            self.must("POST", "/api/v1/namespaces", {"metadata": {"name": ns}})
        st, _ = self.api("GET", f"/api/v1/namespaces/{ns}/serviceaccounts/default")
        if st == 404:  # the controller-manager would make it; there is none
            self.must("POST", f"/api/v1/namespaces/{ns}/serviceaccounts",
                      {"metadata": {"name": "default"}})  # fmt: skip

    def create(self, ns: str, plural: str, body: dict[str, Any], group: str = "apps/v1") -> Any:
        self.ensure_namespace(ns)
        return self.must("POST", f"/apis/{group}/namespaces/{ns}/{plural}", body)

    def create_pod(
        self,
        ns: str,
        name: str,
        *,
        ports: dict[str, int] | None = None,
        annotations: dict[str, str] | None = None,
        labels: dict[str, str] | None = None,
        owner: dict[str, Any] | None = None,
        image: str = "example.test/godiag-scenario:v1",
        image_id: str = "",
    ) -> Any:
        self.ensure_namespace(ns)
        meta: dict[str, Any] = {"name": name, "labels": labels or {},
                                "annotations": annotations or {}}  # fmt: skip
        if owner is not None:
            meta["ownerReferences"] = [{
                "apiVersion": owner["apiVersion"], "kind": owner["kind"],
                "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
                "controller": True,
            }]  # fmt: skip
        container: dict[str, Any] = {"name": "app", "image": image}
        if ports:
            container["ports"] = [{"name": n, "containerPort": p} for n, p in ports.items()]
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
               "spec": {"nodeName": "node-1", "containers": [container],
                        "automountServiceAccountToken": False}}  # fmt: skip
        self.must("POST", f"/api/v1/namespaces/{ns}/pods", pod)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        status = {"status": {
            "phase": "Running", "podIP": POD_IP, "podIPs": [{"ip": POD_IP}], "hostIP": API_IP,
            "startTime": now,
            "conditions": [{"type": t, "status": "True", "lastTransitionTime": now}
                           for t in ("Initialized", "ContainersReady", "Ready", "PodScheduled")],
            "containerStatuses": [{"name": "app", "image": image, "imageID": image_id,
                                   "ready": True, "restartCount": 0, "started": True,
                                   "state": {"running": {"startedAt": now}}}],
        }}  # fmt: skip
        return self.must("PATCH", f"/api/v1/namespaces/{ns}/pods/{name}/status", status,
                         content_type="application/merge-patch+json")  # fmt: skip

    def service_account_kubeconfig(
        self, ns: str, name: str, rules: list[dict[str, Any]] | None = None,
        *, cluster_wide: bool = False,
    ) -> Path:  # fmt: skip
        """A kubeconfig with the bearer token (TokenRequest, 2 h) of ServiceAccount NS/NAME,
        made if missing; `rules` (RBAC PolicyRules) are granted to it by a Role and
        RoleBinding in NS, or cluster-wide by a ClusterRole and ClusterRoleBinding."""
        self.ensure_namespace(ns)
        st, _ = self.api("GET", f"/api/v1/namespaces/{ns}/serviceaccounts/{name}")
        if st == 404:
            self.must("POST", f"/api/v1/namespaces/{ns}/serviceaccounts",
                      {"metadata": {"name": name}})  # fmt: skip
        if rules:
            rbac = "/apis/rbac.authorization.k8s.io/v1"
            role = f"godiag-test-{ns}-{name}"
            scope = "" if cluster_wide else f"/namespaces/{ns}"
            kind = "ClusterRole" if cluster_wide else "Role"
            self.must("POST", f"{rbac}{scope}/{kind.lower()}s",
                      {"metadata": {"name": role}, "rules": rules})  # fmt: skip
            self.must("POST", f"{rbac}{scope}/{kind.lower()}bindings", {
                "metadata": {"name": role},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role},
                "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": ns}],
            })  # fmt: skip
        tok = self.must("POST", f"/api/v1/namespaces/{ns}/serviceaccounts/{name}/token",
                        {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                         "spec": {"expirationSeconds": 7200}})  # fmt: skip
        return _kubeconfig(
            self.dir / f"{ns}-{name}.kubeconfig", {"token": tok["status"]["token"]},
            self.ca_file, f"{ns}-{name}",
        )  # fmt: skip

    def _viewer(self) -> Path:
        """ServiceAccount godiag-test/viewer: reads pods and their owners, no pods/proxy."""
        rules = [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
            {"apiGroups": ["apps"], "resources": ["replicasets", "deployments", "statefulsets",
                                                  "daemonsets"], "verbs": ["get", "list"]},
        ]  # fmt: skip
        return self.service_account_kubeconfig("godiag-test", "viewer", rules, cluster_wide=True)

    # ---- services and godiag inside the namespace
    def start_go(self, binary: Path, args: list[str], port: int) -> GoProcess:
        return GoProcess(
            Path(shutil.which("nsenter") or "nsenter"),
            ["-t", str(self.netns_pid), "-n", "--", str(binary), *args,
             "-addr", f"{POD_IP}:{port}"],
        )  # fmt: skip

    def godiag(
        self, *args: str, kubeconfig: Path | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[bytes]:
        home = self.dir / "home"
        home.mkdir(exist_ok=True)
        env = {
            k: v for k, v in os.environ.items()
            if k not in ("GODIAG_CONFIG", "KUBECONFIG", "XDG_CONFIG_HOME", "XDG_DATA_HOME")
        }  # fmt: skip
        env.update(
            PYTHONPATH=f"{REPO / 'src'}:{REPO}",
            KUBECONFIG=str(kubeconfig or self.admin_kubeconfig),
            XDG_CONFIG_HOME=str(home / "config"),
            XDG_DATA_HOME=str(home / "data"),
            HOME=str(home),
            NO_COLOR="1",
        )
        return self.run([sys.executable, "-m", "godiag", *args], timeout=timeout, env=env)

    def close(self) -> None:
        # SIGKILL: nothing of a test cluster is kept, and the API server's graceful
        # shutdown takes seconds
        for p in reversed(self.procs):
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=10)
        if self.holder is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.holder.pid, signal.SIGKILL)
            self.holder.wait(timeout=10)


@pytest.fixture(scope="session")
def k8s_cluster() -> Iterator[Cluster]:
    why = missing()
    if why is not None:
        pytest.skip(why)
    work = Path(tempfile.mkdtemp(prefix="godiag-k8s-"))
    cluster = Cluster(work)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.close()
        shutil.rmtree(work, ignore_errors=True)
