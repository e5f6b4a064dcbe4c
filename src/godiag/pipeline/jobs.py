"""From an Alertmanager notification to queued diagnoses, and the workers that run them.

`plan()` turns a notification into rows (pure: routing and target resolution only read
the configuration). Target resolution goes through the configured targets only: an
alert's labels select a target by name, never supply a URL, so no alert can make godiag
fetch an arbitrary address (an unmatched target is recorded, not fetched).

`Workers` runs the queue: N threads per process, each claiming one job at a time under
a lease it renews while the diagnosis runs. The diagnosis function is injected
(`Diagnoser`); `diagnosers.default_diagnoser` picks the one in use.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from godiag.config import Config, Target
from godiag.formats.alertmanager import Notification
from godiag.pipeline.queue import Incident, JobDb, NewRow, Queue, incident_id
from godiag.pipeline.settings import ServeSettings

log = logging.getLogger("godiag.serve")

# (target, options, incident) -> a JSON-safe report document
Diagnoser = Callable[[Target, dict[str, Any], Incident], dict[str, Any]]
TARGET_LABELS = ("service", "job", "instance")


def resolve_target(labels: dict[str, str], config: Config) -> Target | None:
    """The configured target an alert is about, or None. Labels are compared, never used."""
    for key in TARGET_LABELS:
        value = labels.get(key)
        if not value:
            continue
        for t in config.targets:
            if value in (t.name, t.service_name):
                return t
            if key == "instance" and value == urlparse(t.url).netloc:
                return t
    return None


def plan(
    note: Notification, config: Config, settings: ServeSettings
) -> tuple[list[NewRow], list[str]]:
    """(rows to insert if new, ids of incidents to close)."""
    rows: list[NewRow] = []
    resolved: list[str] = []
    for a in note.alerts:
        starts = a.starts_at.isoformat()
        iid = incident_id(a.fingerprint, starts)
        if a.status == "resolved":
            resolved.append(iid)
        target = resolve_target(a.labels, config)
        name = target.name if target else None
        refused = None
        if target is None:  # a configured target wins; else the pod the alert names, if allowed
            from godiag.pipeline.kubetargets import pod_ref

            name, refused = pod_ref(a.labels, config.kubernetes)
        route = settings.route(a.labels)
        state, why = "queued", None
        if a.status == "resolved":
            state, why = "skipped", "resolved before godiag saw it firing: not diagnosed"
        elif note.is_repeat:
            state, why = "skipped", "first seen in a repeat notification: not diagnosed"
        elif refused is not None:
            state, why = "skipped", refused
        elif name is None:
            state, why = "skipped", "unknown target: no configured target matches its labels"
        elif route is None:
            state, why = "skipped", "no route matches this alert"
        options = {"window_seconds": settings.window_seconds, **(route.options if route else {})}
        rows.append(
            NewRow(
                id=iid,
                fingerprint=a.fingerprint,
                starts_at=starts,
                alertname=a.name,
                status=a.status,
                labels=a.labels,
                annotations=a.annotations,
                target=name,
                note=why,
                options=options,
                state=state,
            )
        )
    return rows, resolved


@dataclass
class Accepted:
    new: list[str] = field(default_factory=list)
    duplicates: int = 0
    resolved: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"accepted": len(self.new), "duplicates": self.duplicates, "resolved": self.resolved}


def accept(queue: Queue, note: Notification, config: Config, settings: ServeSettings) -> Accepted:
    """Persist one notification in one transaction (durable before the 2xx)."""
    return accept_many(queue, [note], config, settings)[0]


def accept_many(
    queue: Queue, notes: list[Notification], config: Config, settings: ServeSettings
) -> list[Accepted]:
    """Several notifications in ONE transaction (group commit: one fsync for the batch)."""
    plans = [plan(n, config, settings) for n in notes]
    rows = [r for p in plans for r in p[0]]
    resolved = [i for p in plans for i in p[1]]
    added, _ = queue.apply(rows, resolved)
    fresh = set(added)
    out = []
    for p_rows, p_resolved in plans:
        new = [r.id for r in p_rows if r.id in fresh]
        fresh.difference_update(new)  # a row repeated in the batch counts once
        out.append(Accepted(new=new, duplicates=len(p_rows) - len(new), resolved=len(p_resolved)))
    return out


class Rejected(Exception):
    """This notification cannot be stored (its data, not the database): a 400, alone."""


def _database_down(exc: BaseException) -> bool:
    # sqlite3's and psycopg's OperationalError: locked, disk full, connection lost...
    return type(exc).__name__ in ("OperationalError", "InterfaceError") or isinstance(exc, OSError)


def commit_batch(
    queue: Queue, notes: list[Notification], config: Config, settings: ServeSettings
) -> list[Accepted | BaseException]:
    """Commit `notes` together; if that fails, each one alone, so one notification that
    cannot be stored fails by itself (Rejected, a 400) and the others still commit. An
    unavailable database fails them all (5xx: Alertmanager retries)."""
    try:
        return list(accept_many(queue, notes, config, settings))
    except Exception as exc:
        if len(notes) == 1 or _database_down(exc):
            return [_rejected(exc)] * len(notes)
    out: list[Accepted | BaseException] = []
    for note in notes:
        try:
            out.append(accept_many(queue, [note], config, settings)[0])
        except Exception as exc:
            out.append(_rejected(exc))
    return out


def _rejected(exc: Exception) -> BaseException:
    if _database_down(exc):
        return exc
    log.warning("notification not stored: %s: %s", type(exc).__name__, exc)
    return Rejected(f"cannot be stored: {type(exc).__name__}: {str(exc)[:200]}")


class Committer:
    """One writer thread that commits queued notifications in batches.

    Every webhook request waits for the commit that includes it (so a 2xx still means
    "on disk"), but concurrent requests share a transaction and its fsync instead of
    queueing on the database's write lock one by one.
    """

    MAX_BATCH = 256

    def __init__(
        self, open_db: Callable[[], JobDb], config: Config, settings: ServeSettings
    ) -> None:
        import queue as q

        self.open_db, self.config, self.settings = open_db, config, settings
        self.inbox: q.Queue[Any] = q.Queue()
        self.thread = threading.Thread(target=self._loop, name="godiag-committer", daemon=True)
        self.thread.start()

    async def submit(self, note: Notification) -> Accepted:
        import asyncio

        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Accepted] = loop.create_future()
        self.inbox.put((note, loop, fut))
        return await fut

    def stop(self) -> None:
        self.inbox.put(None)
        self.thread.join(10)

    def _loop(self) -> None:
        import queue as q

        db = self.open_db()
        jobs = Queue(db)
        try:
            while True:
                item = self.inbox.get()
                if item is None:
                    return
                batch = [item]
                while len(batch) < self.MAX_BATCH:
                    try:
                        nxt = self.inbox.get_nowait()
                    except q.Empty:
                        break
                    if nxt is None:
                        self.inbox.put(None)  # finish this batch, then stop
                        break
                    batch.append(nxt)
                outcomes = commit_batch(jobs, [n for n, _, _ in batch], self.config, self.settings)
                for (_, loop, fut), res in zip(batch, outcomes, strict=True):
                    if isinstance(res, BaseException):
                        loop.call_soon_threadsafe(_fail, fut, res)
                    else:
                        loop.call_soon_threadsafe(_ok, fut, res)
        finally:
            db.close()


def _ok(fut: Any, value: Any) -> None:
    if not fut.done():
        fut.set_result(value)


def _fail(fut: Any, exc: BaseException) -> None:
    if not fut.done():
        fut.set_exception(exc)


class Workers:
    """Threads that claim and run jobs until stopped. Concurrency = settings.concurrency."""

    def __init__(
        self,
        open_db: Callable[[], JobDb],
        config: Config,
        settings: ServeSettings,
        diagnoser: Diagnoser,
        on_done: Callable[[Incident, dict[str, Any] | None, str | None, float], None] | None = None,
        poll: float = 0.25,
    ) -> None:
        self.open_db, self.config, self.settings = open_db, config, settings
        self.diagnoser, self.on_done, self.poll = diagnoser, on_done, poll
        self.owner = f"{uuid.uuid4().hex[:12]}"
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.running: set[str] = set()  # ids of the jobs being diagnosed now
        self._lock = threading.Lock()

    def start(self) -> None:
        for i in range(self.settings.concurrency):
            t = threading.Thread(target=self._loop, name=f"godiag-worker-{i}", daemon=True)
            t.start()
            self.threads.append(t)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming; wait up to `timeout` for the jobs in progress; give the others
        back to the queue. A stop (SIGTERM, a deploy) is not a failed attempt: without
        this, each restart during a diagnosis counted against max_attempts."""
        self.stopping.set()
        self.wake.set()
        end = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.0, end - time.monotonic()))
        with self._lock:
            left = sorted(self.running)
        if not left:
            return
        db = self.open_db()
        try:
            q = Queue(db)
            for jid in left:
                if q.release(jid, self.owner):
                    log.warning("job %s given back to the queue at shutdown", jid)
        finally:
            db.close()

    def _loop(self) -> None:
        db = self.open_db()
        queue = Queue(db)
        s = self.settings
        try:
            while not self.stopping.is_set():
                try:
                    job = queue.claim(self.owner, s.lease_seconds, s.per_target, s.max_attempts)
                except Exception as exc:  # a database hiccup must not kill the worker
                    log.warning("claim failed: %s", exc)
                    job = None
                if job is None:
                    self.wake.wait(self.poll)
                    self.wake.clear()
                    continue
                self._run(queue, job)
        finally:
            db.close()

    def _run(self, queue: Queue, job: Incident) -> None:
        target = self.config.target(job.target or "")
        if target is None and (job.target or "").startswith("k8s://"):
            # a pod of an alert: the diagnoser resolves it through the API server
            target = Target(name=job.target or "", url=job.target or "")
        done = threading.Event()
        renew_db = self.open_db()

        def renew() -> None:  # the lease lives as long as the work does
            rq = Queue(renew_db)
            while not done.wait(self.settings.lease_seconds / 3):
                rq.renew(job.id, self.owner, self.settings.lease_seconds)

        keeper = threading.Thread(target=renew, daemon=True)
        keeper.start()
        with self._lock:
            self.running.add(job.id)
        t0 = time.monotonic()
        report: dict[str, Any] | None = None
        error: str | None = None
        try:
            if target is None:
                error = f"target {job.target!r} is no longer configured"
            else:
                report = self.diagnoser(target, job.options, job)
        except Exception as exc:
            from godiag.errors import GodiagError

            error = str(exc) if isinstance(exc, GodiagError) else f"{type(exc).__name__}: {exc}"
            log.warning("diagnosis of %s failed: %s", job.id, error)
        finally:
            done.set()
            keeper.join()
            renew_db.close()
            with self._lock:
                self.running.discard(job.id)
        elapsed = time.monotonic() - t0
        if queue.finish(job.id, self.owner, report, error) and self.on_done:
            self.on_done(job, report, error, elapsed)
