"""Embedded store: a directory of sha256-named objects plus a SQLite index in WAL mode.

Crash safety rests on one ordering. The bytes go to tmp/ and are fsynced *outside* any
lock (slow part, concurrent writers do not wait on each other); then, holding SQLite's
write lock (BEGIN IMMEDIATE), the temp file is renamed to objects/, the directory is
fsynced and the index row inserted; COMMIT makes the artifact visible. A kill at any
point leaves either a temp file (invisible) or a complete, unreferenced object
(invisible, removed by gc) - never a row without its object or a partial object.
Object removal (rm, gc) also happens under the write lock, after the rows are gone,
so it cannot race a writer that is about to reference the same object.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from godiag.errors import StoreError
from godiag.store import index
from godiag.store.base import MB, Artifact, Filter, GcResult, Problem, Store, VerifyResult
from godiag.store.metadata import ArtifactMeta, format_time

SCHEMA = """
CREATE TABLE IF NOT EXISTS artifacts (
  id TEXT PRIMARY KEY, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
  service_name TEXT NOT NULL, go_version TEXT NOT NULL, build_commit TEXT NOT NULL,
  profile_type TEXT NOT NULL, captured_at TEXT NOT NULL, stored_at TEXT NOT NULL,
  tags TEXT NOT NULL DEFAULT '{}', incident_id TEXT, source_url TEXT, host TEXT,
  baseline INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS artifacts_svc ON artifacts(service_name, profile_type, captured_at);
CREATE INDEX IF NOT EXISTS artifacts_sha ON artifacts(sha256);
"""
OPEN_WAIT_S = 60.0  # the busy timeout: how long opening waits for other openers
TEMP_MAX_AGE_S = 3600.0  # a temp file older than this belongs to a writer that died


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalStore(Store):
    backend = "local"

    def __init__(self, root: Path, max_bytes: int = 256 * MB) -> None:
        super().__init__(max_bytes)
        self.root = root
        self.objects = root / "objects"
        self.tmp = root / "tmp"
        try:
            self.objects.mkdir(parents=True, exist_ok=True)
            self.tmp.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(root / "index.sqlite3", timeout=60, isolation_level=None)
            self.db.execute("PRAGMA busy_timeout = 60000")
            self._enter_wal()
            # FULL: a committed row survives power loss, matching the fsynced object.
            self.db.execute("PRAGMA synchronous = FULL")
            with self._txn():
                for stmt in filter(None, (s.strip() for s in SCHEMA.split(";"))):
                    self.db.execute(stmt)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the store at {root}: {exc}") from None

    def _enter_wal(self) -> None:
        """Switch a new index to WAL, waiting out other processes opening it at the same time.

        Changing the journal mode needs the database to itself, and SQLite answers
        "database is locked" at once instead of calling the busy handler when another
        connection is reading it - which is what 8 processes opening a fresh store do.
        WAL is persistent, so only the first open of a store ever switches it.
        """
        deadline = time.monotonic() + OPEN_WAIT_S
        while True:
            try:
                mode = self.db.execute("PRAGMA journal_mode").fetchone()[0]
                if str(mode).lower() == "wal":
                    return
                self.db.execute("PRAGMA journal_mode = WAL")
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    @contextlib.contextmanager
    def _txn(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE: take the write lock up front, so check-then-act is atomic."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def object_path(self, sha: str) -> Path:
        return self.objects / sha[:2] / sha

    def _uri(self, aid: str, sha: str) -> str:
        return self.object_path(sha).as_uri()

    def _one(self, aid: str) -> Artifact | None:
        row = self.db.execute(index.SELECT + " WHERE id = ?", (aid,)).fetchone()
        return index.row_to_artifact(row, self._uri) if row else None

    # -- writing -------------------------------------------------------------------
    def _put(self, data: bytes, meta: ArtifactMeta, aid: str, baseline: bool) -> Artifact:
        existing = self._one(aid)
        if existing is not None and self.object_path(meta.sha256).is_file():
            return self.set_baseline(aid) if baseline and not existing.baseline else existing
        tmp = self.tmp / f"{aid}.{os.getpid()}.{time.monotonic_ns()}"
        try:
            # a new private file, never a link planted at that name
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with open(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            dest = self.object_path(meta.sha256)
            dest.parent.mkdir(exist_ok=True)
            with self._txn() as db:
                # Replacing an existing object is harmless (same bytes) and heals a damaged one.
                os.replace(tmp, dest)
                _fsync_dir(dest.parent)
                values = index.insert_values(aid, meta, baseline, datetime.now(UTC), True)
                db.execute(
                    f"INSERT INTO artifacts ({', '.join(index.COLUMNS)}) "
                    f"VALUES ({', '.join('?' * len(index.COLUMNS))}) "
                    "ON CONFLICT(id) DO UPDATE SET baseline = max(baseline, excluded.baseline)",
                    values,
                )
        except OSError as exc:
            raise StoreError(f"cannot write to the store at {self.root}: {exc}") from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        got = self._one(aid)
        assert got is not None
        return got

    def set_baseline(self, aid: str, on: bool = True) -> Artifact:
        with self._txn() as db:
            cur = db.execute("UPDATE artifacts SET baseline = ? WHERE id = ?", (int(on), aid))
        if cur.rowcount == 0:
            raise StoreError(f"no artifact {aid!r} in the store")
        got = self._one(aid)
        assert got is not None
        return got

    def delete(self, aid: str) -> bool:
        with self._txn() as db:
            row = db.execute("SELECT sha256 FROM artifacts WHERE id = ?", (aid,)).fetchone()
            if row is None:
                return False
            db.execute("DELETE FROM artifacts WHERE id = ?", (aid,))
        self._sweep({row[0]})
        return True

    def _sweep(self, shas: set[str] | None) -> int:
        """Unlink objects no row references (all objects if `shas` is None), under the lock."""
        deleted = 0
        with self._txn() as db:
            referenced = {r[0] for r in db.execute("SELECT DISTINCT sha256 FROM artifacts")}
            candidates = shas if shas is not None else {p.name for p in self._object_files()}
            for sha in candidates - referenced:
                with contextlib.suppress(FileNotFoundError):
                    self.object_path(sha).unlink()
                    deleted += 1
        return deleted

    def _object_files(self) -> Iterator[Path]:
        for sub in sorted(self.objects.iterdir()):
            if sub.is_dir():
                yield from sorted(sub.iterdir())

    def gc(self, cutoff: datetime, keep_baselines: bool) -> GcResult:
        res = GcResult()
        with self._txn() as db:
            sql = "SELECT id FROM artifacts WHERE captured_at < ?"
            if keep_baselines:
                sql += " AND baseline = 0"
            res.removed = [r[0] for r in db.execute(sql, (format_time(cutoff),))]
            db.executemany("DELETE FROM artifacts WHERE id = ?", [(i,) for i in res.removed])
        res.objects_deleted = self._sweep(None)
        now = time.time()
        for p in self.tmp.iterdir():
            with contextlib.suppress(FileNotFoundError):
                if now - p.stat().st_mtime > TEMP_MAX_AGE_S:
                    p.unlink()
                    res.temp_deleted += 1
        return res

    # -- reading -------------------------------------------------------------------
    def info(self, aid: str) -> Artifact | None:
        return self._one(aid)

    def read(self, aid: str) -> bytes:
        art = self.get(aid)
        try:
            data = _read_no_follow(self.object_path(art.meta.sha256))
        except OSError as exc:
            raise StoreError(f"artifact {art.id}: object unreadable: {exc}") from None
        if hashlib.sha256(data).hexdigest() != art.meta.sha256:
            raise StoreError(f"artifact {art.id}: stored bytes do not match its sha256")
        return data

    def query(self, flt: Filter) -> list[Artifact]:
        def tag(k: str, v: str) -> tuple[str, list[Any]]:
            return "json_extract(tags, ?) = ?", [f'$."{k}"', v]

        sql, args = index.where(flt, "?", tag, True)
        args = [int(a) if isinstance(a, bool) else a for a in args]
        rows = self.db.execute(index.SELECT + sql, args).fetchall()
        return [index.row_to_artifact(r, self._uri) for r in rows]

    def ids_with_prefix(self, prefix: str, limit: int = 3) -> list[str]:
        rows = self.db.execute(
            "SELECT id FROM artifacts WHERE id >= ? AND id < ? ORDER BY id LIMIT ?",
            (prefix, prefix + "\uffff", limit),
        )
        return [r[0] for r in rows]

    def verify(self) -> VerifyResult:
        """Rows first, then objects: a write landing meanwhile is never a false problem."""
        res = VerifyResult()
        hashes: dict[str, str] = {}

        def digest(path: Path) -> str:
            if path.name not in hashes:
                hashes[path.name] = _hash_file(path)
            return hashes[path.name]

        rows = self.db.execute("SELECT id, sha256, size FROM artifacts ORDER BY id").fetchall()
        referenced = set()
        for aid, sha, size in rows:
            res.checked += 1
            referenced.add(sha)
            path = self.object_path(sha)
            if not path.is_file():
                if self._one(aid) is not None:  # not removed by a concurrent rm
                    res.problems.append(Problem(aid, "missing-object", f"{path} does not exist"))
            elif digest(path) != sha:
                res.problems.append(Problem(aid, "sha256-mismatch", f"{path}: content differs"))
            elif path.stat().st_size != size:
                res.problems.append(
                    Problem(aid, "size-mismatch", f"{path}: {path.stat().st_size} != {size}")
                )
        for path in self._object_files():
            res.objects += 1
            if digest(path) != path.name:
                if path.name not in referenced:
                    res.problems.append(
                        Problem(path.name, "corrupt-object", f"{path}: content differs from name")
                    )
            elif path.name not in referenced:
                res.orphan_objects += 1
        res.temp_files = sum(1 for _ in self.tmp.iterdir())
        return res

    def describe(self) -> dict[str, Any]:
        return {"backend": "local", "location": str(self.root)}

    def close(self) -> None:
        self.db.close()


def _read_no_follow(path: Path) -> bytes:
    """An object's bytes; a symlink in objects/ is refused (ELOOP), not followed: the store
    serves what it wrote, never a file some link points to."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with open(fd, "rb") as fh:
        return fh.read()


def _hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
