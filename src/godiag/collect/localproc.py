"""Which process of this machine serves a loopback URL, so /proc can say what it holds.

A service whose /metrics has no process_open_fds (pprof only, expvar, OpenTelemetry) hides
a connection leak's one sure sign, its open fds. When the URL is on loopback the process
is most likely on this machine: the socket listening on the URL's port names it
(procfs.listener_pids). A port can also be a proxy's (docker-proxy, `kubectl
port-forward`, an sshd tunnel) in front of a process elsewhere, whose fds say nothing of
the service: the process is taken only when its command line is the one the service
itself reports at /debug/pprof/cmdline (net/http/pprof writes os.Args there).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from godiag.collect import procfs
from godiag.collect.http import HttpClient, endpoint_url
from godiag.errors import CollectError


@dataclass(frozen=True)
class Found:
    pid: int | None
    why: str  # one sentence for the report's notes, either way


def _port(url: str) -> int | None:
    parts = urlsplit(url)
    try:
        return parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None


def serving_pid(url: str, client: HttpClient, timeout: float) -> Found:
    """The local process serving `url` (loopback), or why none was taken."""
    port = _port(url)
    if port is None:
        return Found(None, f"{url}: no port to look up in /proc")
    pids = sorted(set(procfs.listener_pids(port)))
    if not pids:
        return Found(None, f"/proc not read: no process this user can read listens on "
                           f"port {port} here (a container's port, or another user's)")  # fmt: skip
    try:
        res = client.get(endpoint_url(url, "/debug/pprof/cmdline"), timeout, allow_error=True)
    except CollectError as exc:
        return Found(None, f"/proc not read: /debug/pprof/cmdline, which would tell which "
                           f"process serves port {port}, did not answer ({exc})")  # fmt: skip
    if res.status != 200:
        return Found(None, f"/proc not read: /debug/pprof/cmdline, which would tell which "
                           f"process serves port {port}, answered HTTP {res.status}")  # fmt: skip
    said = res.body.decode("utf-8", "replace").split("\x00")
    same = [p for p in pids if procfs.cmdline(p) == said]
    if len(same) == 1:
        return Found(same[0], f"served by local process {same[0]} (it listens on port {port} "
                              f"with the command line the service reports): its /proc gives "
                              f"what /metrics does not (open fds, TCP sockets)")  # fmt: skip
    listed = ", ".join(str(p) for p in pids)
    return Found(None, f"/proc not read: the process listening on port {port} (PID {listed}) "
                       f"does not have the command line the service reports (a proxy in "
                       f"front of it?)")  # fmt: skip
