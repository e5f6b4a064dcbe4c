"""Where the Kubernetes API server is and who godiag is to it, as kubectl finds them.

Order: `--kubeconfig FILE`; else $KUBECONFIG (colon-separated: the first file that has the
context asked, or a current-context); else ~/.kube/config; else the in-cluster service
account (/var/run/secrets/kubernetes.io/serviceaccount with $KUBERNETES_SERVICE_HOST/PORT).
Identities: client certificate (file or inline data), bearer token (inline or tokenFile).
Exec and auth-provider plugins are refused with a sentence: godiag does not run programs
named in a configuration file.

Relative paths in a kubeconfig are relative to its own folder, as kubectl reads them.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from godiag.errors import ConfigError

SA_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
MAX_FILE = 4 << 20  # a kubeconfig, a CA bundle or a token is far smaller


@dataclass(frozen=True)
class Credentials:
    """One cluster and one identity: everything needed to call the API server."""

    server: str  # https://host:port, no trailing slash
    context: str  # the context's name, or "in-cluster"
    source: str  # the file it came from (for messages)
    namespace: str | None = None  # the context's default namespace
    ca_pem: bytes | None = None  # None: the system's trust store
    insecure: bool = False  # insecure-skip-tls-verify
    cert_pem: bytes | None = None  # client certificate (PEM), with key_pem
    key_pem: bytes | None = None
    token: str | None = None

    @property
    def identity(self) -> str:
        if self.token:
            return "bearer token"
        if self.cert_pem:
            return "client certificate"
        return "anonymous"


def _read(path: Path, what: str, where: str) -> bytes:
    try:
        with path.open("rb") as f:
            data = f.read(MAX_FILE + 1)
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read {what} {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE:
        raise ConfigError(f"{where}: {what} {path} is larger than {MAX_FILE >> 20} MB")
    return data


def _yaml(data: bytes, where: str) -> dict[str, Any]:
    import yaml

    try:
        doc = yaml.safe_load(data)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigError(f"{where}: not a valid kubeconfig{at}") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{where}: not a valid kubeconfig (expected a mapping)")
    return doc


def _named(doc: dict[str, Any], key: str, name: str, where: str) -> dict[str, Any] | None:
    """The `key` entry (cluster, user, context) named `name` of a `KEYs` list."""
    items = doc.get(key + "s") or []
    if not isinstance(items, list):
        raise ConfigError(f"{where}: {key}s: expected a list")
    for item in items:
        if isinstance(item, dict) and item.get("name") == name:
            body = item.get(key) or {}
            if not isinstance(body, dict):
                raise ConfigError(f"{where}: {key} {name!r}: expected a mapping")
            return body
    return None


def _data_or_file(
    body: dict[str, Any], data_key: str, file_key: str, base: Path, what: str, where: str
) -> bytes | None:
    raw = body.get(data_key)
    if raw:
        try:
            return base64.b64decode(str(raw), validate=False)
        except (binascii.Error, ValueError):
            raise ConfigError(f"{where}: {data_key}: not base64") from None
    name = body.get(file_key)
    if name:
        p = Path(os.path.expanduser(str(name)))
        return _read(p if p.is_absolute() else base / p, what, where)
    return None


def from_document(doc: dict[str, Any], context: str | None, where: str, base: Path) -> Credentials:
    """The credentials of `context` (or the current one) in a parsed kubeconfig."""
    name = context or doc.get("current-context")
    if not name:
        raise ConfigError(f"{where}: no current-context (give --context)")
    ctx = _named(doc, "context", str(name), where)
    if ctx is None:
        raise ConfigError(f"{where}: no context {name!r}")
    cluster_name, user_name = ctx.get("cluster"), ctx.get("user")
    cluster = _named(doc, "cluster", str(cluster_name), where) if cluster_name else None
    if cluster is None:
        raise ConfigError(f"{where}: context {name!r} names no known cluster ({cluster_name!r})")
    if cluster.get("proxy-url"):
        raise ConfigError(
            f"{where}: cluster {cluster_name!r} is reached through a proxy (proxy-url), "
            f"which godiag does not support: use a context that reaches the API server directly"
        )
    server = str(cluster.get("server") or "").rstrip("/")
    if not server.startswith(("https://", "http://")):
        raise ConfigError(f"{where}: cluster {cluster_name!r}: server {server!r} is not a URL")
    user = (_named(doc, "user", str(user_name), where) if user_name else None) or {}
    for plugin in ("exec", "auth-provider"):
        if user.get(plugin):
            raise ConfigError(
                f"{where}: user {user_name!r} gets its credentials from an {plugin} plugin, "
                f"which godiag does not run: use a context with a token or a client certificate "
                f"(e.g. a service account token)"
            )
    token = user.get("token")
    if not token and user.get("tokenFile"):
        p = Path(os.path.expanduser(str(user["tokenFile"])))
        token = _read(p if p.is_absolute() else base / p, "token file", where).decode().strip()
    cert = _data_or_file(user, "client-certificate-data", "client-certificate", base,
                         "client certificate", where)  # fmt: skip
    key = _data_or_file(user, "client-key-data", "client-key", base, "client key", where)
    if (cert is None) != (key is None):
        raise ConfigError(f"{where}: user {user_name!r}: a client certificate needs its key")
    ca = _data_or_file(cluster, "certificate-authority-data", "certificate-authority", base,
                       "certificate authority", where)  # fmt: skip
    namespace = ctx.get("namespace")
    return Credentials(
        server=server,
        context=str(name),
        source=where,
        namespace=str(namespace) if namespace else None,
        ca_pem=ca,
        insecure=bool(cluster.get("insecure-skip-tls-verify")),
        cert_pem=cert,
        key_pem=key,
        token=str(token) if token else None,
    )


def _has_context(doc: dict[str, Any], context: str | None) -> bool:
    if context is None:
        return bool(doc.get("current-context"))
    return any(isinstance(c, dict) and c.get("name") == context for c in doc.get("contexts") or [])


def in_cluster(env: Mapping[str, str], sa_dir: Path = SA_DIR) -> Credentials | None:
    """The pod's own service account, when godiag runs in a pod (None elsewhere)."""
    host, port = env.get("KUBERNETES_SERVICE_HOST"), env.get("KUBERNETES_SERVICE_PORT")
    token_file = sa_dir / "token"
    if not host or not port or not token_file.is_file():
        return None
    where = str(sa_dir)
    host = f"[{host}]" if ":" in host else host
    ns_file = sa_dir / "namespace"
    ca_file = sa_dir / "ca.crt"
    return Credentials(
        server=f"https://{host}:{port}",
        context="in-cluster",
        source=where,
        namespace=_read(ns_file, "namespace", where).decode().strip()
        if ns_file.is_file()
        else None,
        ca_pem=_read(ca_file, "CA", where) if ca_file.is_file() else None,
        token=_read(token_file, "token", where).decode().strip(),
    )


