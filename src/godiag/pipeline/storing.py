"""What a collecting command knows about the service it captured, and keeping captures.

Metadata comes from three places, later ones winning (CONTRACTS "Common options"):
what the service exposes (go_info / go_build_info on /metrics, or the build info of a
local process read from /proc/PID/exe), the matching target of godiag.toml, then the
command line. The service name falls back to the target's host:port, so captures of an
unconfigured service still group together for `--baseline latest`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from godiag.collect.http import HttpClient
from godiag.config import Config, Target
from godiag.errors import ConfigError, ParseError
from godiag.limits import CAPTURE_MB, IN_FLIGHT, MB, Budget
from godiag.model.capture import Capture, CaptureMeta


def base_of(url: str) -> str:
    """The base URL of the service any URL under it names (a /debug/pprof URL included):
    its mount prefix (a reverse proxy's, a pod proxy's) and query are kept, as the
    service's /metrics is under them too (collect.http.service_base)."""
    from godiag.collect.http import service_base

    return service_base(url)


def host_port(url: str) -> str:
    return urlsplit(url).netloc


def service_host(url: str) -> str:
    """A target's host as stored and shown: host:port and the base path (services behind
    one proxy differ by it), never the user:password@ or the query (a token)."""
    parts = urlsplit(url if "://" in url else f"//{url}")
    return parts.netloc.rpartition("@")[2] + parts.path.rstrip("/")


# the executable's content hash, a tag of every capture of a local process: the build
# that ran, exactly (`build_identity` falls back to it when nothing names a commit)
EXE_SHA256 = "exe.sha256"
# an executable larger than this is not hashed (Go binaries are tens of MB; the bound
# keeps a hostile or odd /proc/PID/exe from costing more than about a second)
EXE_HASH_MAX = 1 << 30


def exe_digest(path: Path, limit: int = EXE_HASH_MAX) -> str | None:
    """The sha256 of the file at `path` (hex), or None: unreadable, or over `limit` bytes."""
    import hashlib

    h = hashlib.sha256()
    read = 0
    try:
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                read += len(chunk)
                if read > limit:
                    return None
                h.update(chunk)
    except OSError:
        return None
    return h.hexdigest()


def build_identity(meta: CaptureMeta) -> CaptureMeta:
    """`meta` with a build_commit when none was named but the build is known by content:
    a pod's image digest, else a local executable's sha256 (`exe-sha256:` and 16 hex
    digits). Either identifies the running build more exactly than a commit, and without
    one nothing is stored, so a second diagnosis of a service built without VCS stamping
    (`go build` outside a repository, `-buildvcs=false`) would have no memory of the first."""
    if meta.build_commit is not None:
        return meta
    digest = meta.tags.get("container.image.digest")
    if digest:
        return replace(meta, build_commit=digest)
    exe = meta.tags.get(EXE_SHA256)
    if exe:
        return replace(meta, build_commit=f"exe-sha256:{exe[:16]}")
    return meta


def exe_meta(pid: int, proc: Path = Path("/proc")) -> CaptureMeta:
    """Go version and vcs.revision (else the main module's path@version) of a local
    process's executable (best effort), and the executable's sha256 as the tag EXE_SHA256.

    /proc/PID/exe stays readable after the file was replaced on disk, so this is the
    build that is actually running. Unreadable (other user, not Go): nothing learned.
    """
    from godiag.formats.buildinfo import read_buildinfo
    from godiag.formats.exe import open_exe

    exe = proc / str(pid) / "exe"
    try:
        info = read_buildinfo(open_exe(exe))
    except (ParseError, OSError):
        return CaptureMeta()
    if info is None:
        return CaptureMeta()
    tags = {"module": info.path} if info.path else {}
    if (digest := exe_digest(exe)) is not None:
        tags[EXE_SHA256] = digest
    commit = info.setting("vcs.revision")
    version = info.main.version
    if commit is None and info.main.path and version and version != "(devel)":
        # `go install m@v` from the module proxy stamps no VCS data: the module version
        # pins the source as a commit does
        commit = f"{info.main.path}@{version}"
    return CaptureMeta(go_version=info.go_version, build_commit=commit, tags=tags)


