"""What the handlers of `godiag serve` share: the settings, the queue (one connection per
thread of the pool), the diagnosis workers, the webhook's committer and the telemetry."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from godiag.config import Config
from godiag.pipeline.jobs import Committer, Diagnoser, Workers
from godiag.pipeline.queue import Incident, JobDb, Queue
from godiag.pipeline.reference import periodic_references
from godiag.pipeline.settings import ServeSettings
from godiag.pipeline.telemetry import Telemetry


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
        self.references = periodic_references(config, self.settings)

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
            if self.references is not None:
                self.references.start()

    def shutdown(self) -> None:
        self.committer.stop()
        self.workers.stop()
        if self.references is not None:
            self.references.stop()
        with self._lock:
            for db in self._dbs:
                db.close()
