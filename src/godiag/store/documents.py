"""The `godiag.store/v1` and `godiag.export/v1` documents built from store results.

Exports are meant to leave the machine, so everything in them passes through the
redaction here: URLs lose passwords and secret-looking query parameters, tags whose key
names a secret lose their value, and the store location never carries credentials.
"""

from __future__ import annotations

from typing import Any

from godiag.store.base import Artifact, Filter, GcResult, Store, VerifyResult
from godiag.store.metadata import format_time, redact_tags, redact_url


def record(art: Artifact, *, otel: bool = False) -> dict[str, Any]:
    """One artifact, redacted; with `otel` its metadata uses OpenTelemetry names."""
    d = art.to_dict()
    d["tags"] = redact_tags(d["tags"])
    if d["source_url"]:
        d["source_url"] = redact_url(d["source_url"])
    links = {"object": d.pop("uri"), "show": f"godiag store show {art.id}"}
    if not otel:
        return {**d, "links": links}
    meta = art.meta
    redacted = type(meta)(**{**meta.__dict__, "tags": d["tags"], "source_url": d["source_url"]})
    return {
        "id": art.id,
        "attributes": redacted.to_otel(),
        "baseline": art.baseline,
        "stored_at": d["stored_at"],
        "links": links,
    }


def filters_dict(flt: Filter) -> dict[str, Any]:
    return {
        "service": flt.service,
        "profile_type": flt.profile_type,
        "tags": redact_tags(flt.tags),
        "since": format_time(flt.since) if flt.since else None,
        "until": format_time(flt.until) if flt.until else None,
        "baseline": flt.baseline,
    }


def export_doc(store: Store, flt: Filter, otel: bool) -> dict[str, Any]:
    arts = store.query(flt)
    return {
        "schema": "godiag.export/v1",
        "store": store.describe(),
        "filters": filters_dict(flt),
        "otel": otel,
        "count": len(arts),
        "artifacts": [record(a, otel=otel) for a in arts],
    }


def store_doc(action: str, store: Store, **parts: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"schema": "godiag.store/v1", "action": action}
    doc["store"] = store.describe()
    doc.update(parts)
    return doc


def gc_dict(res: GcResult, keep_days: int, keep_baselines: bool) -> dict[str, Any]:
    return {
        "keep_days": keep_days,
        "keep_baselines": keep_baselines,
        "removed": res.removed,
        "objects_deleted": res.objects_deleted,
        "temp_deleted": res.temp_deleted,
    }


def verify_dict(res: VerifyResult) -> dict[str, Any]:
    return {
        "ok": not res.problems,
        "checked": res.checked,
        "objects": res.objects,
        "orphan_objects": res.orphan_objects,
        "temp_files": res.temp_files,
        "problems": [{"id": p.id, "kind": p.kind, "detail": p.detail} for p in res.problems],
    }