def bind_pid(target: Target, pid: int) -> Target:
    """`target` served by local process `pid`: what its executable says of its build fills
    what the target does not say, and the `pid` tag lets the diagnosis read its /proc."""
    exe = exe_meta(pid)
    return replace(
        target,
        go_version=target.go_version or exe.go_version,
        build_commit=target.build_commit or exe.build_commit,
        tags={**exe.tags, "pid": str(pid), **target.tags},
    )


def target_meta(t: Target) -> CaptureMeta:
    """What a configured target says of its service (its name stands for service_name)."""
    return CaptureMeta(t.service_name or t.name, t.go_version, t.build_commit, dict(t.tags))


def target_client(t: Target, budget: Budget | None = None) -> HttpClient:
    """A client for a configured target (its auth and TLS settings) whose fetches share
    the process's in-flight pool, as work running beside other work (serve, watch) must."""
    return HttpClient(
        headers=t.auth.header(), tls_verify=t.tls_verify, ca_file=t.ca_file,
        budget=budget or Budget(CAPTURE_MB * MB), pool=IN_FLIGHT,
    )  # fmt: skip


def metrics_client(t: Target, client: HttpClient) -> HttpClient:
    """The client for `t`'s metrics URL, from `client` (the one for its pprof URL): the same
    on the target's own origin, credentials included, unless the metrics URL carries its
    own user:pass@. On another origin (another port is one) nothing of the target's goes:
    only the metrics URL's own credentials, and no client certificate or proxy prefix (a
    pod's); the TLS settings, the byte and time budget and the in-flight pool stay."""
    from godiag.collect.http import same_origin

    own = t.metrics_auth.header()
    if t.metrics_url is None or (same_origin(t.metrics_url, t.url) and not own):
        return client
    if same_origin(t.metrics_url, t.url):
        return replace(client, headers={**client.headers, **own})
    return HttpClient(
        headers=own, tls_verify=client.tls_verify, ca_file=client.ca_file,
        user_agent=client.user_agent, budget=client.budget, pool=client.pool,
    )  # fmt: skip


def config_meta(config: Config, url: str) -> CaptureMeta:
    """Metadata of the configured target whose base URL is `url`'s, if any."""
    base = base_of(url)
    for t in config.targets:
        if base_of(t.url) == base:
            return target_meta(t)
    return CaptureMeta()


def service_metadata(
    url: str,
    *,
    client: HttpClient,
    configured: CaptureMeta | None = None,
    user: CaptureMeta | None = None,
    pid: int | None = None,
) -> CaptureMeta:
    """Service-exposed < configured < user; service_name defaults to host:port."""
    from godiag.collect.pprof import service_meta

    meta = service_meta(client, base_of(url), timeout=5.0)
    if pid is not None:
        meta = meta.merged(exe_meta(pid))
    if configured is not None:
        meta = meta.merged(configured)
    if user is not None:
        meta = meta.merged(user)
    if not meta.service_name:
        meta = replace(meta, service_name=host_port(url))
    return build_identity(meta)


def load_config(path: str | None) -> Config:
    from godiag import config

    try:
        return config.load(path)
    except ConfigError:
        if path:
            raise
        return Config(path=None)  # a broken default config must not block a capture


def keep(
    captures: list[Capture],
    config: Config,
    *,
    enabled: bool,
    baseline: bool = False,
) -> list[dict[str, Any]]:
    """Store each capture that came from a service; the report's `stored` entries."""
    from godiag.store import store_outcome

    out: list[dict[str, Any]] = []
    for cap in captures:
        if "://" not in cap.source:
            out.append(
                {
                    "stored": False,
                    "missing": [],
                    "message": f"{cap.source} not stored: only captures from a service are "
                    "(use `godiag store put` for files)",
                }
            )
            continue
        entry = store_outcome(cap, None, config, enabled=enabled, baseline=baseline)
        entry["source"] = cap.source
        entry.setdefault("profile_type", cap.profile_type)
        out.append(entry)
    return out
