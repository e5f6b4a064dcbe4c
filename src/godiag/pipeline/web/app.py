"""The `godiag serve` HTTP application (Starlette on uvicorn; docs/architecture.md says why):
the routes, the role each needs, the lifespan and the security headers. The handlers are
methods of small classes holding the shared `Service` (incidents.py, artifacts.py,
pages.py, webhook.py, health.py).

Every route but /healthz needs a credential from `[serve]`: read for pages, GET API,
downloads and /metrics; admin for posting alerts. Handlers do their database work, the
redaction of alert data and the rendering of pages in the thread pool (one queue
connection per thread) so the event loop keeps answering /healthz and the webhook.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.routing import Route

from godiag.config import Config
from godiag.pipeline.jobs import Diagnoser
from godiag.pipeline.web.artifacts import Artifacts
from godiag.pipeline.web.guards import Handler, require
from godiag.pipeline.web.headers import SecurityHeaders
from godiag.pipeline.web.health import Health
from godiag.pipeline.web.incidents import Incidents
from godiag.pipeline.web.pages import Pages
from godiag.pipeline.web.service import Service
from godiag.pipeline.web.webhook import Webhook


def create_app(config: Config, diagnoser: Diagnoser, *, workers: bool = True) -> Starlette:
    svc = Service(config, diagnoser, workers=workers)
    health, alerts, incidents = Health(svc), Webhook(svc), Incidents(svc)
    artifacts, pages = Artifacts(svc), Pages(svc)

    def read(handler: Handler) -> Handler:
        return require(svc.settings.credentials, "read", handler)

    def admin(handler: Handler) -> Handler:
        return require(svc.settings.credentials, "admin", handler)

    routes = [
        Route("/healthz", health.healthz),
        Route("/api/v1/alerts", admin(alerts.post), methods=["POST"]),
        Route("/api/v1/incidents", read(incidents.list)),
        Route("/api/v1/incidents/{iid}", read(incidents.one)),
        Route("/incidents/{iid}/artifacts/{aid}", read(artifacts.download)),
        Route("/incidents/{iid}/report", read(pages.report)),
        Route("/incidents/{iid}", read(pages.incident)),
        Route("/metrics", read(health.metrics)),
        Route("/openapi.json", read(health.openapi)),
        Route("/", read(pages.index)),
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
