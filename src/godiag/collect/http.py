"""HTTP collection from Go services: bytes plus where and when, never parsed here.

On the standard library's http.client (not urllib, whose redirect handler keeps the
Authorization header across hosts and follows ftp://). The target is not trusted:

- only http and https; redirects are followed only within the target's origin (scheme,
  host, port), so its credentials never leave it;
- every answer is read in pieces under a budget (limits.Budget): a declared
  Content-Length over the byte cap is refused before reading, a stream is cut at the
  cap, and a watchdog closes the socket at the capture's deadline (which a trickling
  body, one byte every few seconds, would otherwise stretch forever: socket timeouts
  only bound each read);
- with a pool (limits.IN_FLIGHT, what diagnoses use), the bytes held while reading are
  drawn from it, so concurrent captures cannot each grow to their cap at once.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import io
import re
import socket
import ssl
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import unquote, unquote_plus, urlencode, urljoin, urlsplit, urlunsplit

from godiag.errors import CaptureBudgetError, CollectError, HttpStatusError
from godiag.limits import MB, SINGLE_CAPTURE_MB, Budget, InFlight
from godiag.model.capture import Capture, CaptureMeta

MAX_REDIRECTS = 5
ERROR_BODY_BYTES = 64 * 1024  # enough of an error page to explain it
READ_STEP = 64 * 1024
REDIRECTS = (301, 302, 303, 307, 308)


@dataclass(frozen=True)
class HttpResult:
    url: str
    status: int
    body: bytes
    content_type: str | None
    headers: dict[str, str] = field(default_factory=dict)
    sent_auth: bool = False  # the request carried credentials (a 401 then refused them)


# query parameters whose value is a credential (?token=..., ?api_key=..., ?sig=...)
_SECRET_PARAM = re.compile(r"pass|secret|token|key|auth|credential|sig|session", re.IGNORECASE)


def _shown_param(piece: str) -> str:
    name, eq, value = piece.partition("=")
    secret = eq and value and _SECRET_PARAM.search(unquote_plus(name))
    return f"{name}=REDACTED" if secret else piece


def shown_url(url: str) -> str:
    """`url` without user:password@ and with the values of secret-looking query parameters
    (a token a base URL carries to every endpoint) replaced, for messages and sources."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    query = "&".join(_shown_param(p) for p in parts.query.split("&")) if parts.query else ""
    if netloc == parts.netloc and query == parts.query:
        return url
    return parts._replace(netloc=netloc, query=query).geturl()


# net/http/pprof's own query parameters: they belong to one endpoint, never to the service
ENDPOINT_PARAMS = frozenset({"debug", "gc", "seconds"})
# the endpoints godiag reads, at the end of a URL's path: what is before them is the service
_ENDPOINT_TAIL = re.compile(r"/debug/pprof(?:/[^/]*)?/?$|/(?:metrics|debug/vars)/?$")


def _query_without(query: str, names: frozenset[str] | set[str]) -> list[str]:
    """The raw `k=v` pieces of `query` whose key is not in `names`, as written (a token
    is passed on byte for byte, not re-encoded)."""
    return [p for p in query.split("&") if p and unquote_plus(p.partition("=")[0]) not in names]


def service_base(url: str) -> str:
    """The base URL of the service `url` is under: a trailing endpoint (`/debug/pprof/...`,
    `/metrics`, `/debug/vars`) and pprof's own parameters (debug, gc, seconds) removed; the
    path prefix it is mounted under (a reverse proxy's `/prefix`, a pod proxy's `.../proxy`)
    and any other query (an access token) kept."""
    parts = urlsplit(url)
    path = _ENDPOINT_TAIL.sub("", parts.path).rstrip("/")
    query = "&".join(_query_without(parts.query, ENDPOINT_PARAMS))
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


def endpoint_url(url: str, path: str, query: Sequence[tuple[str, str]] = ()) -> str:
    """The URL of endpoint `path` (such as /debug/pprof/heap or /metrics) of the service
    `url` is under. Every URL godiag asks a service for is made here, so a mount prefix
    and a query of the base (`http://host/prefix/?token=abc`) reach every endpoint alike:
    the path is joined to the base's path, and the base's query kept as query, merged with
    the endpoint's own (whose keys win)."""
    parts = urlsplit(service_base(url))
    joined = parts.path + "/" + path.lstrip("/")
    pieces = _query_without(parts.query, {k for k, _ in query})
    if query:
        pieces.append(urlencode(list(query)))
    return urlunsplit((parts.scheme, parts.netloc, joined, "&".join(pieces), ""))


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise CollectError(f"{shown_url(url)}: only http and https URLs are fetched")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise CollectError(f"{shown_url(url)}: bad port") from None
    if not parts.hostname:
        raise CollectError(f"{shown_url(url)}: no host")
    return scheme, parts.hostname.lower(), port


