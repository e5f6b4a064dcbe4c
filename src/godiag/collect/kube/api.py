"""GETs to the Kubernetes API server: the project's HttpClient with the cluster's TLS
and identity, every answer bounded in bytes and time like any capture.

The client certificate lives in an SSLContext made once: the ssl module loads a
certificate only from a file, so inline PEM data goes through a private temporary
directory that is removed as soon as it is loaded.
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import tempfile
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from godiag.collect.http import HttpClient
from godiag.collect.kube.kubeconfig import Credentials
from godiag.errors import CollectError, ConfigError
from godiag.limits import MB, Budget

API_BYTES = 32 * MB  # a pod list of a big namespace is a few MB


def ssl_context(creds: Credentials) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    if creds.ca_pem is not None:
        # the cluster's own CA only, not the system's too (kubectl trusts only it as well)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        try:
            ctx.load_verify_locations(cadata=creds.ca_pem.decode("ascii", "replace"))
        except ssl.SSLError as exc:
            raise ConfigError(f"{creds.source}: certificate authority: {exc}") from None
    if creds.insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if creds.cert_pem is not None and creds.key_pem is not None:
        tmp = tempfile.mkdtemp(prefix="godiag-kube-")  # 0700
        try:
            cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
            for path, data in ((cert, creds.cert_pem), (key, creds.key_pem)):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
            ctx.load_cert_chain(cert, key)
        except ssl.SSLError as exc:
            raise ConfigError(f"{creds.source}: client certificate: {exc}") from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return ctx


def client_for(creds: Credentials, budget: Budget | None = None) -> HttpClient:
    """An HttpClient that speaks to this cluster as this identity (the token goes to the
    API server's origin only: HttpClient never follows a redirect elsewhere)."""
    headers = {"Authorization": f"Bearer {creds.token}"} if creds.token else {}
    if budget is None:
        return HttpClient(headers=headers, ssl_context=ssl_context(creds))
    return HttpClient(headers=headers, ssl_context=ssl_context(creds), budget=budget)


def status_message(body: bytes) -> str | None:
    """The `message` of a Kubernetes Status answer, or None when it is not one."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(doc, dict) and doc.get("kind") == "Status":
        return str(doc.get("message") or doc.get("reason") or "")
    return None


def forbidden(verb: str, resource: str, namespace: str, creds: Credentials) -> str:
    return (
        f"cannot {verb} {resource} in namespace {namespace} "
        f"(the {creds.identity} of context {creds.context} needs RBAC `{verb}` on "
        f"`{resource}`; see docs/kubernetes.md)"
    )


@dataclass(frozen=True)
class KubeApi:
    creds: Credentials
    client: HttpClient
    timeout: float = 10.0

    @classmethod
    def connect(cls, creds: Credentials, timeout: float = 10.0) -> KubeApi:
        return cls(creds, client_for(creds, Budget(API_BYTES)), timeout)

    def url(self, path: str) -> str:
        return self.creds.server + path

    def get(self, path: str, *, resource: str, namespace: str, query: str = "") -> dict[str, Any]:
        """GET a JSON object; 403 is one sentence naming the permission missing."""
        url = self.url(path) + (f"?{query}" if query else "")
        try:
            res = self.client.get(url, self.timeout, allow_error=True)
        except CollectError as exc:
            if "TLS error" not in str(exc):
                raise
            why = str(exc).partition("TLS error: ")[2].split(" (set tls_verify")[0]
            raise CollectError(
                f"{self.creds.server}: TLS error: {why} (check the cluster's "
                f"certificate-authority in {self.creds.source})"
            ) from None
        if res.status == 200:
            try:
                doc = json.loads(res.body)
            except (ValueError, UnicodeDecodeError):
                raise CollectError(f"{url}: the API server's answer is not JSON") from None
            if not isinstance(doc, dict):
                raise CollectError(f"{url}: the API server's answer is not an object")
            return doc
        why = status_message(res.body) or res.body[:200].decode("utf-8", "replace").strip()
        if res.status == 403:
            verb = "list" if path.rstrip("/").endswith(resource.split("/")[0]) else "get"
            raise CollectError(forbidden(verb, resource, namespace, self.creds))
        if res.status == 401:
            raise CollectError(
                f"{self.creds.server}: 401 Unauthorized: the {self.creds.identity} of context "
                f"{self.creds.context} is not accepted ({why})"
            )
        if res.status == 404:
            raise CollectError(f"{why or path + ' not found'} in namespace {namespace}")
        raise CollectError(f"{self.creds.server}{path}: HTTP {res.status}: {why}")


def pod_path(namespace: str, name: str = "") -> str:
    base = f"/api/v1/namespaces/{quote(namespace, safe='')}/pods"
    return f"{base}/{quote(name, safe='')}" if name else base
