"""Collect net/http/pprof profiles, /debug/vars and /metrics from a Go service.

Bytes only: decoding happens in formats/. Errors name the likely cause (pprof not
registered, the server's WriteTimeout, a runtime without the goroutineleak profile,
auth, TLS) because a bare "HTTP 400" teaches nobody anything.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import urlsplit

from godiag.collect.http import (
    HttpClient,
    HttpResult,
    describe_http_error,
    endpoint_url,
    shown_url,
)
from godiag.errors import CollectError, ParseError
from godiag.model.capture import Capture, CaptureMeta

# profile type -> endpoint under /debug/pprof/
ENDPOINTS: dict[str, str] = {
    "cpu": "profile",
    "heap": "heap",
    "allocs": "allocs",
    "goroutine": "goroutine",
    "goroutineleak": "goroutineleak",
    "block": "block",
    "mutex": "mutex",
    "threadcreate": "threadcreate",
    "trace": "trace",
}
WINDOWED = {"cpu", "trace"}  # these block for `seconds` before answering
SLACK = 15.0  # seconds of answer time on top of the profile window

Progress = Callable[[float, float], None]  # (elapsed, window) seconds

_SECRET_ARG = re.compile(
    r"(pass(word|wd)?|secret|token|api[-_]?key|auth|credential|private[-_]?key|dsn|access[-_]?key)",
    re.IGNORECASE,
)
_URL_USERINFO = re.compile(r"(\w+://)[^/@\s]+@")


def profile_url(
    target: str, kind: str, seconds: float | None = None, gc: bool = False,
    debug: int | None = None,
) -> str:  # fmt: skip
    if kind not in ENDPOINTS:
        raise CollectError(f"unknown profile type {kind!r} (one of {', '.join(sorted(ENDPOINTS))})")
    query: list[tuple[str, str]] = []
    if kind in WINDOWED:
        query.append(("seconds", f"{seconds:g}" if seconds is not None else "30"))
    if kind == "heap" and gc:
        query.append(("gc", "1"))
    if debug is not None:
        query.append(("debug", str(debug)))
    return endpoint_url(target, f"/debug/pprof/{ENDPOINTS[kind]}", query)


def _explain(kind: str, res: HttpResult, seconds: float | None) -> str:
    body = res.body[:300].decode("utf-8", "replace").strip()
    if res.status == 400 and "WriteTimeout" in body:
        return (
            f"{res.url}: the server's WriteTimeout is not longer than {seconds:g}s, so it refuses "
            f"this profile window: use a shorter --seconds, or raise http.Server.WriteTimeout"
        )
    if res.status == 503 and seconds is not None:
        return (
            f"{res.url}: 503 after the window: a timeout in front of pprof (such as "
            f"http.TimeoutHandler or a proxy) is shorter than {seconds:g}s; use a shorter --seconds"
        )
    if res.status == 404 and "Unknown profile" in body:
        if kind == "goroutineleak":
            return (
                f"{res.url}: this Go runtime has no goroutineleak profile "
                f"(it needs Go 1.27+, or Go 1.26 built with GOEXPERIMENT=goroutineleakprofile)"
            )
        return f"{res.url}: the runtime does not know the {kind} profile"
    if res.status == 500 and "already in use" in body:
        return f"{res.url}: a CPU profile is already being taken in this process; retry later"
    return describe_http_error(res.url, res.status, res.body, res.sent_auth)


def _get_with_progress(
    client: HttpClient, url: str, timeout: float, window: float, progress: Progress | None
) -> HttpResult:
    if progress is None or window <= 0:
        return client.get(url, timeout, allow_error=True)
    box: list[HttpResult] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            box.append(client.get(url, timeout, allow_error=True))
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    th = threading.Thread(target=run, daemon=True)
    start = time.monotonic()
    th.start()
    while th.is_alive():
        progress(min(time.monotonic() - start, window), window)
        th.join(0.25)
    progress(window, window)
    if errors:
        raise errors[0]
    return box[0]


def collect_profile(
    client: HttpClient,
    target: str,
    kind: str,
    *,
    seconds: float | None = None,
    gc: bool = False,
    timeout: float = 30.0,
    progress: Progress | None = None,
    meta: CaptureMeta | None = None,
) -> Capture:
    """One profile (or an execution trace, kept raw) from `target`'s /debug/pprof."""
    url = profile_url(target, kind, seconds, gc)
    window = (seconds if seconds is not None else 30.0) if kind in WINDOWED else 0.0
    when = datetime.now(UTC)
    started = time.monotonic()
    try:
        res = _get_with_progress(client, url, timeout + window + SLACK, window, progress)
    except CollectError as exc:
        elapsed = time.monotonic() - started
        if window and "connection" in str(exc).lower() and elapsed >= 1.0:
            raise CollectError(
                f"{exc} after {elapsed:.0f}s of a {window:g}s window: the server probably closed "
                f"the connection at its WriteTimeout; use a shorter --seconds"
            ) from None
        raise
    if res.status != 200:
        raise CollectError(_explain(kind, res, seconds))
    if kind in WINDOWED and not res.body:
        raise CollectError(
            f"{shown_url(url)}: empty answer after the window: the server's WriteTimeout is "
            f"probably shorter than {window:g}s"
        )
    cap = Capture(res.body, shown_url(url), kind, when, res.content_type, meta or CaptureMeta())
    if kind in ("block", "mutex"):
        _check_rate(cap, client, target, timeout)
    return cap


