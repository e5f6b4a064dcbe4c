"""The HTML pages of `godiag serve`: the incident list (/), an incident (/incidents/{iid})
and its diagnosis report (/incidents/{iid}/report, framed by the incident page; headers.py
serves it as a sandbox). Rendering runs in the thread pool, off the event loop."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from godiag.pipeline.web.incidents import incident_doc, load
from godiag.pipeline.web.service import Service
from godiag.report.html import render_page


def _time(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds") if ts else None


class Pages:
    def __init__(self, svc: Service) -> None:
        self.svc = svc

    async def index(self, request: Request) -> Response:
        def page() -> str:
            q = self.svc.queue()
            rows, counts = q.list(200, 0, None), q.counts()
            items = [{**incident_doc(i, False), "received": _time(i.received_at)} for i in rows]
            doc = {"incidents": items, "total": len(items), "counts": counts}
            return render_page("serve_incidents.html.j2", doc)

        return HTMLResponse(await run_in_threadpool(page))

    async def incident(self, request: Request) -> Response:
        inc = await load(self.svc, request)
        if isinstance(inc, Response):
            return inc
        page = await run_in_threadpool(
            lambda: render_page("serve_incident.html.j2", incident_doc(inc, False))
        )
        return HTMLResponse(page)

    async def report(self, request: Request) -> Response:
        inc = await load(self.svc, request)
        if isinstance(inc, Response):
            return inc
        doc = (inc.report or {}).get("document")
        if not doc:
            return JSONResponse({"error": "no report yet"}, status_code=404)
        from godiag.report import render

        html = await run_in_threadpool(render, doc, "html")
        return HTMLResponse(html if isinstance(html, str) else html.decode())
