"""godiag.toml: loaded and validated in one place.

Sections: ``[[targets]]`` (name, url, auth, metadata), ``[store]``, ``[prometheus]``,
``[serve]``, ``[kubernetes]``. Secrets may be written as ``env:VAR`` and are resolved at load time;
a missing variable is a configuration error naming the key. Unknown keys are errors
too: a typo in a config file should never be silently ignored.
Later capabilities add their sections by adding a validator to ``SECTIONS``.
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from godiag.errors import ConfigError, GodiagError
from godiag.secrets import resolve_secret

if TYPE_CHECKING:
    from godiag.pipeline.settings import ServeSettings


@dataclass(frozen=True)
class Auth:
    bearer: str | None = None
    username: str | None = None
    password: str | None = None

    def header(self) -> dict[str, str]:
        import base64

        if self.bearer:
            return {"Authorization": f"Bearer {self.bearer}"}
        if self.username is not None:
            raw = f"{self.username}:{self.password or ''}".encode()
            return {"Authorization": "Basic " + base64.b64encode(raw).decode()}
        return {}


@dataclass(frozen=True)
class Target:
    name: str
    url: str
    auth: Auth = field(default_factory=Auth)
    service_name: str | None = None
    go_version: str | None = None
    build_commit: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    tls_verify: bool = True
    ca_file: str | None = None
    # where its metrics are when not under `url` (/metrics, /debug/vars): the full URL of a
    # Prometheus text or expvar endpoint, shown without credentials; `metrics_auth` holds
    # the user:pass@ written into it, sent to that URL only
    metrics_url: str | None = None
    metrics_auth: Auth = field(default_factory=Auth)


@dataclass(frozen=True)
class StoreConfig:
    backend: str = "local"
    path: str | None = None
    max_artifact_mb: int = 256
    s3: dict[str, str] = field(default_factory=dict)
    postgres_dsn: str | None = None


@dataclass(frozen=True)
class KubernetesConfig:
    """`[kubernetes]`: alerts about pods become pod targets (docs/serve.md "Pods").

    Only pods inside the allowlist are diagnosed: a namespace of `namespaces` (when given)
    and labels matching one of `selectors` (when given); at least one of the two is
    required, so enabling it never opens every pod of the cluster to an alert's labels.
    """

    enabled: bool = False
    kubeconfig: str | None = None  # None with in_cluster: the pod's service account
    context: str | None = None
    in_cluster: bool = False
    namespaces: tuple[str, ...] = ()
    selectors: tuple[str, ...] = ()  # label selectors, e.g. "app.kubernetes.io/part-of=shop"
    default_port: int = 6060  # the port serving net/http/pprof when the alert names none

    def allows_namespace(self, namespace: str) -> bool:
        return not self.namespaces or namespace in self.namespaces


@dataclass(frozen=True)
class Config:
    path: Path | None
    targets: tuple[Target, ...] = ()
    store: StoreConfig = field(default_factory=StoreConfig)
    prometheus_url: str | None = None
    prometheus_auth: Auth = field(default_factory=Auth)  # from user:pass@ in its URL
    serve: ServeSettings | None = None  # validated [serve] (godiag.pipeline.settings)
    kubernetes: KubernetesConfig = field(default_factory=KubernetesConfig)
    extra: dict[str, Any] = field(default_factory=dict)

    def target(self, name: str) -> Target | None:
        return next((t for t in self.targets if t.name == name), None)

    def target_at(self, url: str) -> Target:
        """A URL given on the command line: the configured target at that very URL (its
        metadata, auth and TLS settings), else a bare target. Only an exact match (scheme,
        host, port, path; case of scheme and host and a trailing slash aside) takes the
        configured credentials, so they go nowhere they were not configured for. Credentials
        written into the URL win over the configured ones."""
        given = target_from_url(url)
        found = next((t for t in self.targets if _same_url(t.url, given.url)), None)
        if found is None:
            return given
        return replace(found, auth=given.auth) if given.auth.header() else found


def default_path() -> Path:
    """Platform config directory: $XDG_CONFIG_HOME/godiag, ~/Library/..., %APPDATA%."""
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    elif os.name == "nt":
        base = Path(os.environ.get("APPDATA", Path.home()))
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "godiag" / "godiag.toml"


def find(explicit: str | Path | None) -> Path | None:
    """--config, then GODIAG_CONFIG, then the platform default if it exists."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("GODIAG_CONFIG")
    if env:
        return Path(env)
    p = default_path()
    return p if p.is_file() else None


