"""GET /incidents/{iid}/artifacts/{aid}: a stored capture of a diagnosis, as a download."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from godiag.pipeline.web.incidents import load
from godiag.pipeline.web.service import Service


class Artifacts:
    def __init__(self, svc: Service) -> None:
        self.svc = svc

    async def download(self, request: Request) -> Response:
        inc = await load(self.svc, request)
        if isinstance(inc, Response):
            return inc
        aid = request.path_params["aid"]
        known = {a.get("id") for a in (inc.report or {}).get("artifacts", []) if a.get("stored")}
        if aid not in known:  # only this incident's artifacts, never an arbitrary store id
            return JSONResponse({"error": "no such artifact"}, status_code=404)

        def read() -> bytes:
            from godiag.store import open_store

            with open_store(self.svc.config) as store:
                return store.read(aid)

        data = await run_in_threadpool(read)
        name = f"{inc.id}-{aid}.txt"
        return Response(
            data,
            media_type="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
