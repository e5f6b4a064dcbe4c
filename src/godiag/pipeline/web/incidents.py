"""The incidents API (GET /api/v1/incidents, /api/v1/incidents/{iid}) and what the pages
and downloads share with it: finding an incident by its id, and its redacted document."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from godiag.pipeline import notify
from godiag.pipeline.queue import Incident
from godiag.pipeline.web.service import Service

STATES = ("queued", "running", "done", "failed", "skipped")
_ID_OK = frozenset("0123456789abcdef")


async def load(svc: Service, request: Request) -> Incident | Response:
    """The incident of the path's `iid`, or the 404 to answer (an id that cannot be one
    is refused before the database is asked)."""
    iid = request.path_params["iid"]
    if not (0 < len(iid) <= 40 and set(iid) <= _ID_OK):
        return JSONResponse({"error": "no such incident"}, status_code=404)
    inc = await run_in_threadpool(lambda: svc.queue().get(iid))
    return inc if inc is not None else JSONResponse({"error": "no such incident"}, 404)


def incident_doc(inc: Incident, full: bool) -> dict[str, Any]:
    """An incident as the API and the pages show it; `full` adds the whole report."""
    d = inc.summary()
    # alert data may carry secrets: pages and the API show it redacted, like notifications
    d["labels"] = notify.redact_labels(inc.labels)
    d["annotations"] = notify.redact_labels(inc.annotations)
    # Lists load the report as an empty stand-in (queue.LIST_COLUMNS): an empty `causes`
    # there would read as "no cause found", so causes come only with a loaded report.
    if inc.report:
        d["causes"] = inc.report.get("causes", [])
        d["artifacts"] = inc.report.get("artifacts", [])
    if full:
        d["report"] = inc.report
    return d


def _int(request: Request, key: str, default: int, hi: int) -> int | None:
    raw = request.query_params.get(key)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12 or int(raw) > hi:
        return None
    return int(raw)


class Incidents:
    def __init__(self, svc: Service) -> None:
        self.svc = svc

    async def list(self, request: Request) -> Response:
        lim, off = _int(request, "limit", 100, 1000), _int(request, "offset", 0, 10**9)
        state = request.query_params.get("state")
        if lim is None or off is None or state not in (None, *STATES):
            return JSONResponse({"error": "bad limit, offset or state"}, status_code=400)

        def docs() -> list[dict[str, Any]]:
            return [incident_doc(i, False) for i in self.svc.queue().list(lim, off, state)]

        return JSONResponse({"incidents": await run_in_threadpool(docs)})

    async def one(self, request: Request) -> Response:
        inc = await load(self.svc, request)
        if isinstance(inc, Response):
            return inc
        return JSONResponse(await run_in_threadpool(incident_doc, inc, True))
