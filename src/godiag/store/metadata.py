"""Artifact metadata (docs/contracts.md "Artifact metadata"): schema, validation, name mappings.

One frozen record is what every backend stores and what exports show. Validation happens
before any byte is written, and names *every* missing field at once so the user fixes
them in one go. Three spellings of the same names exist on purpose:

- JSON/snake_case (the contract, the index columns);
- hyphenated (S3 object metadata, where underscores are not portable across servers);
- OpenTelemetry resource attributes (exports and the fleet manifest).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from godiag.errors import StoreError
from godiag.model.capture import Capture, CaptureMeta

MANDATORY = (
    "service_name",
    "go_version",
    "build_commit",
    "profile_type",
    "captured_at",
    "sha256",
    "size",
)
OPTIONAL = ("tags", "incident_id", "source_url", "host")

# Where a user sets each value a service may not expose (said when a capture is not stored).
WHERE_TO_SET = {
    "service_name": "--service or the target's service_name in godiag.toml",
    "go_version": "--go-version or the target's go_version in godiag.toml",
    "build_commit": "--build-commit or the target's build_commit in godiag.toml",
    "profile_type": "--type",
}

OTEL_NAMES = {
    "service_name": "service.name",
    "go_version": "process.runtime.version",
    "build_commit": "vcs.ref.head.revision",
    "host": "host.name",
    "source_url": "url.full",
    "profile_type": "godiag.profile.type",
    "captured_at": "godiag.captured_at",
    "sha256": "godiag.artifact.sha256",
    "size": "godiag.artifact.size",
    "incident_id": "godiag.incident.id",
}

# Tag keys: lowercase, start with a letter, dots/dashes/underscores inside (env, team, k8s.ns).
TAG_KEY = re.compile(r"[a-z][a-z0-9_.\-]{0,62}")
MAX_TAG_VALUE = 256
MAX_TAGS = 32
SHA256 = re.compile(r"[0-9a-f]{64}")
# A field value that is a secret is never exported; these spell "this is a secret".
SECRET_WORDS = re.compile(
    r"pass(word|wd)?|secret|token|api[_\-]?key|access[_\-]?key|auth|credential|signature|sig$",
    re.IGNORECASE,
)
REDACTED = "REDACTED"


class MetadataError(StoreError):
    """A write was refused because its metadata is incomplete or malformed."""

    def __init__(self, message: str, missing: list[str] | None = None) -> None:
        super().__init__(message)
        self.missing = missing or []


@dataclass(frozen=True)
class ArtifactMeta:
    service_name: str
    go_version: str
    build_commit: str
    profile_type: str
    captured_at: datetime
    sha256: str
    size: int
    tags: dict[str, str] = field(default_factory=dict)
    incident_id: str | None = None
    source_url: str | None = None
    host: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "service_name": self.service_name,
            "go_version": self.go_version,
            "build_commit": self.build_commit,
            "profile_type": self.profile_type,
            "captured_at": format_time(self.captured_at),
            "sha256": self.sha256,
            "size": self.size,
            "tags": dict(sorted(self.tags.items())),
            "incident_id": self.incident_id,
            "source_url": self.source_url,
            "host": self.host,
        }

    def to_otel(self) -> dict[str, Any]:
        """OpenTelemetry resource-attribute spelling; tags become `godiag.tag.KEY`."""
        d = self.to_dict()
        out: dict[str, Any] = {"process.runtime.name": "go"}
        for key, name in OTEL_NAMES.items():
            if d[key] is not None:
                out[name] = d[key]
        for k, v in d["tags"].items():
            out[f"godiag.tag.{k}"] = v
        return out

    def to_object_metadata(self) -> dict[str, str]:
        """S3 user metadata: hyphenated keys, ASCII values (tags as one JSON value)."""
        d = self.to_dict()
        out = {k.replace("_", "-"): str(v) for k, v in d.items() if k != "tags" and v is not None}
        if self.tags:
            out["tags"] = json.dumps(d["tags"], ensure_ascii=True, separators=(",", ":"))
        return out


def format_time(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: str, what: str = "time") -> datetime:
    """RFC 3339 (a trailing Z too) or a date; naive times are taken as UTC."""
    try:
        t = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise StoreError(f"{what}: {value!r} is not an RFC 3339 time or a date") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def validate_tags(tags: Any) -> dict[str, str]:
    if not isinstance(tags, dict):
        raise MetadataError(f"bad tags {tags!r}: expected a map of KEY to VALUE")
    if len(tags) > MAX_TAGS:
        raise MetadataError(f"too many tags ({len(tags)}, at most {MAX_TAGS})")
    for k, v in tags.items():
        if not isinstance(k, str) or not TAG_KEY.fullmatch(k):
            raise MetadataError(
                f"bad tag key {k!r}: use lowercase letters, digits, '.', '-', '_' "
                "and start with a letter (at most 63 characters)"
            )
        if not isinstance(v, str) or len(v) > MAX_TAG_VALUE or not v.isprintable():
            raise MetadataError(
                f"bad value for tag {k!r}: expected printable text of at most "
                f"{MAX_TAG_VALUE} characters"
            )
    return dict(tags)


def parse_tag(text: str) -> tuple[str, str]:
    """`KEY=VALUE` as given on the command line, validated like stored tags."""
    key, sep, value = text.partition("=")
    if not sep:
        raise MetadataError(f"bad tag {text!r}: expected KEY=VALUE")
    validate_tags({key: value})
    return key, value


def parse_tags(items: tuple[str, ...] | list[str]) -> dict[str, str]:
    return dict(parse_tag(t) for t in items)


def from_dict(d: dict[str, Any]) -> ArtifactMeta:
    """Validate a metadata mapping; every missing mandatory field is named in one error."""
    missing = [k for k in MANDATORY if d.get(k) in (None, "")]
    if missing:
        raise MetadataError(describe_missing(missing), missing)
    for key in ("service_name", "go_version", "build_commit", "profile_type"):
        v = d[key]
        if not isinstance(v, str) or len(v) > 256 or not v.isprintable():
            raise MetadataError(f"bad {key} {v!r}: expected printable text (at most 256)")
    sha = str(d["sha256"]).lower()
    if not SHA256.fullmatch(sha):
        raise MetadataError(f"bad sha256 {d['sha256']!r}: expected 64 hex digits")
    size = d["size"]
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise MetadataError(f"bad size {size!r}: expected a non-negative integer")
    at = d["captured_at"]
    captured = at if isinstance(at, datetime) else parse_time(str(at), "captured_at")
    if captured.tzinfo is None:
        captured = captured.replace(tzinfo=UTC)
    opt = {k: d.get(k) for k in ("incident_id", "source_url", "host")}
    for k, v in opt.items():
        if v is not None and (not isinstance(v, str) or len(v) > 2048):
            raise MetadataError(f"bad {k} {v!r}: expected text (at most 2048 characters)")
    return ArtifactMeta(
        service_name=d["service_name"],
        go_version=d["go_version"],
        build_commit=d["build_commit"],
        profile_type=d["profile_type"],
        captured_at=captured.astimezone(UTC),
        sha256=sha,
        size=size,
        tags=validate_tags({} if d.get("tags") is None else d["tags"]),
        incident_id=opt["incident_id"],
        source_url=redact_url(opt["source_url"]) if opt["source_url"] else None,
        host=opt["host"],
    )


def describe_missing(missing: list[str]) -> str:
    hints = [f"{k} ({WHERE_TO_SET[k]})" if k in WHERE_TO_SET else k for k in missing]
    return "missing mandatory metadata: " + ", ".join(hints)


def from_capture(
    capture: Capture,
    overrides: CaptureMeta | None = None,
    *,
    incident_id: str | None = None,
) -> tuple[ArtifactMeta | None, list[str]]:
    """Metadata of a capture, the user's overrides winning; (None, missing) if incomplete."""
    meta = capture.meta.merged(overrides) if overrides else capture.meta
    d: dict[str, Any] = {
        "service_name": meta.service_name,
        "go_version": meta.go_version,
        "build_commit": meta.build_commit,
        "profile_type": capture.profile_type,
        "captured_at": capture.captured_at,
        "sha256": capture.sha256,
        "size": capture.size,
        "tags": _stamped(meta.tags),
        "incident_id": incident_id,
        "source_url": capture.source if "://" in capture.source else None,
        "host": meta.host,
    }
    missing = [k for k in MANDATORY if d.get(k) in (None, "")]
    if missing:
        return None, missing
    return from_dict(d), []