def same_origin(a: str, b: str) -> bool:
    """Whether two URLs share scheme, host and port (a default port spelled or not): where
    a target's credentials may go (its metrics URL on another port gets none of them)."""
    try:
        return _origin(a) == _origin(b)
    except CollectError:
        return False


class _Watchdog:
    """Shuts the socket down at the deadline: unblocks any read, however slow the sender."""

    def __init__(self, conn: http.client.HTTPConnection, end: float) -> None:
        self.fired = False
        self._conn = conn
        self._timer = threading.Timer(max(0.0, end - time.monotonic()), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        sock = self._conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed: nothing to unblock
                sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()


@dataclass(frozen=True)
class HttpClient:
    """Injected into collectors so tests can point them at real loopback servers."""

    headers: dict[str, str] = field(default_factory=dict)
    tls_verify: bool = True
    ca_file: str | None = None
    user_agent: str = "godiag"
    budget: Budget = field(default_factory=lambda: Budget(SINGLE_CAPTURE_MB * MB))
    # None: only the budget bounds a fetch (one capture at a time, as the CLI's commands
    # take them); diagnoses pass limits.IN_FLIGHT since they read several at once.
    pool: InFlight | None = None
    # A ready TLS context (a cluster's CA and client certificate, collect/kube): used as is
    # instead of tls_verify/ca_file. The certificate is presented only to the origin asked,
    # as redirects to another origin are never followed.
    ssl_context: ssl.SSLContext | None = field(default=None, compare=False, repr=False)
    # Redirects must also stay under this URL prefix: a pod behind the API server's proxy
    # may not send its reader, with the cluster credentials, elsewhere on the API server.
    within: str | None = None

    def _context(self) -> ssl.SSLContext:
        if self.ssl_context is not None:
            return self.ssl_context
        ctx = ssl.create_default_context(cafile=self.ca_file)
        if not self.tls_verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def get(self, url: str, timeout: float, *, allow_error: bool = False) -> HttpResult:
        """GET `url` within `timeout` seconds in all (and the budget's deadline); HTTP
        errors raise CollectError unless `allow_error` (then returned)."""
        origin = _origin(url)
        end = self.budget.ends_at(timeout)
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            if end <= time.monotonic():
                raise CaptureBudgetError(
                    f"{shown_url(url)}: not asked: the diagnosis deadline has passed", "deadline"
                )
            res, location = self._once(current, end, timeout)
            if location is None:
                if res.status >= 400 and not allow_error:
                    raise HttpStatusError(
                        describe_http_error(res.url, res.status, res.body, res.sent_auth),
                        res.status,
                    )
                return res
            nxt = urljoin(current, location)
            if urlsplit(nxt).scheme.lower() not in ("http", "https") or _origin(nxt) != origin:
                raise CollectError(
                    f"{shown_url(url)}: redirected to another origin ({shown_url(nxt)[:200]}): "
                    f"not followed, the target's credentials stay with the target"
                )
            if self.within is not None and not nxt.startswith(self.within):
                raise CollectError(
                    f"{shown_url(url)}: redirected out of {shown_url(self.within)[:200]} "
                    f"({shown_url(nxt)[:200]}): not followed"
                )
            current = nxt
        raise CollectError(f"{shown_url(url)}: more than {MAX_REDIRECTS} redirects")

    def _once(self, url: str, end: float, timeout: float) -> tuple[HttpResult, str | None]:
        parts = urlsplit(url)
        shown = shown_url(url)
        left = max(0.001, end - time.monotonic())
        conn: http.client.HTTPConnection
        if parts.scheme.lower() == "https":
            conn = http.client.HTTPSConnection(
                parts.hostname or "", parts.port, timeout=left, context=self._context()
            )
        else:
            conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=left)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {"User-Agent": self.user_agent, "Accept-Encoding": "identity", **self.headers}
        if parts.username is not None and "Authorization" not in headers:
            # user:password@ in the URL: sent as Basic auth, to this origin only
            raw = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
        dog = _Watchdog(conn, end)
        try:
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            hdrs = dict(resp.headers.items())
            if resp.status in REDIRECTS and resp.getheader("Location"):
                return HttpResult(shown, resp.status, b"", None, hdrs), resp.getheader("Location")
            cap = self.budget.max_bytes if resp.status < 400 else ERROR_BODY_BYTES
            body = self._body(resp, shown, cap, truncate=resp.status >= 400)
            if dog.fired:  # the shut-down socket read as an early end of the answer
                raise self._late(shown, timeout)
            ctype = resp.getheader("Content-Type")
            sent = "Authorization" in headers
            return HttpResult(shown, resp.status, body, ctype, hdrs, sent), None
        except CaptureBudgetError:
            raise
        except CollectError:
            if dog.fired:
                raise self._late(shown, timeout) from None
            raise
        except ssl.SSLError as exc:
            if dog.fired:
                raise self._late(shown, timeout) from None
            raise CollectError(
                f"{shown}: TLS error: {exc} (set tls_verify = false or "
                f"ca_file in the target's configuration)"
            ) from None
        except TimeoutError:
            raise self._late(shown, timeout) from None
        except (http.client.HTTPException, OSError) as exc:
            if dog.fired:
                raise self._late(shown, timeout) from None
            if isinstance(exc, ConnectionRefusedError | socket.gaierror):
                raise CollectError(f"{shown}: cannot connect: {exc}") from None
            raise CollectError(f"{shown}: connection failed: {exc}") from None
        finally:
            dog.cancel()
            conn.close()

    def _late(self, shown: str, timeout: float) -> CaptureBudgetError:
        if self.budget.deadline is not None and time.monotonic() >= self.budget.deadline - 0.01:
            return CaptureBudgetError(
                f"{shown}: stopped at the diagnosis deadline (no complete answer yet)", "deadline"
            )
        return CaptureBudgetError(
            f"{shown}: no answer within {timeout:g}s (the capture's time budget)", "time"
        )

    def _body(self, resp: http.client.HTTPResponse, shown: str, cap: int, truncate: bool) -> bytes:
        declared = (resp.getheader("Content-Length") or "").strip()
        # (a length of more digits than any real answer is refused without int())
        if not truncate and declared.isdigit() and (len(declared) > 15 or int(declared) > cap):
            raise CaptureBudgetError(
                f"{shown}: answer of {declared[:20]} bytes declared, over the "
                f"{cap // MB} MB capture budget: not read",
                "bytes",
            )
        buf = io.BytesIO()
        taken = 0
        try:
            while True:
                piece = resp.read1(READ_STEP)
                if not piece:
                    break
                if buf.tell() + len(piece) > cap:
                    if truncate:
                        buf.write(piece[: cap - buf.tell()])
                        break
                    raise CaptureBudgetError(
                        f"{shown}: answer larger than the {cap // MB} MB capture budget: cut off",
                        "bytes",
                    )
                if self.pool is not None and not self.pool.take(len(piece)):
                    raise CaptureBudgetError(
                        f"{shown}: cut off after {buf.tell() / MB:.0f} MB: captures in flight "
                        f"hold the process's {self.pool.capacity // MB} MB",
                        "memory",
                    )
                taken += len(piece)
                buf.write(piece)
            if not truncate and declared.isdigit() and buf.tell() < int(declared):
                raise CollectError(
                    f"{shown}: connection closed after {buf.tell()} of {declared} bytes"
                )
            return buf.getvalue()
        finally:
            if self.pool is not None:
                self.pool.give(taken)  # the caller owns the bytes from here on


