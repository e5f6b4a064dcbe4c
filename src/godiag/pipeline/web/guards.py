"""Request guards of `godiag serve`: who is calling (bearer or basic, read or admin), where
from (no cross-site posts) and a bounded body. They decide before any work is done: 401
before reading, 415/403 before reading, 413 before parsing. `require` wraps a handler in
the role check; app.py names the role of every route there, in one table.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from godiag.pipeline.settings import Credential

ROLES = {"read": 0, "admin": 1}

Handler = Callable[[Request], Awaitable[Response]]


def require(creds: tuple[Credential, ...], needed: str, handler: Handler) -> Handler:
    """`handler` behind a credential of at least the `needed` role: 401 without one (with
    the Basic challenge, so a browser asks), 403 when its role is too low."""

    async def guarded(request: Request) -> Response:
        role = role_of(request.headers.get("authorization"), creds)
        if role is None:
            return JSONResponse(
                {"error": "authentication required"},
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="godiag", charset="UTF-8"'},
            )
        if not allows(role, needed):
            return JSONResponse({"error": f"needs the {needed} role"}, status_code=403)
        return await handler(request)

    return guarded


class TooLarge(Exception):
    pass


def _eq(a: str, b: str | None) -> bool:
    # Constant time: a token compare must not leak how many leading bytes matched.
    return b is not None and hmac.compare_digest(a.encode(), b.encode())


def role_of(authorization: str | None, creds: tuple[Credential, ...]) -> str | None:
    """The role granted by an Authorization header, or None (-> 401)."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    best: str | None = None
    if scheme.lower() == "bearer" and value:
        for c in creds:
            if c.bearer is not None and _eq(value, c.bearer):
                best = _better(best, c.role)
    elif scheme.lower() == "basic" and value:
        try:
            user, sep, pw = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        if not sep:
            return None
        for c in creds:
            if c.username is not None and _eq(user, c.username) and _eq(pw, c.password):
                best = _better(best, c.role)
    return best


def _better(a: str | None, b: str) -> str:
    return b if a is None or ROLES[b] > ROLES[a] else a


def allows(role: str | None, needed: str) -> bool:
    return role is not None and ROLES[role] >= ROLES[needed]


class TooSlow(Exception):
    pass


async def read_body(request: Any, limit: int, seconds: float = 30.0) -> bytes:
    """The request body, or TooLarge as soon as it exceeds `limit` (declared or streamed),
    or TooSlow when it has not all arrived within `seconds` (a trickling sender)."""
    import asyncio

    try:
        async with asyncio.timeout(seconds):
            return await _read_body(request, limit)
    except TimeoutError:
        raise TooSlow() from None


async def _read_body(request: Any, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise TooLarge()
        except ValueError:
            raise TooLarge() from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def cross_site(request: Any, public_url: str | None) -> tuple[int, str] | None:
    """(status, why) when a state-changing request may come from another site's page.

    A browser holding cached Basic credentials will send a cross-site form or beacon
    with them, but only as text/plain, a form encoding or no type at all; a JSON post
    needs a CORS preflight, which godiag never grants. Alertmanager always posts
    application/json and sends no Origin. A browser's Origin, when present, must be
    godiag's own (the Host it was asked under, or `public_url`)."""
    ctype = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if ctype != "application/json":
        return 415, "Content-Type must be application/json"
    origin = request.headers.get("origin")
    if origin is None:
        return None
    own = {(request.headers.get("host") or "").lower()}
    if public_url:
        own.add(urlsplit(public_url).netloc.lower())
    if urlsplit(origin).netloc.lower() not in own:
        return 403, f"cross-origin request refused (Origin {origin[:100]})"
    return None
