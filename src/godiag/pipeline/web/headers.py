"""Security headers on every answer of `godiag serve` (an ASGI middleware, so routes that
Starlette answers itself, 404 and 405, carry them too)."""

from __future__ import annotations

from typing import Any

# Pages inline their CSS and JS (they work offline) and load nothing else. Only the
# incident page may frame, and only godiag's own report.
PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "img-src data:; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'"
)
# A report renders a document made of what a target and an alert said: served as a
# sandbox (an opaque origin, even when opened directly), it can run its own flame-graph
# script but never read godiag's pages or API with the viewer's credentials.
REPORT_CSP = (
    "sandbox allow-scripts; default-src 'none'; style-src 'unsafe-inline'; "
    "script-src 'unsafe-inline'; img-src data:; frame-src 'self' about:; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)


class SecurityHeaders:
    """Adds nosniff, framing rules and a Content-Security-Policy to every response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        report = str(scope.get("path", "")).endswith("/report")
        extra = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"SAMEORIGIN" if report else b"DENY"),
            (b"content-security-policy", (REPORT_CSP if report else PAGE_CSP).encode()),
            (b"referrer-policy", b"no-referrer"),
        ]

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)