def describe_http_error(url: str, status: int, body: bytes, sent_auth: bool = False) -> str:
    """One line for an HTTP error answer; `sent_auth`: the request carried credentials."""
    url = shown_url(url)
    text = body[:300].decode("utf-8", "replace").strip().splitlines()
    first = text[0] if text else ""
    if status == 404 and "/debug/pprof" in url:
        return (
            f"{url}: 404 Not Found: the service does not serve net/http/pprof here "
            f'(import _ "net/http/pprof" or register pprof handlers on its mux)'
        )
    if status in (401, 403):
        what = f"{url}: {status} {'Unauthorized' if status == 401 else 'Forbidden'}"
        if sent_auth:
            return f"{what}: the credentials sent were refused"
        # a metrics URL on another origin gets none of the target's credentials
        return (
            f"{what}: no credentials were sent; give them as user:pass@ in this URL, or as "
            f"auth (bearer or username/password) in the target's [[targets]] entry when it "
            f"is on the target's own host and port"
        )
    return f"{url}: HTTP {status}" + (f": {first}" if first else "")


def capture(
    client: HttpClient, url: str, profile_type: str, timeout: float, meta: CaptureMeta | None = None
) -> Capture:
    """GET `url` and wrap the body in a Capture stamped with the time it was taken."""
    when = datetime.now(UTC)
    res = client.get(url, timeout)
    return Capture(
        data=res.body,
        source=shown_url(url),
        profile_type=profile_type,
        captured_at=when,
        content_type=res.content_type,
        meta=meta or CaptureMeta(),
    )
