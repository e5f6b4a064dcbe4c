"""The durable incident/job table of `godiag serve`, in the store's database.

One row per alert occurrence: the primary key is derived from (fingerprint, startsAt), so
an at-least-once redelivery, an HA twin or a restart can never create a second row: that
is the whole idempotency story, and it survives restarts because it is the database.
A row carries its diagnosis job: queued -> running (leased to one worker until
`lease_until`, renewed while it works) -> done | failed; `skipped` rows are recorded
alerts that must not be diagnosed (unknown target, resolved, repeat, no route).

A worker that dies (kill -9) stops renewing its lease; once it lapses, any worker of any
replica claims the row again (attempts counts the tries, max_attempts ends the loop).
SQLite serialises claims with BEGIN IMMEDIATE. PostgreSQL replicas claim with
`FOR UPDATE SKIP LOCKED` (they never wait on one another's rows) and take a transaction
advisory lock per target before counting its running jobs, so the per-target limit holds
across replicas.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from godiag.errors import StoreError

COLUMNS = (
    "id, fingerprint, starts_at, alertname, status, labels, annotations, target, note, "
    "options, state, attempts, lease_owner, lease_until, received_at, started_at, "
    "finished_at, resolved_at, report, error"
)
# Lists leave the report out (it can be large) but keep whether there is one.
LIST_COLUMNS = COLUMNS.replace("report", "CASE WHEN report IS NULL THEN NULL ELSE '{}' END")
DDL = """CREATE TABLE IF NOT EXISTS serve_incidents (
  id TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, starts_at TEXT NOT NULL,
  alertname TEXT NOT NULL, status TEXT NOT NULL, labels TEXT NOT NULL,
  annotations TEXT NOT NULL, target TEXT, note TEXT, options TEXT NOT NULL,
  state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, lease_owner TEXT,
  lease_until DOUBLE PRECISION, received_at DOUBLE PRECISION NOT NULL,
  started_at DOUBLE PRECISION, finished_at DOUBLE PRECISION, resolved_at DOUBLE PRECISION,
  report TEXT, error TEXT)"""
INDEXES = (
    "CREATE INDEX IF NOT EXISTS serve_incidents_state ON serve_incidents(state, received_at)",
    "CREATE INDEX IF NOT EXISTS serve_incidents_recv ON serve_incidents(received_at)",
)
SCHEMA_LOCK = 0x60D1A7


def incident_id(fingerprint: str, starts_at: str) -> str:
    return hashlib.sha256(f"{fingerprint}|{starts_at}".encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Incident:
    id: str
    fingerprint: str
    starts_at: str
    alertname: str
    status: str
    labels: dict[str, str]
    annotations: dict[str, str]
    target: str | None
    note: str | None
    options: dict[str, Any]
    state: str
    attempts: int
    lease_owner: str | None
    lease_until: float | None
    received_at: float
    started_at: float | None
    finished_at: float | None
    resolved_at: float | None
    report: dict[str, Any] | None
    error: str | None

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> Incident:
        r = list(row)
        for i in (5, 6, 9):
            r[i] = json.loads(r[i])
        r[18] = json.loads(r[18]) if r[18] else None
        return cls(*r)

    def summary(self) -> dict[str, Any]:
        """JSON-safe, without the report (lists stay small)."""
        d = {k: getattr(self, k) for k in COLUMNS.replace(" ", "").split(",") if k != "report"}
        d["has_report"] = self.report is not None
        return d


@dataclass(frozen=True)
class NewRow:
    id: str
    fingerprint: str
    starts_at: str
    alertname: str
    status: str
    labels: dict[str, str]
    annotations: dict[str, str]
    target: str | None
    note: str | None
    options: dict[str, Any]
    state: str


def _private(path: Path) -> None:
    """Create the queue file 0600 (alert labels, reports and errors live in it) before
    SQLite opens it; SQLite gives its -wal and -shm files the same mode. A file left
    group- or world-readable by an earlier version is narrowed. A symlink is refused:
    the queue is written to, and must not land wherever a link points."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


