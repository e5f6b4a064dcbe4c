"""A capture: raw bytes plus where and when they came from and what was learned on the way.

Collectors return captures and never parse them, so storing a capture later is a thin
layer: the metadata needed by the store (docs/contracts.md "Artifact metadata") travels with it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class CaptureMeta:
    service_name: str | None = None
    go_version: str | None = None
    build_commit: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    host: str | None = None

    def merged(self, over: CaptureMeta) -> CaptureMeta:
        """Values in `over` win (the user's command line beats what the service exposes)."""
        return CaptureMeta(
            service_name=over.service_name or self.service_name,
            go_version=over.go_version or self.go_version,
            build_commit=over.build_commit or self.build_commit,
            tags={**self.tags, **over.tags},
            host=over.host or self.host,
        )


@dataclass(frozen=True)
class Capture:
    data: bytes
    source: str
    profile_type: str
    captured_at: datetime
    content_type: str | None = None
    meta: CaptureMeta = field(default_factory=CaptureMeta)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def size(self) -> int:
        return len(self.data)