# The tag naming the godiag that stored an artifact: a later reader (an audit, a diagnosis
# that takes it as its reference) can tell captures of another version's collector.
STORED_BY = "godiag.version"


def _stamped(tags: dict[str, str]) -> dict[str, str]:
    """The user's tags and STORED_BY (theirs wins; none added to a full set)."""
    from godiag.provenance import tool

    if STORED_BY in tags or len(tags) >= MAX_TAGS:
        return tags
    return {**tags, STORED_BY: tool()["version"]}


def redact_url(url: str) -> str:
    """Drop passwords in userinfo and secret-looking query parameters."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{REDACTED}@{hostport}" if ":" in userinfo else f"{REDACTED}@{hostport}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, REDACTED if SECRET_WORDS.search(k) else v) for k, v in pairs])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_tags(tags: dict[str, str]) -> dict[str, str]:
    return {k: (REDACTED if SECRET_WORDS.search(k) else v) for k, v in tags.items()}


def parse_when(value: str, now: datetime | None = None, what: str = "--since") -> datetime:
    """An RFC 3339 time, a date, or an age back from now: a duration as every command
    reads one (`90m`, `1h30m`, `24h`; godiag.durations) or days and weeks (`7d`, `2w`)."""
    from datetime import timedelta

    t = value.strip()
    m = re.fullmatch(r"(\d+)\s*([dw])", t)
    if m:
        age: float = int(m.group(1)) * {"d": 86400, "w": 604800}[m.group(2)]
    elif t[:1].isdigit() and t[-1:] in ("s", "m", "h"):  # no date or time ends so
        from godiag.durations import parse_duration

        age = parse_duration(t, what, bare_seconds=False, error=StoreError)
    else:
        return parse_time(value, what)
    return (now or datetime.now(UTC)) - timedelta(seconds=age)