def load(
    kubeconfig: str | None = None,
    context: str | None = None,
    env: Mapping[str, str] | None = None,
    sa_dir: Path = SA_DIR,
    home: Path | None = None,
) -> Credentials:
    """Find the cluster and identity as kubectl does (see the module's doc)."""
    env = os.environ if env is None else env
    if kubeconfig:
        paths = [Path(kubeconfig)]
        explicit = True
    elif env.get("KUBECONFIG"):
        paths = [Path(p) for p in env["KUBECONFIG"].split(os.pathsep) if p]
        explicit = False
    else:
        default = (home or Path.home()) / ".kube" / "config"
        paths = [default] if default.is_file() else []
        explicit = False
    for path in paths:
        if not explicit and not path.is_file():
            continue  # kubectl skips missing files of $KUBECONFIG
        where = str(path)
        doc = _yaml(_read(path, "kubeconfig", where), where)
        if explicit or _has_context(doc, context):
            return from_document(doc, context, where, path.parent)
    if not paths:
        found = in_cluster(env, sa_dir)
        if found is not None:
            if context:
                raise ConfigError(f"--context {context}: no kubeconfig (in a pod: in-cluster)")
            return found
        raise ConfigError(
            "no Kubernetes configuration: give --kubeconfig, set KUBECONFIG, "
            "or run in a pod with a service account"
        )
    what = f"context {context!r}" if context else "a current-context"
    raise ConfigError(f"no kubeconfig in {', '.join(map(str, paths))} has {what}")
