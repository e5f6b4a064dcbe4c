"""Obtain goroutine dumps: a file, `-` (stdin), a pprof URL, or a local PID.

Bytes only; parsing happens in formats/. URLs are asked for `debug=2` (one entry per
goroutine, with states and wait times) and fall back to `debug=1` when the service
refuses it. A PID is resolved to the process's listening ports (collect/procfs.py),
and the first port serving /debug/pprof/goroutine is used.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlparse

from godiag.collect.http import HttpClient, describe_http_error, endpoint_url, shown_url
from godiag.collect.procfs import listening_addresses, url_of
from godiag.errors import CollectError, ParseError
from godiag.formats.goroutines import looks_binary
from godiag.limits import MB, SINGLE_CAPTURE_MB, InputTooLarge, read_capped
from godiag.model.capture import Capture, CaptureMeta

PPROF_PATH = "/debug/pprof/goroutine"


def goroutine_url(url: str, debug: int) -> str:
    """The goroutine profile at debug=N of the service `url` is under (its base URL, a
    pprof URL, under a mount prefix or a pod proxy; the base's query kept)."""
    return endpoint_url(url, PPROF_PATH, [("debug", str(debug))])


def fetch_url(url: str, *, client: HttpClient, timeout: float) -> Capture:
    when = datetime.now(UTC)
    asked = goroutine_url(url, 2)
    res = client.get(asked, timeout, allow_error=True)
    if res.status >= 400:
        first = res
        asked = goroutine_url(url, 1)
        res = client.get(asked, timeout, allow_error=True)
        if res.status >= 400:
            raise CollectError(
                describe_http_error(first.url, first.status, first.body, first.sent_auth)
            )
    host = urlparse(shown_url(asked)).netloc
    return Capture(
        data=res.body,
        source=shown_url(asked),
        profile_type="goroutine",
        captured_at=when,
        content_type=res.content_type,
        meta=CaptureMeta(host=host),
    )


def pprof_base_of_pid(pid: int, *, client: HttpClient, timeout: float) -> str:
    """The base URL at which local process `pid` serves net/http/pprof: the first of its
    listening ports whose /debug/pprof/goroutine answers like a Go runtime."""
    addrs = listening_addresses(pid)
    if not addrs:
        raise CollectError(
            f"process {pid} listens on no TCP port: godiag reads goroutines over "
            f'net/http/pprof (import _ "net/http/pprof" and serve HTTP), or send it '
            f"SIGQUIT and give godiag the output"
        )
    tried: list[str] = []
    for host, port in addrs:
        base = url_of(host, port)
        try:
            res = client.get(goroutine_url(base, 1), min(timeout, 5.0), allow_error=True)
        except CollectError:
            tried.append(f"{host}:{port} (no answer)")
            continue
        if res.status == 200 and res.body.startswith(b"goroutine profile: total "):
            return base
        tried.append(f"{host}:{port} (HTTP {res.status})")
    raise CollectError(f"process {pid} serves no {PPROF_PATH} on its ports: {', '.join(tried)}")


def fetch_pid(pid: int, *, client: HttpClient, timeout: float) -> Capture:
    cap = fetch_url(pprof_base_of_pid(pid, client=client, timeout=timeout), client=client,
                    timeout=timeout)  # fmt: skip
    return Capture(
        data=cap.data,
        source=cap.source,
        profile_type=cap.profile_type,
        captured_at=cap.captured_at,
        content_type=cap.content_type,
        meta=CaptureMeta(host=cap.meta.host, tags={"pid": str(pid)}),
    )


def _capped(fh: BinaryIO, source: str, already: int = 0) -> bytes:
    """The rest of a local dump, within the single-capture budget a URL gets."""
    try:
        return read_capped(fh, SINGLE_CAPTURE_MB * MB - already, source)
    except InputTooLarge:
        raise CollectError(f"{source}: larger than {SINGLE_CAPTURE_MB} MB, the cap of one "
                           "goroutine dump") from None  # fmt: skip


def fetch(source: str, *, client: HttpClient | None = None, timeout: float = 30.0) -> Capture:
    """Bytes of a goroutine dump from a file, `-`, a URL or a PID."""
    client = client or HttpClient()
    when = datetime.now(UTC)
    if source == "-":
        return Capture(_capped(sys.stdin.buffer, "<stdin>"), "<stdin>", "goroutine", when)
    if source.startswith(("http://", "https://")):
        return fetch_url(source, client=client, timeout=timeout)
    path = Path(source)
    if source.isdigit() and not path.exists():
        return fetch_pid(int(source), client=client, timeout=timeout)
    try:
        with path.open("rb") as fh:
            # a glance before the whole: a large binary file is refused after 4 KB read,
            # not after all of it (a gzip is read whole: a proto profile, or a gzip'd dump)
            head = fh.read(4096)
            if head[:2] != b"\x1f\x8b" and looks_binary(head):
                raise ParseError(source, "binary data, not a goroutine dump", offset=0)
            data = head + _capped(fh, source, len(head))
    except FileNotFoundError:
        raise CollectError(f"{source}: no such file (nor a URL or a PID)") from None
    except IsADirectoryError:
        raise CollectError(f"{source}: is a directory, not a goroutine dump") from None
    except OSError as exc:
        raise CollectError(f"{source}: cannot read: {exc.strerror}") from None
    return Capture(data, source, "goroutine", when)