class JobDb:
    """SQLite (a file next to the local store's index) or PostgreSQL (the fleet index)."""

    def __init__(self, *, sqlite_path: Path | None = None, dsn: str | None = None) -> None:
        self.pg = dsn is not None
        try:
            if dsn is not None:
                import psycopg

                self.conn: Any = psycopg.connect(dsn, autocommit=True, connect_timeout=10)
                with self.txn() as cur:
                    cur.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                    for stmt in (DDL, *INDEXES):
                        cur.execute(stmt)
            else:
                assert sqlite_path is not None
                sqlite_path.parent.mkdir(parents=True, exist_ok=True)
                _private(sqlite_path)
                self.conn = sqlite3.connect(
                    sqlite_path, timeout=60, isolation_level=None, check_same_thread=False
                )
                self.conn.execute("PRAGMA busy_timeout = 60000")
                self._wal()
                self.conn.execute("PRAGMA synchronous = FULL")  # accepted = on disk
                with self.txn() as cur:
                    for stmt in (DDL, *INDEXES):
                        cur.execute(stmt)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the job queue: {exc}") from None
        except Exception as exc:
            if type(exc).__module__.startswith("psycopg"):
                raise StoreError(f"cannot open the job queue in PostgreSQL: {exc}") from None
            raise

    def _wal(self) -> None:
        """Switch to WAL. Several workers open the file at once when serve starts: changing
        the journal mode can answer "database is locked" at once, without waiting on the
        busy timeout, so retry for a while unless another connection already did it."""
        deadline = time.monotonic() + 30
        while True:
            try:
                self.conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError:
                with contextlib.suppress(sqlite3.OperationalError):
                    mode = self.conn.execute("PRAGMA journal_mode").fetchone()
                    if mode and str(mode[0]).lower() == "wal":
                        return
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def sql(self, text: str) -> str:
        return text.replace("?", "%s") if self.pg else text

    @contextlib.contextmanager
    def txn(self) -> Iterator[Any]:
        if self.pg:
            with self.conn.transaction(), self.conn.cursor() as cur:
                yield cur
            return
        cur = self.conn.cursor()
        cur.execute("BEGIN IMMEDIATE")  # write lock up front: check-then-act is atomic
        try:
            yield cur
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        cur.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()


