"""POST /api/v1/alerts: Alertmanager's webhook. The guards (guards.py) run before anything
is read; the notification is parsed strictly, then committed by the group committer: a 202
means the alerts are in the queue."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from godiag.errors import ParseError
from godiag.pipeline.jobs import Rejected
from godiag.pipeline.web import guards
from godiag.pipeline.web.service import Service


class Webhook:
    def __init__(self, svc: Service) -> None:
        self.svc = svc
        self.limit = svc.settings.max_body_kb * 1024

    async def post(self, request: Request) -> Response:
        svc, limit = self.svc, self.limit
        refused = guards.cross_site(request, svc.settings.public_url)
        if refused is not None:
            svc.tel.received("refused")
            return JSONResponse({"error": refused[1]}, status_code=refused[0])
        try:
            body = await guards.read_body(request, limit, svc.settings.body_timeout_seconds)
        except guards.TooLarge:
            svc.tel.received("too-large")
            return JSONResponse({"error": f"body over {limit} bytes"}, status_code=413)
        except guards.TooSlow:
            svc.tel.received("too-slow")
            return JSONResponse(
                {"error": f"body not received within {svc.settings.body_timeout_seconds:g}s"},
                status_code=408,
                headers={"Connection": "close"},
            )
        from godiag.formats.alertmanager import parse

        try:
            note = parse(body)
        except ParseError as exc:
            svc.tel.received("malformed")
            return JSONResponse({"error": exc.why}, status_code=400)
        try:  # returns once the batch holding it is committed
            acc = await svc.committer.submit(note)
        except Rejected as exc:  # this request's data, alone: the batch committed without it
            svc.tel.received("malformed")
            return JSONResponse({"error": str(exc)}, status_code=400)
        svc.tel.received("accepted", len(acc.new), acc.duplicates)
        if acc.new:
            svc.workers.wake.set()
        return JSONResponse(acc.to_dict(), status_code=202)
