"""What `godiag serve` says about itself: /healthz (open, for liveness probes), its own
/metrics and its API description /openapi.json."""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from godiag.pipeline.openapi import SPEC
from godiag.pipeline.web.service import Service


class Health:
    def __init__(self, svc: Service) -> None:
        self.svc = svc

    async def healthz(self, request: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def metrics(self, request: Request) -> Response:
        counts = await run_in_threadpool(lambda: self.svc.queue().counts())
        body, ctype = self.svc.tel.exposition(counts)
        return Response(body, media_type=ctype)

    async def openapi(self, request: Request) -> Response:
        return Response(json.dumps(SPEC), media_type="application/json")
