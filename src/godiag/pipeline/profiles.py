"""Where a profile comes from: a file, a service URL, or a configured target name."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from godiag.collect.http import HttpClient
from godiag.collect.pprof import Progress, collect_profile, service_meta
from godiag.errors import UsageError
from godiag.model.capture import Capture, CaptureMeta
from godiag.model.profile import Profile

MAX_FILE = 1 << 30


@dataclass(frozen=True)
class Service:
    url: str
    client: HttpClient
    meta: CaptureMeta


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def resolve_service(target: str, config_path: str | None = None) -> Service:
    """A base URL as given, or a target of godiag.toml (with its auth and TLS settings)."""
    if is_url(target):
        return Service(target.rstrip("/"), HttpClient(), CaptureMeta())
    from godiag import config

    conf = config.load(config_path)
    t = conf.target(target)
    if t is None:
        known = ", ".join(x.name for x in conf.targets) or "none configured"
        raise UsageError(f"{target!r} is not a file, a URL or a configured target ({known})")
    client = HttpClient(headers=t.auth.header(), tls_verify=t.tls_verify, ca_file=t.ca_file)
    meta = CaptureMeta(t.service_name, t.go_version, t.build_commit, dict(t.tags))
    return Service(t.url.rstrip("/"), client, meta)


def read_file(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE:
            raise UsageError(f"{path}: larger than {MAX_FILE >> 20} MB")
        return path.read_bytes()
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
) -> tuple[Profile, Capture | None]:
    """Decode a profile from a file, or collect it from a service first."""
    from godiag.formats.pprof import decode

    path = Path(source)
    if not is_url(source) and path.exists():
        return decode(read_file(path), source), None
    svc = resolve_service(source)
    if "/debug/pprof/" in svc.url:
        from datetime import UTC, datetime

        res = svc.client.get(svc.url, timeout + (seconds or 0) + 15)
        cap = Capture(res.body, svc.url, kind or "profile", datetime.now(UTC), res.content_type)
    else:
        meta = service_meta(svc.client, svc.url).merged(svc.meta)
        if user_meta is not None:
            meta = meta.merged(user_meta)
        cap = collect_profile(
            svc.client, svc.url, kind or "cpu", seconds=seconds, gc=gc, timeout=timeout,
            progress=progress, meta=meta,
        )  # fmt: skip
    return decode(cap.data, cap.source), cap