_MUTEX_PERIOD = re.compile(rb"^sampling period=(\d+)\s*$", re.MULTILINE)


class EmptyProfileError(CollectError):
    """A block or mutex profile without a sample: profiling of it is off (proven for the
    mutex profile when its rate is read back), or likely so. Normal for most services:
    a diagnosis notes it instead of counting a capture as missing."""


def _mutex_fraction(client: HttpClient, target: str, timeout: float) -> tuple[int | None, str]:
    """The service's current SetMutexProfileFraction, which the debug=1 text of the mutex
    profile prints as `sampling period=N` (the binary form does not carry it), or None
    with why it could not be read; and the URL asked."""
    url = profile_url(target, "mutex", debug=1)
    try:
        res = client.get(url, timeout, allow_error=True)
    except CollectError:
        return None, url
    m = _MUTEX_PERIOD.search(res.body[:4096]) if res.status == 200 else None
    return (int(m.group(1)) if m else None), url


def _check_rate(cap: Capture, client: HttpClient, target: str, timeout: float) -> None:
    from godiag.formats.pprof import decode

    try:
        prof = decode(cap.data, cap.source, limit=client.budget.max_bytes, pool=client.pool)
    except ParseError:
        return  # the caller decodes again and reports it
    if any(any(s.values) for s in prof.samples):
        return
    # Empty is also what a service with profiling on answers while nothing has been
    # contended: the rate is stated as the reason only where the service reports it.
    if cap.profile_type == "block":
        raise EmptyProfileError(
            f"{cap.source}: the block profile is empty; not sure why: likely block profiling "
            f"is off (runtime.SetBlockProfileRate never called with a rate > 0), else no "
            f"wait has ended since it was turned on (a wait is recorded when it ends). The "
            f"runtime does not report this rate: a call to runtime.SetBlockProfileRate in "
            f"the service's code, before the waits, decides"
        )
    fraction, asked = _mutex_fraction(client, target, timeout)
    if fraction is not None and fraction > 0:
        return  # profiling on, nothing contended yet: an empty profile is the answer
    if fraction == 0:
        raise EmptyProfileError(
            f"{cap.source}: the mutex profile is empty: its sampling rate is 0 ({shown_url(asked)} "
            f"says 'sampling period=0'): the service has not called "
            f"runtime.SetMutexProfileFraction(rate) with a rate > 0, so nothing is recorded"
        )
    raise EmptyProfileError(
        f"{cap.source}: the mutex profile is empty; not sure why: its rate could not be read "
        f"('sampling period=N' in {shown_url(asked)}); likely mutex profiling is off "
        f"(runtime.SetMutexProfileFraction never called with a rate > 0), else nothing has "
        f"been contended yet"
    )