class Queue:
    """Operations on serve_incidents. One Queue (one connection) per thread."""

    def __init__(self, db: JobDb) -> None:
        self.db = db

    def insert(self, rows: list[NewRow]) -> list[str]:
        """Insert the rows that are new; returns the ids actually inserted."""
        return self.apply(rows, [])[0]

    def resolve(self, ids: list[str]) -> int:
        """Close incidents; a resolved alert never starts a diagnosis."""
        return self.apply([], ids)[1]

    def apply(self, rows: list[NewRow], resolved: list[str]) -> tuple[list[str], int]:
        """In one transaction (one fsync): insert new rows, then close resolved incidents."""
        now = time.time()
        added: list[str] = []
        closed = 0
        ins = self.db.sql(
            "INSERT INTO serve_incidents (id, fingerprint, starts_at, alertname, status, labels,"
            " annotations, target, note, options, state, received_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO NOTHING"
        )
        res = self.db.sql(
            "UPDATE serve_incidents SET status = 'resolved', resolved_at = ?"
            " WHERE id = ? AND status <> 'resolved'"
        )
        with self.db.txn() as cur:
            for r in rows:
                cur.execute(
                    ins,
                    (
                        r.id, r.fingerprint, r.starts_at, r.alertname, r.status,
                        json.dumps(r.labels), json.dumps(r.annotations), r.target, r.note,
                        json.dumps(r.options), r.state, now,
                    ),
                )  # fmt: skip
                if cur.rowcount == 1:
                    added.append(r.id)
            for i in resolved:
                cur.execute(res, (now, i))
                closed += cur.rowcount
        return added, closed

    def claim(
        self, owner: str, lease: float, per_target: int, max_attempts: int
    ) -> Incident | None:
        """Lease the oldest runnable job whose target is under its limit, or None."""
        now = time.time()
        pick = (
            "SELECT id, target, attempts FROM serve_incidents WHERE state = 'queued'"
            " OR (state = 'running' AND lease_until < ?) ORDER BY received_at LIMIT 32"
        )
        if self.db.pg:
            pick += " FOR UPDATE SKIP LOCKED"
        busy = self.db.sql(
            "SELECT COUNT(*) FROM serve_incidents WHERE state = 'running'"
            " AND lease_until >= ? AND target = ?"
        )
        with self.db.txn() as cur:
            cur.execute(self.db.sql(pick), (now,))
            for jid, target, attempts in cur.fetchall():
                if attempts >= max_attempts:
                    cur.execute(
                        self.db.sql(
                            "UPDATE serve_incidents SET state = 'failed', finished_at = ?,"
                            " error = ?, lease_owner = NULL WHERE id = ?"
                        ),
                        (now, f"interrupted {attempts} times; giving up", jid),
                    )
                    continue
                if self.db.pg:
                    cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (target,))
                cur.execute(busy, (now, target))
                if cur.fetchone()[0] >= per_target:
                    continue
                cur.execute(
                    self.db.sql(
                        "UPDATE serve_incidents SET state = 'running', lease_owner = ?,"
                        " lease_until = ?, attempts = attempts + 1, started_at = ? WHERE id = ?"
                    ),
                    (owner, now + lease, now, jid),
                )
                cur.execute(
                    self.db.sql(f"SELECT {COLUMNS} FROM serve_incidents WHERE id = ?"), (jid,)
                )
                return Incident.from_row(cur.fetchone())
        return None

    def renew(self, jid: str, owner: str, lease: float) -> bool:
        with self.db.txn() as cur:
            cur.execute(
                self.db.sql(
                    "UPDATE serve_incidents SET lease_until = ? WHERE id = ? AND lease_owner = ?"
                    " AND state = 'running'"
                ),
                (time.time() + lease, jid, owner),
            )
            return bool(cur.rowcount == 1)

    def release(self, jid: str, owner: str) -> bool:
        """Give a job back (its worker is stopping): queued again, the attempt not counted."""
        with self.db.txn() as cur:
            cur.execute(
                self.db.sql(
                    "UPDATE serve_incidents SET state = 'queued', attempts = attempts - 1,"
                    " lease_owner = NULL, lease_until = NULL, started_at = NULL"
                    " WHERE id = ? AND lease_owner = ? AND state = 'running'"
                ),
                (jid, owner),
            )
            return bool(cur.rowcount == 1)

    def finish(
        self, jid: str, owner: str, report: dict[str, Any] | None, error: str | None
    ) -> bool:
        """Record the outcome if this worker still holds the lease (lease_owner: who ran it)."""
        with self.db.txn() as cur:
            cur.execute(
                self.db.sql(
                    "UPDATE serve_incidents SET state = ?, report = ?, error = ?, finished_at = ?"
                    " WHERE id = ? AND lease_owner = ? AND state = 'running'"
                ),
                (
                    "failed" if report is None else "done",
                    json.dumps(report) if report is not None else None,
                    error, time.time(), jid, owner,
                ),
            )  # fmt: skip
            return bool(cur.rowcount == 1)

    def get(self, jid: str) -> Incident | None:
        with self.db.txn() as cur:
            cur.execute(self.db.sql(f"SELECT {COLUMNS} FROM serve_incidents WHERE id = ?"), (jid,))
            row = cur.fetchone()
        return Incident.from_row(row) if row else None

    def list(self, limit: int = 100, offset: int = 0, state: str | None = None) -> list[Incident]:
        where, args = ("WHERE state = ?", [state]) if state else ("", [])
        q = self.db.sql(
            f"SELECT {LIST_COLUMNS} FROM serve_incidents {where}"
            " ORDER BY received_at DESC, id LIMIT ? OFFSET ?"
        )
        with self.db.txn() as cur:
            cur.execute(q, (*args, limit, offset))
            return [Incident.from_row(r) for r in cur.fetchall()]

    def counts(self) -> dict[str, int]:
        with self.db.txn() as cur:
            cur.execute("SELECT state, COUNT(*) FROM serve_incidents GROUP BY state")
            return {s: int(n) for s, n in cur.fetchall()}
