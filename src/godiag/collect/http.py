"""HTTP collection from Go services: bytes plus where and when, never parsed here.

Uses the standard library's urllib so that reading a service needs no extra
dependency; auth headers and TLS settings come from the target configuration.
"""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlparse

from godiag.errors import CollectError
from godiag.model.capture import Capture, CaptureMeta

MAX_BYTES = 512 * 1024 * 1024  # never read more than this from one response


@dataclass(frozen=True)
class HttpResult:
    url: str
    status: int
    body: bytes
    content_type: str | None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class HttpClient:
    """Injected into collectors so tests can point them at real loopback servers."""

    headers: dict[str, str] = field(default_factory=dict)
    tls_verify: bool = True
    ca_file: str | None = None
    user_agent: str = "godiag"

    def _context(self) -> ssl.SSLContext | None:
        ctx = ssl.create_default_context(cafile=self.ca_file)
        if not self.tls_verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def get(self, url: str, timeout: float, *, allow_error: bool = False) -> HttpResult:
        """GET `url`; HTTP errors raise CollectError unless `allow_error` (then returned)."""
        req = urllib.request.Request(url, headers={"User-Agent": self.user_agent, **self.headers})
        ctx = self._context() if urlparse(url).scheme == "https" else None
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=ctx) as resp:
                body = resp.read(MAX_BYTES + 1)
                return self._result(url, resp.status, body, dict(resp.headers.items()))
        except urllib.error.HTTPError as exc:
            body = exc.read(64 * 1024) if exc.fp is not None else b""
            result = self._result(url, exc.code, body, dict(exc.headers.items()))
            if allow_error:
                return result
            raise CollectError(describe_http_error(url, exc.code, body)) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, ssl.SSLError):
                raise CollectError(
                    f"{url}: TLS error: {reason} (set tls_verify = false or "
                    f"ca_file in the target's configuration)"
                ) from None
            raise CollectError(f"{url}: cannot connect: {reason}") from None
        except TimeoutError:
            raise CollectError(f"{url}: no answer within {timeout:g}s") from None
        except (ConnectionError, OSError) as exc:
            raise CollectError(f"{url}: connection failed: {exc}") from None

    @staticmethod
    def _result(url: str, status: int, body: bytes, headers: dict[str, str]) -> HttpResult:
        if len(body) > MAX_BYTES:
            raise CollectError(f"{url}: response larger than {MAX_BYTES // 2**20} MB")
        ctype = headers.get("Content-Type") or headers.get("content-type")
        return HttpResult(url, status, body, ctype, headers)


def describe_http_error(url: str, status: int, body: bytes) -> str:
    text = body[:300].decode("utf-8", "replace").strip().splitlines()
    first = text[0] if text else ""
    if status == 404 and "/debug/pprof" in url:
        return (
            f"{url}: 404 Not Found: the service does not serve net/http/pprof here "
            f'(import _ "net/http/pprof" or register pprof handlers on its mux)'
        )
    if status in (401, 403):
        return (
            f"{url}: {status} {'Unauthorized' if status == 401 else 'Forbidden'}: "
            f"set auth (bearer or username/password) in the target's configuration"
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
        source=url,
        profile_type=profile_type,
        captured_at=when,
        content_type=res.content_type,
        meta=meta or CaptureMeta(),
    )
