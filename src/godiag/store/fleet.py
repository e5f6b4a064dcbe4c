"""Fleet store: artifacts in S3-compatible storage, index in PostgreSQL.

The ordering mirrors the local store. Inside one PostgreSQL transaction holding the
artifact's advisory lock: upload (atomic PUT), then INSERT; COMMIT makes it visible. A
kill before COMMIT leaves an object no row points to (invisible; gc removes it). Removal
commits the row deletion first and deletes the object afterwards under the same lock,
so a concurrent re-write of the same artifact can never end up as a row without object.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from godiag.errors import StoreError
from godiag.store import index
from godiag.store.base import MB, Artifact, Filter, GcResult, Problem, Store, VerifyResult
from godiag.store.metadata import ArtifactMeta, redact_url
from godiag.store.postgres import PgIndex
from godiag.store.s3 import Bucket


class FleetStore(Store):
    backend = "fleet"

    def __init__(self, s3: dict[str, str], dsn: str, max_bytes: int = 256 * MB) -> None:
        super().__init__(max_bytes)
        self.bucket = Bucket(s3)
        self.index = PgIndex(dsn)

    def _uri(self, aid: str, sha: str) -> str:
        return self.bucket.uri(aid)

    # -- writing -------------------------------------------------------------------
    def _put(self, data: bytes, meta: ArtifactMeta, aid: str, baseline: bool) -> Artifact:
        with self.index.txn() as cur:
            self.index.lock(cur, aid)
            existing = self.index.one(cur, aid, self._uri)
            if existing is None or self.bucket.head(aid) is None:
                self.bucket.put(aid, data, meta)
            values = index.insert_values(aid, meta, baseline, datetime.now(UTC), False)
            self.index.insert(cur, values)
            got = self.index.one(cur, aid, self._uri)
        assert got is not None
        return got

    def set_baseline(self, aid: str, on: bool = True) -> Artifact:
        with self.index.txn() as cur:
            cur.execute("UPDATE artifacts SET baseline = %s WHERE id = %s", (on, aid))
            got = self.index.one(cur, aid, self._uri)
        if got is None:
            raise StoreError(f"no artifact {aid!r} in the store")
        return got

    def delete(self, aid: str) -> bool:
        with self.index.txn() as cur:
            self.index.lock(cur, aid)
            cur.execute("DELETE FROM artifacts WHERE id = %s", (aid,))
            found = bool(cur.rowcount)
        if found:
            self._drop_object(aid)
        return found

    def _drop_object(self, aid: str) -> bool:
        """Delete the object of `aid` if, holding its lock, no row refers to it."""
        with self.index.txn() as cur:
            self.index.lock(cur, aid)
            if self.index.one(cur, aid, self._uri) is not None:
                return False
            self.bucket.delete(aid)
        return True

    def gc(self, cutoff: datetime, keep_baselines: bool) -> GcResult:
        res = GcResult()
        with self.index.txn() as cur:
            res.removed = self.index.expired(cur, cutoff, keep_baselines)
            cur.executemany("DELETE FROM artifacts WHERE id = %s", [(i,) for i in res.removed])
        live = {r[0] for r in self.index.rows()}
        for aid in sorted(set(self.bucket.ids()) - live):
            if self._drop_object(aid):
                res.objects_deleted += 1
        return res

    # -- reading -------------------------------------------------------------------
    def info(self, aid: str) -> Artifact | None:
        with self.index.txn() as cur:
            return self.index.one(cur, aid, self._uri)

    def read(self, aid: str) -> bytes:
        art = self.get(aid)
        data = self.bucket.get(art.id)
        if hashlib.sha256(data).hexdigest() != art.meta.sha256:
            raise StoreError(f"artifact {art.id}: stored bytes do not match its sha256")
        return data

    def query(self, flt: Filter) -> list[Artifact]:
        return self.index.query(flt, self._uri)

    def ids_with_prefix(self, prefix: str, limit: int = 3) -> list[str]:
        return self.index.ids_with_prefix(prefix, limit)

    def verify(self) -> VerifyResult:
        """Every row's object is downloaded and hashed; rows first, then the bucket."""
        res = VerifyResult()
        rows = self.index.rows()
        for aid, sha, size in rows:
            res.checked += 1
            head = self.bucket.head(aid)
            if head is None:
                if self.info(aid) is not None:  # not removed meanwhile
                    res.problems.append(Problem(aid, "missing-object", self.bucket.uri(aid)))
                continue
            data = self.bucket.get(aid)
            if not self.bucket.has_manifest(aid):
                res.problems.append(Problem(aid, "missing-manifest", self.bucket.uri(aid)))
            if hashlib.sha256(data).hexdigest() != sha:
                res.problems.append(Problem(aid, "sha256-mismatch", self.bucket.uri(aid)))
            elif len(data) != size:
                res.problems.append(Problem(aid, "size-mismatch", f"{len(data)} != {size}"))
        live = {r[0] for r in rows}
        for aid in set(self.bucket.ids()):
            res.objects += 1
            if aid not in live:
                res.orphan_objects += 1
        return res

    def describe(self) -> dict[str, Any]:
        return {
            "backend": "fleet",
            "location": self.bucket.uri("").removesuffix("/artifacts/"),
            "endpoint": redact_url(self.bucket.endpoint),
            "index": self.index.where,
        }

    def close(self) -> None:
        self.index.close()
