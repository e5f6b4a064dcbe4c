"""The `godiag serve` HTTP application (Starlette on uvicorn; docs/architecture.md says why).

Every route but /healthz needs a credential from `[serve]`: read for pages, GET API,
downloads and /metrics; admin for posting alerts. Handlers do their database work, the
redaction of alert data and the rendering of pages in the thread pool (one queue
connection per thread) so the event loop keeps answering /healthz and the webhook.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from godiag.config import Config
from godiag.errors import ParseError
from godiag.pipeline import webhook
from godiag.pipeline.jobs import Committer, Diagnoser, Rejected, Workers
from godiag.pipeline.openapi import SPEC
from godiag.pipeline.queue import Incident, JobDb, Queue
from godiag.pipeline.settings import ServeSettings
from godiag.pipeline.telemetry import Telemetry

_ID_OK = frozenset("0123456789abcdef")


def open_jobdb(config: Config) -> JobDb:
    """The queue lives in the store's database: the fleet PostgreSQL, else SQLite by the index."""
    if config.store.backend == "fleet":
        return JobDb(dsn=config.store.postgres_dsn)
    from godiag.store import local_root

    return JobDb(sqlite_path=Path(local_root(config.store)) / "serve.sqlite3")


class Service:
    def __init__(self, config: Config, diagnoser: Diagnoser, *, workers: bool = True) -> None:
        self.config = config
        self.settings: ServeSettings = config.serve or ServeSettings()
        self.tel = Telemetry()
        self._local = threading.local()
        self._dbs: list[JobDb] = []
        self._lock = threading.Lock()
        open_jobdb(config).close()  # create the tables now: fail at start, not per request
        self.workers = Workers(
            lambda: open_jobdb(config), config, self.settings, diagnoser, self._done
        )
        self.run_workers = workers
        self.committer = Committer(lambda: open_jobdb(config), config, self.settings)

    def queue(self) -> Queue:
        q: Queue | None = getattr(self._local, "queue", None)
        if q is None:
            db = open_jobdb(self.config)
            with self._lock:
                self._dbs.append(db)
            q = self._local.queue = Queue(db)
        return q

    def _done(
        self, inc: Incident, report: dict[str, Any] | None, error: str | None, s: float
    ) -> None:
        from godiag.pipeline import notify

        self.tel.job_finished(report is not None, s)
        st = self.settings
        if not (st.notify_webhook or st.notify_slack):
            return
        msg = notify.message(inc, report, error, st.public_url)
        if st.notify_webhook:
            notify.post(st.notify_webhook, msg)
        if st.notify_slack:
            notify.post(st.notify_slack, notify.slack(msg))

    def startup(self) -> None:
        if self.run_workers:
            self.workers.start()

    def shutdown(self) -> None:
        self.committer.stop()
        self.workers.stop()
        with self._lock:
            for db in self._dbs:
                db.close()


def _auth(svc: Service, request: Request, needed: str) -> Response | None:
    role = webhook.role_of(request.headers.get("authorization"), svc.settings.credentials)
    if role is None:
        return JSONResponse(
            {"error": "authentication required"},
            status_code=401,
            headers={"WWW-Authenticate": 'Basic realm="godiag", charset="UTF-8"'},
        )
    if not webhook.allows(role, needed):
        return JSONResponse({"error": f"needs the {needed} role"}, status_code=403)
    return None


def _int(request: Request, key: str, default: int, hi: int) -> int | None:
    raw = request.query_params.get(key)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12 or int(raw) > hi:
        return None
    return int(raw)


