"""Where a profile comes from: a file, a service URL, or a configured target name."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from godiag.collect.http import HttpClient, shown_url
from godiag.collect.pprof import Progress, collect_profile
from godiag.errors import UsageError
from godiag.model.capture import Capture, CaptureMeta
from godiag.model.profile import Profile

if TYPE_CHECKING:
    from godiag.collect.kube.pods import KubeOptions
    from godiag.config import Target

MAX_FILE = 1 << 30
STORED_ID = re.compile(r"[0-9a-f]{4,64}")


@dataclass(frozen=True)
class Service:
    url: str
    client: HttpClient
    meta: CaptureMeta
    # the target's metrics URL and the client for it (storing.metrics_client), when its
    # metrics are not under `url`
    metrics: tuple[str, HttpClient] | None = None


def is_url(source: str) -> bool:
    """A service address: http(s) URL or a Kubernetes pod (`k8s://`)."""
    return source.startswith(("http://", "https://", "k8s://"))


def resolve_service(
    target: str,
    config_path: str | None = None,
    kube: KubeOptions | None = None,
    metrics: str | None = None,
) -> Service:
    """A base URL as given, a Kubernetes pod (`k8s://`, through the API server's pod
    proxy with the cluster's credentials), or a target of godiag.toml (with its auth and
    TLS settings). Every command taking a service resolves it here. Its metrics URL:
    `metrics` (`--metrics`), else the configured target's `metrics_url` (a URL given
    takes that of the target configured at that very URL, as `Config.target_at` says)."""
    from godiag.pipeline.storing import config_meta, load_config, target_meta

    if target.startswith("k8s://"):
        if metrics is not None:
            raise UsageError("--metrics: not for k8s:// targets (a pod is read through its proxy)")
        from godiag.collect.kube.pods import resolve

        pod = resolve(target, kube)
        return Service(pod.url, pod.client, pod.meta())
    if is_url(target):
        from godiag.config import target_from_url

        conf = load_config(config_path)
        given = target_from_url(target)
        # the target configured at this very URL, if any: its auth and TLS settings and its
        # metrics URL (credentials written into the URL win, as Config.target_at says)
        found = conf.target_at(target)
        client = HttpClient(
            headers=found.auth.header(), tls_verify=found.tls_verify, ca_file=found.ca_file
        )
        meta = config_meta(conf, given.url)
        return Service(given.url, client, meta, _metrics_of(found, client, metrics))
    from godiag import config

    conf = config.load(config_path)
    t = conf.target(target)
    if t is None:
        known = ", ".join(x.name for x in conf.targets) or "none configured"
        raise UsageError(f"{target!r} is not a file, a URL or a configured target ({known})")
    client = HttpClient(headers=t.auth.header(), tls_verify=t.tls_verify, ca_file=t.ca_file)
    return Service(t.url.rstrip("/"), client, target_meta(t), _metrics_of(t, client, metrics))


def _metrics_of(t: Target, client: HttpClient, given: str | None) -> tuple[str, HttpClient] | None:
    """Where `t`'s metrics are read when not under its URL, `given` (--metrics) first, and
    the client for them (the target's credentials only on its own origin)."""
    from godiag.config import metrics_endpoint
    from godiag.pipeline.storing import metrics_client

    if given is not None:
        url, auth = metrics_endpoint(given, "--metrics", UsageError)
        t = replace(t, metrics_url=url, metrics_auth=auth)
    if t.metrics_url is None:
        return None
    return t.metrics_url, metrics_client(t, client)


def read_file(path: Path) -> bytes:
    from godiag.limits import InputTooLarge, read_capped

    try:
        size = path.stat().st_size
        if size > MAX_FILE:
            raise UsageError(f"{path}: larger than {MAX_FILE >> 20} MB")
        with path.open("rb") as fh:  # a pipe or a device has no size to check first
            return read_capped(fh, MAX_FILE, str(path))
    except InputTooLarge as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None


def load_profile(
    source: str,
    *,
    kind: str | None = None,
    seconds: float | None = None,
    gc: bool = False,
    timeout: float = 30.0,
    progress: Progress | None = None,
    user_meta: CaptureMeta | None = None,
    config_path: str | None = None,
    kube: KubeOptions | None = None,
) -> tuple[Profile, Capture | None]:
    """Decode a profile from a file, a stored artifact, or collect it from a service first.

    The capture of a service carries the metadata to store it with (service-exposed,
    then configured, then `user_meta`); a stored artifact's capture has source `store:ID`.
    """
    from godiag.formats.pprof import decode
    from godiag.pipeline.storing import service_metadata

    path = Path(source)
    if not is_url(source) and path.exists():
        return decode(read_file(path), source), None
    if STORED_ID.fullmatch(source.lower()):
        stored = from_store(source, config_path)
        if stored is not None:
            return decode(stored.data, stored.source), stored
    kind = kind_of_url(source, kind)
    svc = resolve_service(source, config_path, kube)
    meta = service_metadata(svc.url, client=svc.client, configured=svc.meta, user=user_meta)
    if "/debug/pprof/" in svc.url:
        from datetime import UTC, datetime

        res = svc.client.get(svc.url, timeout + (seconds or 0) + 15)
        cap = Capture(
            res.body,
            shown_url(svc.url),
            kind or "profile",
            datetime.now(UTC),
            res.content_type,
            meta,
        )
    else:
        cap = collect_profile(
            svc.client, svc.url, kind or "cpu", seconds=seconds, gc=gc, timeout=timeout,
            progress=progress, meta=meta,
        )  # fmt: skip
    return decode(cap.data, cap.source), cap


_PPROF_PATH = re.compile(r"/debug/pprof/([A-Za-z0-9_]+)/?$")


def kind_of_url(source: str, kind: str | None) -> str | None:
    """The profile type a URL ending in one profile's endpoint names (`/debug/pprof/heap`,
    no query; such a URL is read as its service's base URL), so that it is not taken as a
    CPU profile; a --type that names another profile is an error, not a silent choice."""
    from godiag.collect.pprof import ENDPOINTS

    if not is_url(source) or "?" in source or "#" in source:
        return kind
    m = _PPROF_PATH.search(source)
    named = {v: k for k, v in ENDPOINTS.items()}.get(m.group(1)) if m else None
    if named is None:
        return kind
    if kind is not None and kind != named:
        raise UsageError(f"{source} is the {named} profile's endpoint but --type is {kind}: "
                         f"give one of them")  # fmt: skip
    return named


def from_store(ref: str, config_path: str | None = None) -> Capture | None:
    """A stored artifact as a capture, or None when `ref` is a configured target's name.

    An id that looks right but is not in the store is a clear error, not a fall-through
    to "not a file, URL or target".
    """
    from godiag.pipeline.storing import load_config
    from godiag.store import open_store

    conf = load_config(config_path)
    if conf.target(ref) is not None:
        return None
    with open_store(conf) as store:
        art = store.get(ref)
        data = store.read(art.id)
    m = art.meta
    meta = CaptureMeta(m.service_name, m.go_version, m.build_commit, dict(m.tags), m.host)
    return Capture(data, f"store:{art.id}", m.profile_type, m.captured_at, None, meta)
