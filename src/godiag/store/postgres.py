"""PostgreSQL index of the fleet store (psycopg 3).

Same columns as the SQLite index (store/index.py), with real types: TIMESTAMPTZ, JSONB
tags (matched with `@>`), BOOLEAN baseline. Writers and removers of one artifact
serialise on a transaction-scoped advisory lock keyed by the artifact id, which is
what keeps "object present iff row present" true with several processes at once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from godiag.errors import StoreError
from godiag.store import index
from godiag.store.base import Artifact, Filter

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS artifacts (
      id TEXT PRIMARY KEY, sha256 TEXT NOT NULL, size BIGINT NOT NULL,
      service_name TEXT NOT NULL, go_version TEXT NOT NULL, build_commit TEXT NOT NULL,
      profile_type TEXT NOT NULL, captured_at TIMESTAMPTZ NOT NULL,
      stored_at TIMESTAMPTZ NOT NULL, tags JSONB NOT NULL DEFAULT '{}',
      incident_id TEXT, source_url TEXT, host TEXT, baseline BOOLEAN NOT NULL DEFAULT FALSE)""",
    "CREATE INDEX IF NOT EXISTS artifacts_svc "
    "ON artifacts(service_name, profile_type, captured_at)",
    "CREATE INDEX IF NOT EXISTS artifacts_tags ON artifacts USING GIN (tags)",
]
SCHEMA_LOCK = 0x60D1A6  # advisory lock key: concurrent CREATE IF NOT EXISTS can still collide


def redact_dsn(dsn: str) -> str:
    """host:port/dbname only: a DSN may carry a password."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        d = conninfo_to_dict(dsn)
    except Exception:
        return "postgresql://REDACTED"
    return f"postgresql://{d.get('host', 'localhost')}:{d.get('port', 5432)}/{d.get('dbname', '')}"


class PgIndex:
    def __init__(self, dsn: str) -> None:
        import psycopg

        self.where = redact_dsn(dsn)
        try:
            self.conn = psycopg.connect(dsn, autocommit=True, connect_timeout=10)
            with self.txn() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                for stmt in SCHEMA:
                    cur.execute(stmt)
        except psycopg.Error as exc:
            raise StoreError(f"PostgreSQL index at {self.where}: {exc}".strip()) from None

    @contextlib.contextmanager
    def txn(self) -> Iterator[Any]:
        import psycopg

        try:
            with self.conn.transaction(), self.conn.cursor() as cur:
                yield cur
        except psycopg.Error as exc:
            raise StoreError(f"PostgreSQL index at {self.where}: {exc}".strip()) from None

    @staticmethod
    def lock(cur: Any, aid: str) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (aid,))

    def one(self, cur: Any, aid: str, uri: Callable[[str, str], str]) -> Artifact | None:
        cur.execute(index.SELECT + " WHERE id = %s", (aid,))
        row = cur.fetchone()
        return index.row_to_artifact(row, uri) if row else None

    def insert(self, cur: Any, values: tuple[Any, ...]) -> None:
        from psycopg.types.json import Jsonb

        vals = list(values)
        vals[index.COLUMNS.index("tags")] = Jsonb(_loads(vals[index.COLUMNS.index("tags")]))
        cur.execute(
            f"INSERT INTO artifacts ({', '.join(index.COLUMNS)}) "
            f"VALUES ({', '.join(['%s'] * len(index.COLUMNS))}) "
            "ON CONFLICT (id) DO UPDATE SET baseline = artifacts.baseline OR excluded.baseline",
            vals,
        )

    def query(self, flt: Filter, uri: Callable[[str, str], str]) -> list[Artifact]:
        from psycopg.types.json import Jsonb

        def tag(k: str, v: str) -> tuple[str, list[Any]]:
            return "tags @> %s", [Jsonb({k: v})]

        sql, args = index.where(flt, "%s", tag, False)
        with self.txn() as cur:
            cur.execute(index.SELECT + sql, args)
            return [index.row_to_artifact(r, uri) for r in cur.fetchall()]

    def ids_with_prefix(self, prefix: str, limit: int) -> list[str]:
        with self.txn() as cur:
            cur.execute(
                "SELECT id FROM artifacts WHERE starts_with(id, %s) ORDER BY id LIMIT %s",
                (prefix, limit),
            )
            return [r[0] for r in cur.fetchall()]

    def expired(self, cur: Any, cutoff: datetime, keep_baselines: bool) -> list[str]:
        sql = "SELECT id FROM artifacts WHERE captured_at < %s"
        if keep_baselines:
            sql += " AND NOT baseline"
        cur.execute(sql, (cutoff,))
        return [r[0] for r in cur.fetchall()]

    def rows(self) -> list[tuple[str, str, int]]:
        with self.txn() as cur:
            cur.execute("SELECT id, sha256, size FROM artifacts ORDER BY id")
            return [(r[0], r[1], int(r[2])) for r in cur.fetchall()]

    def close(self) -> None:
        self.conn.close()


def _loads(text: str) -> Any:
    import json

    return json.loads(text)