def redact_cmdline(args: list[str]) -> list[str]:
    """Command lines carry secrets: values of secret-looking flags and URL passwords go."""
    out: list[str] = []
    hide_next = False
    for a in args:
        if hide_next and not a.startswith("-"):
            out.append("REDACTED")
            hide_next = False
            continue
        hide_next = False
        a = _URL_USERINFO.sub(r"\1REDACTED@", a)
        if a.startswith("-") and _SECRET_ARG.search(a):
            if "=" in a:
                a = a.split("=", 1)[0] + "=REDACTED"
            else:
                hide_next = True
        elif "=" in a and _SECRET_ARG.search(a.split("=", 1)[0]):
            a = a.split("=", 1)[0] + "=REDACTED"
        out.append(a)
    return out


def collect_cmdline(client: HttpClient, target: str, timeout: float = 10.0) -> list[str]:
    url = endpoint_url(target, "/debug/pprof/cmdline")
    res = client.get(url, timeout)
    args = [a for a in res.body.decode("utf-8", "replace").split("\x00") if a]
    return redact_cmdline(args)


def collect_vars(client: HttpClient, target: str, timeout: float = 10.0) -> Capture:
    return _plain(client, endpoint_url(target, "/debug/vars"), "expvar", timeout)


def collect_metrics(client: HttpClient, target: str, timeout: float = 10.0) -> Capture:
    return _plain(client, endpoint_url(target, "/metrics"), "metrics", timeout)


def collect_metrics_at(client: HttpClient, url: str, timeout: float = 10.0) -> Capture:
    """The metrics endpoint at `url` itself (a target's metrics URL, on a port of its own):
    Prometheus text (`metrics`) or expvar JSON (`expvar`), told by the path (`/debug/vars`)
    else by the answer (a JSON object), as the two differ at the first byte."""
    cap = _plain(client, url, "metrics", timeout)
    return replace(cap, profile_type="expvar") if _is_expvar(cap) else cap


def _is_expvar(cap: Capture) -> bool:
    path = urlsplit(cap.source).path.rstrip("/")
    if path.endswith("/debug/vars"):
        return True
    ctype = (cap.content_type or "").split(";", 1)[0].strip().lower()
    return ctype == "application/json" or cap.data.lstrip()[:1] == b"{"


def collect_goroutine_count(client: HttpClient, target: str, timeout: float = 10.0) -> Capture:
    """The goroutine profile at debug=1: stacks grouped by count, headed by the total. Cheap
    next to a debug=2 dump, so a window can take several (the count's trend without
    /metrics)."""
    return _plain(client, profile_url(target, "goroutine", debug=1), "goroutine", timeout)


def collect_memstats(client: HttpClient, target: str, timeout: float = 10.0) -> Capture:
    """The heap profile at debug=1, for the runtime.MemStats block that ends it
    (formats/memstats.py): the heap and GC counters of a service that exports no metrics.
    No GC is forced: the counters are read as the service's own collections left them."""
    return _plain(client, profile_url(target, "heap", debug=1), "heap", timeout)


def _plain(client: HttpClient, url: str, kind: str, timeout: float) -> Capture:
    when = datetime.now(UTC)
    res = client.get(url, timeout)
    return Capture(res.body, shown_url(url), kind, when, res.content_type)


def service_meta(client: HttpClient, target: str, timeout: float = 10.0) -> CaptureMeta:
    """What the service says about itself in /metrics (prometheus.self_described), else nothing.

    Best effort: a service without /metrics is normal, so failures just leave fields empty.
    """
    from godiag.formats import prometheus

    meta = CaptureMeta(host=urlsplit(shown_url(target)).netloc)
    try:
        cap = collect_metrics(client, target, timeout)
        fams = prometheus.parse(cap.data, cap.source)
    except (CollectError, ParseError):
        return meta
    return replace(prometheus.self_described(fams), host=meta.host)
