"""The index table shared by the SQLite and PostgreSQL backends: columns, rows, filters.

Both dialects get the same column names and the same WHERE logic; only the placeholder,
the time type and the tag-matching expression differ, so filters cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from godiag.store.base import Artifact, Filter
from godiag.store.metadata import ArtifactMeta, format_time, parse_time

COLUMNS = (
    "id",
    "sha256",
    "size",
    "service_name",
    "go_version",
    "build_commit",
    "profile_type",
    "captured_at",
    "stored_at",
    "tags",
    "incident_id",
    "source_url",
    "host",
    "baseline",
)
SELECT = "SELECT " + ", ".join(COLUMNS) + " FROM artifacts"


def _time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return parse_time(str(value))


def row_to_artifact(row: tuple[Any, ...], uri: Callable[[str, str], str]) -> Artifact:
    r = dict(zip(COLUMNS, row, strict=True))
    tags = r["tags"]
    if isinstance(tags, str):
        tags = json.loads(tags)
    meta = ArtifactMeta(
        service_name=r["service_name"],
        go_version=r["go_version"],
        build_commit=r["build_commit"],
        profile_type=r["profile_type"],
        captured_at=_time(r["captured_at"]).astimezone(UTC),
        sha256=r["sha256"],
        size=int(r["size"]),
        tags=dict(tags or {}),
        incident_id=r["incident_id"],
        source_url=r["source_url"],
        host=r["host"],
    )
    return Artifact(
        id=r["id"],
        meta=meta,
        baseline=bool(r["baseline"]),
        stored_at=_time(r["stored_at"]).astimezone(UTC),
        uri=uri(r["id"], r["sha256"]),
    )


def insert_values(
    aid: str, meta: ArtifactMeta, baseline: bool, now: datetime, text_time: bool
) -> tuple[Any, ...]:
    """Values in COLUMNS order; SQLite keeps times as sortable RFC 3339 text."""
    t: Callable[[datetime], Any] = format_time if text_time else (lambda d: d)
    return (
        aid,
        meta.sha256,
        meta.size,
        meta.service_name,
        meta.go_version,
        meta.build_commit,
        meta.profile_type,
        t(meta.captured_at),
        t(now),
        json.dumps(meta.tags, sort_keys=True),
        meta.incident_id,
        meta.source_url,
        meta.host,
        baseline,
    )


def where(
    flt: Filter,
    ph: str,
    tag_clause: Callable[[str, str], tuple[str, list[Any]]],
    text_time: bool,
) -> tuple[str, list[Any]]:
    """WHERE ... ORDER BY ... LIMIT for `flt`; `ph` is the dialect's placeholder."""
    conds: list[str] = []
    args: list[Any] = []
    t: Callable[[datetime], Any] = format_time if text_time else (lambda d: d)
    if flt.service is not None:
        conds.append(f"service_name = {ph}")
        args.append(flt.service)
    if flt.profile_type is not None:
        conds.append(f"profile_type = {ph}")
        args.append(flt.profile_type)
    if flt.since is not None:
        conds.append(f"captured_at >= {ph}")
        args.append(t(flt.since))
    if flt.until is not None:
        conds.append(f"captured_at <= {ph}")
        args.append(t(flt.until))
    if flt.baseline is not None:
        conds.append(f"baseline = {ph}")
        args.append(flt.baseline)
    for k, v in sorted(flt.tags.items()):
        sql, a = tag_clause(k, v)
        conds.append(sql)
        args.extend(a)
    sql = (" WHERE " + " AND ".join(conds)) if conds else ""
    sql += " ORDER BY captured_at DESC, id"
    if flt.limit is not None:
        sql += f" LIMIT {int(flt.limit)}"
    return sql, args