def load(explicit: str | Path | None = None) -> Config:
    path = find(explicit)
    if path is None:
        return Config(path=None)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse(raw, path)


def parse(raw: dict[str, Any], path: Path | None = None) -> Config:
    where = str(path) if path else "config"
    _check_keys(raw, set(SECTIONS), where, "")
    values: dict[str, Any] = {}
    for key, fn in SECTIONS.items():
        if key in raw:
            values[key] = fn(raw[key], f"{where}: {key}")
    extra = {
        k: v
        for k, v in values.items()
        if k not in {"targets", "store", "prometheus", "serve", "kubernetes"}
    }
    store: StoreConfig = values.get("store", StoreConfig())
    if store.path and path is not None and not Path(store.path).expanduser().is_absolute():
        # A relative store path means the folder beside the file, whatever the working
        # directory of the process (a service manager starts serve in /).
        store = replace(store, path=str(path.resolve().parent / store.path))
    return Config(
        path=path,
        targets=values.get("targets", ()),
        store=store,
        prometheus_url=values["prometheus"][0] if "prometheus" in values else None,
        prometheus_auth=values["prometheus"][1] if "prometheus" in values else Auth(),
        serve=values.get("serve"),
        kubernetes=values.get("kubernetes", KubernetesConfig()),
        extra=extra,
    )


def _check_keys(table: Any, allowed: set[str], where: str, prefix: str) -> None:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}{prefix}: expected a table")
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(
            f"{where}{prefix}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})"
        )


def _str(table: dict[str, Any], key: str, where: str, required: bool = False) -> str | None:
    value = table.get(key)
    if value is None:
        if required:
            raise ConfigError(f"{where}: missing required key {key!r}")
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{where}.{key}: expected a string, got {type(value).__name__}")
    return value


def _url(value: str, where: str) -> str:
    u = urlparse(value)
    if u.scheme not in ("http", "https") or not u.netloc:
        raise ConfigError(f"{where}: {split_userinfo(value)[0]!r} is not an http(s) base URL")
    return value.rstrip("/")


def metrics_endpoint(
    value: str, where: str, error: type[GodiagError] = ConfigError
) -> tuple[str, Auth]:
    """A metrics URL (`[[targets]] metrics_url`, `--metrics`): the full http(s) URL of an
    endpoint, so a path is required (a bare host:port would be read as the service's base
    URL elsewhere, here it names nothing); a fragment is refused, a query is kept (a token)
    and shown redacted. Returns the URL without its user:pass@ and that as its own Auth
    (split_userinfo, as for [prometheus] url). `error`: ConfigError for the file,
    UsageError for the command line."""
    if not _endpoint_ok(value):
        try:
            shown = split_userinfo(value)[0]
        except ValueError:
            shown = value.rpartition("@")[2]
        raise error(
            f"{where}: {shown[:200]!r} is not the http(s) URL of a metrics endpoint "
            f"(such as http://host:9100/metrics or http://host:8080/debug/vars)"
        )
    url, auth = split_userinfo(value)
    return url, auth or Auth()


def _endpoint_ok(value: str) -> bool:
    from urllib.parse import urlsplit

    if "#" in value or any(c.isspace() or ord(c) < 32 for c in value):
        return False
    try:
        u = urlsplit(value)
        _ = u.port  # a bad port (":x", ":99999") raises here rather than at the first fetch
    except ValueError:
        return False
    return u.scheme in ("http", "https") and bool(u.hostname) and u.path not in ("", "/")


def split_userinfo(url: str) -> tuple[str, Auth | None]:
    """`http://user:pass@host/…` -> (`http://host/…`, basic Auth(user, pass)).

    Credentials written into a URL become the target's auth and leave the URL, so
    every place that shows a URL (reports, the API, errors, `config check`) shows it
    without them; they are sent as an Authorization header to that origin only.
    """
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    info, _, host = parts.netloc.rpartition("@")
    user, sep, password = info.partition(":")
    auth = Auth(username=unquote(user), password=unquote(password) if sep else "")
    return parts._replace(netloc=host).geturl(), auth