def _time(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds") if ts else None


def create_app(config: Config, diagnoser: Diagnoser, *, workers: bool = True) -> Starlette:
    from godiag.report.html import render_page

    svc = Service(config, diagnoser, workers=workers)
    limit = svc.settings.max_body_kb * 1024

    def guarded(needed: str) -> Callable[[Any], Any]:
        def wrap(fn: Callable[[Request], Any]) -> Callable[[Request], Any]:
            async def handler(request: Request) -> Response:
                denied = _auth(svc, request, needed)
                if denied is not None:
                    return denied
                out: Response = await fn(request)
                return out

            return handler

        return wrap

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    @guarded("admin")
    async def post_alerts(request: Request) -> Response:
        refused = webhook.cross_site(request, svc.settings.public_url)
        if refused is not None:
            svc.tel.received("refused")
            return JSONResponse({"error": refused[1]}, status_code=refused[0])
        try:
            body = await webhook.read_body(request, limit, svc.settings.body_timeout_seconds)
        except webhook.TooLarge:
            svc.tel.received("too-large")
            return JSONResponse({"error": f"body over {limit} bytes"}, status_code=413)
        except webhook.TooSlow:
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

    async def load(request: Request) -> Incident | Response:
        iid = request.path_params["iid"]
        if not (0 < len(iid) <= 40 and set(iid) <= _ID_OK):
            return JSONResponse({"error": "no such incident"}, status_code=404)
        inc = await run_in_threadpool(lambda: svc.queue().get(iid))
        return inc if inc is not None else JSONResponse({"error": "no such incident"}, 404)

    def incident_doc(inc: Incident, full: bool) -> dict[str, Any]:
        from godiag.pipeline.notify import redact_labels

        d = inc.summary()
        # alert data may carry secrets: pages and the API show it redacted, like notifications
        d["labels"], d["annotations"] = redact_labels(inc.labels), redact_labels(inc.annotations)
        # Lists load the report as an empty stand-in (queue.LIST_COLUMNS): an empty `causes`
        # there would read as "no cause found", so causes come only with a loaded report.
        if inc.report:
            d["causes"] = inc.report.get("causes", [])
            d["artifacts"] = inc.report.get("artifacts", [])
        if full:
            d["report"] = inc.report
        return d

    @guarded("read")
    async def api_list(request: Request) -> Response:
        lim, off = _int(request, "limit", 100, 1000), _int(request, "offset", 0, 10**9)
        state = request.query_params.get("state")
        if lim is None or off is None or state not in (None, *STATES):
            return JSONResponse({"error": "bad limit, offset or state"}, status_code=400)

        def docs() -> list[dict[str, Any]]:
            return [incident_doc(i, False) for i in svc.queue().list(lim, off, state)]

        return JSONResponse({"incidents": await run_in_threadpool(docs)})

    @guarded("read")
    async def api_one(request: Request) -> Response:
        inc = await load(request)
        if isinstance(inc, Response):
            return inc
        return JSONResponse(await run_in_threadpool(incident_doc, inc, True))

    @guarded("read")
    async def artifact(request: Request) -> Response:
        inc = await load(request)
        if isinstance(inc, Response):
            return inc
        aid = request.path_params["aid"]
        known = {a.get("id") for a in (inc.report or {}).get("artifacts", []) if a.get("stored")}
        if aid not in known:  # only this incident's artifacts, never an arbitrary store id
            return JSONResponse({"error": "no such artifact"}, status_code=404)

        def read() -> bytes:
            from godiag.store import open_store

            with open_store(svc.config) as store:
                return store.read(aid)

        data = await run_in_threadpool(read)
        name = f"{inc.id}-{aid}.txt"
        return Response(
            data,
            media_type="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @guarded("read")
    async def page_list(request: Request) -> Response:
        def page() -> str:
            rows, counts = svc.queue().list(200, 0, None), svc.queue().counts()
            items = [{**incident_doc(i, False), "received": _time(i.received_at)} for i in rows]
            doc = {"incidents": items, "total": len(items), "counts": counts}
            return render_page("serve_incidents.html.j2", doc)

        return HTMLResponse(await run_in_threadpool(page))

    @guarded("read")
    async def page_one(request: Request) -> Response:
        inc = await load(request)
        if isinstance(inc, Response):
            return inc
        page = await run_in_threadpool(
            lambda: render_page("serve_incident.html.j2", incident_doc(inc, False))
        )
        return HTMLResponse(page)

    @guarded("read")
    async def page_report(request: Request) -> Response:
        inc = await load(request)
        if isinstance(inc, Response):
            return inc
        doc = (inc.report or {}).get("document")
        if not doc:
            return JSONResponse({"error": "no report yet"}, status_code=404)
        from godiag.report import render

        html = await run_in_threadpool(render, doc, "html")
        return HTMLResponse(html if isinstance(html, str) else html.decode())

    @guarded("read")
    async def metrics(request: Request) -> Response:
        counts = await run_in_threadpool(lambda: svc.queue().counts())
        body, ctype = svc.tel.exposition(counts)
        return Response(body, media_type=ctype)

    @guarded("read")
    async def openapi(request: Request) -> Response:
        return Response(json.dumps(SPEC), media_type="application/json")

    routes = [
        Route("/healthz", healthz),
        Route("/api/v1/alerts", post_alerts, methods=["POST"]),
        Route("/api/v1/incidents", api_list),
        Route("/api/v1/incidents/{iid}", api_one),
        Route("/incidents/{iid}/artifacts/{aid}", artifact),
        Route("/incidents/{iid}/report", page_report),
        Route("/incidents/{iid}", page_one),
        Route("/metrics", metrics),
        Route("/openapi.json", openapi),
        Route("/", page_list),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        svc.startup()
        try:
            yield
        finally:
            await run_in_threadpool(svc.shutdown)

    app = Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(SecurityHeaders)])
    app.state.service = svc
    return app


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


STATES = ("queued", "running", "done", "failed", "skipped")
