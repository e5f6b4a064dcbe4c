"""The store interface every backend implements, and the logic they share.

Backends only move bytes and index rows; validation, the size limit, id derivation,
reference resolution (`latest`, a timestamp, an id prefix) live here so the local and
fleet stores behave the same and `godiag check` can stay a thin layer on top.

Ids are derived from the content hash *and* the metadata: writing the same capture twice
is idempotent (never a duplicate), while the same bytes stored for two services are two
artifacts sharing one object.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from godiag.errors import StoreError
from godiag.store.metadata import ArtifactMeta, from_dict, parse_time

MB = 1024 * 1024
MIN_PREFIX = 4


@dataclass(frozen=True)
class Artifact:
    id: str
    meta: ArtifactMeta
    baseline: bool
    stored_at: datetime
    uri: str

    def to_dict(self) -> dict[str, Any]:
        from godiag.store.metadata import format_time

        return {
            "id": self.id,
            **self.meta.to_dict(),
            "baseline": self.baseline,
            "stored_at": format_time(self.stored_at),
            "uri": self.uri,
        }


@dataclass(frozen=True)
class Filter:
    """Conditions are ANDed; every tag given must be present with that value."""

    service: str | None = None
    profile_type: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    since: datetime | None = None
    until: datetime | None = None
    baseline: bool | None = None
    limit: int | None = None


@dataclass
class GcResult:
    removed: list[str] = field(default_factory=list)
    objects_deleted: int = 0
    temp_deleted: int = 0


@dataclass
class Problem:
    id: str
    # missing-object | sha256-mismatch | size-mismatch | corrupt-object | missing-manifest
    kind: str
    detail: str


@dataclass
class VerifyResult:
    checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    objects: int = 0
    orphan_objects: int = 0  # complete objects no row points to: harmless, gc removes them
    temp_files: int = 0  # interrupted writes: never reachable through the index, gc removes them


def artifact_id(meta: ArtifactMeta) -> str:
    canon = json.dumps(meta.to_dict(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()[:20]


class Store(ABC):
    """A governed artifact store: content-addressed objects plus a queryable index."""

    backend: str = "?"

    def __init__(self, max_bytes: int = 256 * MB) -> None:
        self.max_bytes = max_bytes

    # -- writing -------------------------------------------------------------------
    def put(self, data: bytes, fields: dict[str, Any], *, baseline: bool = False) -> Artifact:
        """Validate, then store `data`; sha256 and size always come from the bytes."""
        self.check_size(len(data))
        meta = from_dict({**fields, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)})
        return self._put(data, meta, artifact_id(meta), baseline)

    def check_size(self, size: int) -> None:
        if size > self.max_bytes:
            raise StoreError(
                f"artifact of {size} bytes is over the store's limit of {self.max_bytes} bytes "
                "(raise [store] max_artifact_mb in godiag.toml)"
            )

    @abstractmethod
    def _put(self, data: bytes, meta: ArtifactMeta, aid: str, baseline: bool) -> Artifact: ...

    @abstractmethod
    def set_baseline(self, aid: str, on: bool = True) -> Artifact: ...

    @abstractmethod
    def delete(self, aid: str) -> bool: ...

    @abstractmethod
    def gc(self, cutoff: datetime, keep_baselines: bool) -> GcResult: ...

    # -- reading -------------------------------------------------------------------
    @abstractmethod
    def info(self, aid: str) -> Artifact | None: ...

    @abstractmethod
    def read(self, aid: str) -> bytes:
        """The artifact's bytes, checked against its sha256 (StoreError if they differ)."""

    @abstractmethod
    def query(self, flt: Filter) -> list[Artifact]:
        """Matching artifacts, newest capture first."""

    @abstractmethod
    def ids_with_prefix(self, prefix: str, limit: int = 3) -> list[str]: ...

    @abstractmethod
    def verify(self) -> VerifyResult: ...

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """Backend and location for reports, with no secret in it."""

    def close(self) -> None:
        return None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- shared logic --------------------------------------------------------------
    def get(self, ref: str) -> Artifact:
        """An artifact by id or unambiguous id prefix."""
        ref = ref.strip().lower()
        found = self.info(ref)
        if found is not None:
            return found
        if len(ref) < MIN_PREFIX or not all(c in "0123456789abcdef" for c in ref):
            raise StoreError(f"no artifact {ref!r} in the store")
        ids = self.ids_with_prefix(ref)
        if not ids:
            raise StoreError(f"no artifact {ref!r} in the store")
        if len(ids) > 1:
            raise StoreError(f"artifact id prefix {ref!r} is ambiguous ({', '.join(ids)}, ...)")
        art = self.info(ids[0])
        if art is None:
            raise StoreError(f"artifact {ids[0]} was removed meanwhile")
        return art

    def latest(
        self, service: str, profile_type: str, before: datetime | None = None
    ) -> Artifact | None:
        """Newest marked baseline of service+type, else the newest capture of them."""
        for baseline in (True, None):
            got = self.query(
                Filter(
                    service=service,
                    profile_type=profile_type,
                    until=before,
                    baseline=baseline,
                    limit=1,
                )
            )
            if got:
                return got[0]
        return None

    def resolve_baseline(self, ref: str, service: str, profile_type: str) -> Artifact:
        """`--baseline ID|TIMESTAMP|latest` as `godiag check` takes it."""
        if ref == "latest":
            art = self.latest(service, profile_type)
        elif any(c in ref for c in "-:T") and not all(c in "0123456789abcdef" for c in ref):
            art = self.latest(service, profile_type, before=parse_time(ref, "--baseline"))
        else:
            art = self.get(ref)
            if art.meta.service_name != service or art.meta.profile_type != profile_type:
                raise StoreError(
                    f"baseline {art.id} is a {art.meta.profile_type} of "
                    f"{art.meta.service_name}, not a {profile_type} of {service}"
                )
        if art is None:
            raise StoreError(
                f"no stored {profile_type} of service {service!r} to use as baseline "
                "(store one with --store, or `godiag store put --as-baseline`)"
            )
        return art
