"""Governed artifact store: open the configured backend, save captures.

`open_store(config)` picks the embedded (local directory + SQLite) or fleet (S3 +
PostgreSQL) backend from `[store]`; `save_capture` is what collecting commands call
behind `--store`: it never raises for missing metadata, it reports what is missing so
the command can still analyse and say where to set the values.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from godiag.config import Config, StoreConfig
from godiag.errors import StoreError
from godiag.model.capture import Capture, CaptureMeta

if TYPE_CHECKING:
    from godiag.store.base import Store


def default_root() -> Path:
    """The platform's per-user data directory (XDG_DATA_HOME, ~/Library, LOCALAPPDATA)."""
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    elif os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "godiag" / "store"


def local_root(conf: StoreConfig) -> Path:
    """GODIAG_HOME (per invocation) wins over `[store] path`, which wins over the default.

    Always absolute: artifact URIs are file URIs, and a relative one cannot be written."""
    home = os.environ.get("GODIAG_HOME")
    if home:
        return Path(home).expanduser().absolute() / "store"
    if conf.path:
        return Path(conf.path).expanduser().absolute()
    return default_root()


def open_store(conf: StoreConfig | Config | None = None) -> Store:
    if isinstance(conf, Config):
        conf = conf.store
    conf = conf or StoreConfig()
    limit = conf.max_artifact_mb * 1024 * 1024
    if conf.backend == "fleet":
        from godiag.store.fleet import FleetStore

        if conf.postgres_dsn is None or not conf.s3.get("endpoint") or not conf.s3.get("bucket"):
            raise StoreError("the fleet store needs [store.s3] endpoint, bucket and postgres dsn")
        return FleetStore(conf.s3, conf.postgres_dsn, limit)
    from godiag.store.local import LocalStore

    return LocalStore(local_root(conf), limit)


def save_capture(
    capture: Capture,
    overrides: CaptureMeta | None,
    config: Config | StoreConfig | None,
    *,
    baseline: bool = False,
    incident_id: str | None = None,
) -> tuple[str | None, list[str]]:
    """Store a capture: (artifact id, []) or (None, missing mandatory fields)."""
    from godiag.store.metadata import from_capture

    meta, missing = from_capture(capture, overrides, incident_id=incident_id)
    if meta is None:
        return None, missing
    with open_store(config) as store:
        art = store.put(capture.data, meta.to_dict(), baseline=baseline)
    return art.id, []


def store_outcome(
    capture: Capture,
    overrides: CaptureMeta | None,
    config: Config | StoreConfig | None,
    *,
    enabled: bool = True,
    baseline: bool = False,
    incident_id: str | None = None,
) -> dict[str, object]:
    """What a collecting command puts in its report about storing a capture (JSON-safe).

    `{"stored": true, "id", "profile_type"}` or `{"stored": false, "missing": [...],
    "message": "not stored: missing ... (--go-version or ...)"}`; never raises for
    missing metadata, so the command still analyses and reports.
    """
    from godiag.store.metadata import describe_missing

    if not enabled:
        return {"stored": False, "missing": [], "message": "not stored (--no-store)"}
    aid, missing = save_capture(
        capture, overrides, config, baseline=baseline, incident_id=incident_id
    )
    if aid is None:
        return {
            "stored": False,
            "missing": missing,
            "message": f"{capture.profile_type} not stored: {describe_missing(missing)}",
        }
    return {"stored": True, "id": aid, "profile_type": capture.profile_type, "missing": []}