def _same_url(a: str, b: str) -> bool:
    pa, pb = urlparse(a.rstrip("/")), urlparse(b.rstrip("/"))
    return (pa.scheme.lower(), pa.netloc.lower(), pa.path) == (
        pb.scheme.lower(), pb.netloc.lower(), pb.path)  # fmt: skip


# what godiag appends to a service's base URL itself: a URL pasted from the browser (the
# pprof index, a profile, /metrics) names the same service
_ENDPOINT = re.compile(r"/(?:debug/pprof(?:/[A-Za-z0-9_]*)?|metrics|debug/vars)$")


def target_from_url(url: str) -> Target:
    """A target given on the command line as a URL (credentials in it become its auth);
    one that ends in an endpoint godiag reads itself (`/debug/pprof/`, `/debug/pprof/heap`,
    `/metrics`, `/debug/vars`; no query) is taken as its service's base URL."""
    clean, auth = split_userinfo(url.rstrip("/"))
    if "?" not in clean and "#" not in clean:
        clean = _ENDPOINT.sub("", clean, count=1)
    host = clean.split("://", 1)[-1].split("/", 1)[0]
    return Target(name=host, url=clean, auth=auth or Auth())


def _targets(value: Any, where: str) -> tuple[Target, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: expected an array of tables ([[targets]])")
    out: list[Target] = []
    for i, t in enumerate(value):
        w = f"{where}[{i}]"
        _check_keys(
            t,
            {
                "name",
                "url",
                "auth",
                "service_name",
                "go_version",
                "build_commit",
                "tags",
                "tls_verify",
                "ca_file",
                "metrics_url",
            },
            w,
            "",
        )
        name = _str(t, "name", w, required=True)
        assert name is not None
        w = f"{where} {name!r}"
        url, url_auth = split_userinfo(_url(_str(t, "url", w, required=True) or "", f"{w}.url"))
        if url_auth is not None and "auth" in t:
            raise ConfigError(f"{w}: credentials both in url and in auth: keep one")
        tags = t.get("tags", {})
        if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
            raise ConfigError(f"{w}.tags: expected a table of strings")
        if any(x.name == name for x in out):
            raise ConfigError(f"{w}: duplicate target name")
        verify = t.get("tls_verify", True)
        if not isinstance(verify, bool):
            raise ConfigError(f"{w}.tls_verify: expected true or false")
        metrics = _str(t, "metrics_url", w)
        metrics_url, metrics_auth = (
            metrics_endpoint(metrics, f"{w}.metrics_url") if metrics is not None else (None, Auth())
        )
        out.append(
            Target(
                name=name,
                url=url,
                auth=url_auth or _auth(t.get("auth", {}), f"{w}.auth"),
                service_name=_str(t, "service_name", w),
                go_version=_str(t, "go_version", w),
                build_commit=_str(t, "build_commit", w),
                tags=dict(tags),
                tls_verify=verify,
                ca_file=_str(t, "ca_file", w),
                metrics_url=metrics_url,
                metrics_auth=metrics_auth,
            )
        )
    return tuple(out)


def _auth(value: Any, where: str) -> Auth:
    _check_keys(value, {"bearer", "username", "password"}, where, "")
    bearer = value.get("bearer")
    user = value.get("username")
    if bearer is not None and user is not None:
        raise ConfigError(f"{where}: give either bearer or username/password, not both")
    return Auth(
        bearer=resolve_secret(bearer, f"{where}.bearer") if bearer is not None else None,
        username=resolve_secret(user, f"{where}.username") if user is not None else None,
        password=(
            resolve_secret(value["password"], f"{where}.password") if "password" in value else None
        ),
    )


def _store(value: Any, where: str) -> StoreConfig:
    _check_keys(value, {"backend", "path", "max_artifact_mb", "s3", "postgres"}, where, "")
    backend = value.get("backend", "local")
    if backend not in ("local", "fleet"):
        raise ConfigError(f"{where}.backend: {backend!r} is not one of local, fleet")
    limit = value.get("max_artifact_mb", 256)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit <= 0:
        raise ConfigError(f"{where}.max_artifact_mb: expected a positive integer")
    s3 = value.get("s3", {})
    _check_keys(s3, {"endpoint", "bucket", "region", "access_key", "secret_key"}, where, ".s3")
    s3r = {k: resolve_secret(v, f"{where}.s3.{k}") for k, v in s3.items()}
    pg = value.get("postgres", {})
    _check_keys(pg, {"dsn"}, where, ".postgres")
    dsn = resolve_secret(pg["dsn"], f"{where}.postgres.dsn") if "dsn" in pg else None
    if backend == "fleet":
        missing = [k for k in ("endpoint", "bucket") if k not in s3r]
        if missing or dsn is None:
            need = [f"s3.{k}" for k in missing] + ([] if dsn else ["postgres.dsn"])
            raise ConfigError(f"{where}: backend 'fleet' needs {', '.join(need)}")
    return StoreConfig(
        backend=backend,
        path=_str(value, "path", where),
        max_artifact_mb=limit,
        s3=s3r,
        postgres_dsn=dsn,
    )


def _prometheus(value: Any, where: str) -> tuple[str, Auth]:
    _check_keys(value, {"url"}, where, "")
    url, auth = split_userinfo(_url(_str(value, "url", where, required=True) or "", f"{where}.url"))
    return url, auth or Auth()


def _serve(value: Any, where: str) -> ServeSettings:
    from godiag.pipeline.settings import parse_serve

    return parse_serve(value, where)


_SELECTOR = re.compile(
    r"\s*[A-Za-z0-9./_-]+\s*(==?|!=)\s*[A-Za-z0-9._-]*\s*"
    r"(,\s*[A-Za-z0-9./_-]+\s*(==?|!=)\s*[A-Za-z0-9._-]*\s*)*"
)
_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def _kubernetes(value: Any, where: str) -> KubernetesConfig:
    keys = {"enabled", "kubeconfig", "context", "in_cluster", "namespaces", "selectors",
            "default_port"}  # fmt: skip
    _check_keys(value, keys, where, "")
    enabled = value.get("enabled", False)
    in_cluster = value.get("in_cluster", False)
    for key, v in (("enabled", enabled), ("in_cluster", in_cluster)):
        if not isinstance(v, bool):
            raise ConfigError(f"{where}.{key}: expected true or false")
    kubeconfig = _str(value, "kubeconfig", where)
    if in_cluster and kubeconfig is not None:
        raise ConfigError(f"{where}: give either kubeconfig or in_cluster = true, not both")
    names = value.get("namespaces", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"{where}.namespaces: expected a list of strings")
    for n in names:
        if not _NAMESPACE.fullmatch(n):
            raise ConfigError(f"{where}.namespaces: {n!r} is not a namespace name")
    sels = value.get("selectors", [])
    if not isinstance(sels, list) or not all(isinstance(s, str) for s in sels):
        raise ConfigError(f"{where}.selectors: expected a list of label selectors")
    for s in sels:
        if not _SELECTOR.fullmatch(s):
            raise ConfigError(
                f"{where}.selectors: {s!r} is not a label selector (key=value, key!=value, "
                f"comma-separated)"
            )
    port = value.get("default_port", 6060)
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise ConfigError(f"{where}.default_port: expected a port number (1 to 65535)")
    if enabled and not names and not sels:
        raise ConfigError(
            f"{where}: enabled without namespaces or selectors: list the namespaces and/or "
            f"label selectors whose pods alerts may have diagnosed"
        )
    return KubernetesConfig(
        enabled=enabled,
        kubeconfig=str(Path(kubeconfig).expanduser()) if kubeconfig else None,
        context=_str(value, "context", where),
        in_cluster=in_cluster,
        namespaces=tuple(names),
        selectors=tuple(s.strip() for s in sels),
        default_port=port,
    )


SECTIONS: dict[str, Callable[[Any, str], Any]] = {
    "targets": _targets,
    "store": _store,
    "prometheus": _prometheus,
    "serve": _serve,
    "kubernetes": _kubernetes,
}
