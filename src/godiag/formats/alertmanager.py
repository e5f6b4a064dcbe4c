"""Alertmanager webhook payloads (version "4") -> a Notification, or a ParseError saying why.

Strict about what godiag relies on (types of every known field, RFC 3339 times, statuses,
a hex fingerprint), tolerant of what newer releases add: unknown keys are ignored, and
`notification_reason` / `routeLabels` are read when present. Labels and annotations are
kept as data only; nothing here interprets them. Sizes are capped so a hostile payload
cannot make the receiver allocate more than the body limit already allows.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from godiag.errors import ParseError

MAX_ALERTS = 10_000
MAX_LABELS = 256
MAX_STRING = 64 * 1024
ZERO_TIME = "0001-01-01T00:00:00Z"  # Alertmanager's endsAt while an alert fires
_FINGERPRINT = re.compile(r"[0-9a-fA-F]{1,64}")
_RFC3339 = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})"
)


@dataclass(frozen=True)
class Alert:
    status: str  # firing | resolved
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None  # None while firing (the zero time)
    generator_url: str
    fingerprint: str

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "")


@dataclass(frozen=True)
class Notification:
    version: str
    group_key: str
    status: str
    receiver: str
    alerts: tuple[Alert, ...]
    truncated_alerts: int = 0
    group_labels: dict[str, str] = field(default_factory=dict)
    common_labels: dict[str, str] = field(default_factory=dict)
    common_annotations: dict[str, str] = field(default_factory=dict)
    external_url: str = ""
    notification_reason: str | None = None
    route_labels: dict[str, str] = field(default_factory=dict)

    @property
    def is_repeat(self) -> bool:
        """A re-send of an unchanged group (`repeat interval elapsed`): never new work."""
        return (self.notification_reason or "").strip().lower() == "repeat interval elapsed"


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, why: str) -> ParseError:
        return ParseError(self.source, f"{path}: {why}" if path else why)

    def string(self, obj: dict[str, Any], key: str, path: str, *, required: bool = True) -> str:
        if key not in obj or obj[key] is None:
            if required:
                raise self.fail(path, f"missing field {key!r}")
            return ""
        v = obj[key]
        if not isinstance(v, str):
            raise self.fail(f"{path}.{key}" if path else key, f"expected a string, got {_kind(v)}")
        if len(v) > MAX_STRING:
            raise self.fail(f"{path}.{key}" if path else key, f"longer than {MAX_STRING} chars")
        return self.unicode(v, f"{path}.{key}" if path else key)

    def unicode(self, v: str, where: str) -> str:
        """`v` if it can be stored as UTF-8: JSON's \\ud800 escapes decode to lone
        surrogates, which no database column accepts."""
        if not v.isascii():
            try:
                v.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise self.fail(
                    where, f"not valid Unicode: lone surrogate at character {exc.start}"
                ) from None
        return v

    def strmap(self, obj: dict[str, Any], key: str, path: str) -> dict[str, str]:
        where = f"{path}.{key}" if path else key
        v = obj.get(key)
        if v is None:
            return {}
        if not isinstance(v, dict):
            raise self.fail(where, f"expected an object of strings, got {_kind(v)}")
        if len(v) > MAX_LABELS:
            raise self.fail(where, f"more than {MAX_LABELS} entries")
        out: dict[str, str] = {}
        for k, val in v.items():
            if not isinstance(val, str):
                raise self.fail(
                    f"{where}.{_printable(k[:64])}", f"expected a string, got {_kind(val)}"
                )
            if len(k) > MAX_STRING or len(val) > MAX_STRING:
                raise self.fail(f"{where}.{_printable(k[:64])}", f"longer than {MAX_STRING} chars")
            name = self.unicode(k, f"{where} (a key)")
            out[name] = self.unicode(val, f"{where}.{_printable(k[:64])}")
        return out

    def time(self, obj: dict[str, Any], key: str, path: str) -> datetime | None:
        text = self.string(obj, key, path)
        if text == ZERO_TIME or text.startswith("0001-01-01T00:00:00"):
            return None
        m = _RFC3339.fullmatch(text)
        if not m:
            raise self.fail(f"{path}.{key}", f"not an RFC 3339 time: {text[:40]!r}")
        day, clock, frac, zone = m.groups()
        # Go writes up to 9 fractional digits; Python keeps 6.
        iso = f"{day}T{clock}" + (f".{(frac or '0')[:6].ljust(6, '0')}")
        iso += "+00:00" if zone in ("Z", "z") else zone
        try:
            return datetime.fromisoformat(iso).astimezone(UTC)
        except ValueError as exc:
            raise self.fail(f"{path}.{key}", f"invalid time {text[:40]!r}: {exc}") from None
        except OverflowError:  # 9999-12-31T23:59:59-01:00 is past datetime's last year in UTC
            raise self.fail(f"{path}.{key}", f"time out of range: {text[:40]!r}") from None


def _printable(text: str) -> str:
    """A field name safe to put in an error message (lone surrogates escaped)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _kind(v: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(v), "null" if v is None else "a number"
    )


def _alert(r: _Reader, a: Any, path: str) -> Alert:
    if not isinstance(a, dict):
        raise r.fail(path, f"expected an object, got {_kind(a)}")
    status = r.string(a, "status", path)
    if status not in ("firing", "resolved"):
        raise r.fail(f"{path}.status", f"{status[:40]!r} is not firing or resolved")
    fp = r.string(a, "fingerprint", path)
    if not _FINGERPRINT.fullmatch(fp):
        raise r.fail(f"{path}.fingerprint", f"{fp[:40]!r} is not a hex fingerprint")
    starts = r.time(a, "startsAt", path)
    if starts is None:
        raise r.fail(f"{path}.startsAt", "is the zero time")
    ends = r.time(a, "endsAt", path) if a.get("endsAt") is not None else None
    return Alert(
        status=status,
        labels=r.strmap(a, "labels", path),
        annotations=r.strmap(a, "annotations", path),
        starts_at=starts,
        ends_at=ends,
        generator_url=r.string(a, "generatorURL", path, required=False),
        fingerprint=fp.lower(),
    )


def parse_time(text: str, source: str = "time") -> datetime | None:
    """An RFC 3339 time as Alertmanager and Prometheus write it (None for the zero time)."""
    return _Reader(source).time({"t": text}, "t", "")


def parse(data: bytes | str, source: str = "alertmanager webhook") -> Notification:
    """Parse one webhook body. Raises ParseError (with the field path) on anything invalid."""
    r = _Reader(source)
    try:
        # Alertmanager sends UTF-8; json.loads would also guess UTF-16/32 from the bytes.
        doc = json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)
    except UnicodeDecodeError as exc:
        raise ParseError(source, f"not UTF-8: {exc.reason}", offset=exc.start) from None
    except json.JSONDecodeError as exc:
        raise ParseError(source, f"malformed JSON: {exc.msg}", offset=exc.pos) from None
    except ValueError as exc:  # an integer of more than 4,300 digits (int's own limit)
        raise ParseError(source, f"malformed JSON: {str(exc)[:120]}") from None
    except RecursionError:
        raise ParseError(source, "malformed JSON: nested too deeply") from None
    if not isinstance(doc, dict):
        raise r.fail("", f"expected a JSON object, got {_kind(doc)}")
    version = doc.get("version")
    if version != "4":
        shown = repr(version)[:20]
        raise r.fail("version", f"{shown} is not a supported payload version (expected '4')")
    status = r.string(doc, "status", "")
    if status not in ("firing", "resolved"):
        raise r.fail("status", f"{status[:40]!r} is not firing or resolved")
    alerts = doc.get("alerts")
    if not isinstance(alerts, list):
        raise r.fail("alerts", f"expected an array, got {_kind(alerts)}")
    if len(alerts) > MAX_ALERTS:
        raise r.fail("alerts", f"more than {MAX_ALERTS} alerts")
    truncated = doc.get("truncatedAlerts", 0)
    if truncated is None:
        truncated = 0
    if not isinstance(truncated, int) or isinstance(truncated, bool) or truncated < 0:
        raise r.fail("truncatedAlerts", "expected a non-negative integer")
    reason = doc.get("notification_reason")
    if reason is not None and not isinstance(reason, str):
        raise r.fail("notification_reason", f"expected a string, got {_kind(reason)}")
    return Notification(
        version="4",
        group_key=r.string(doc, "groupKey", "", required=False),
        status=status,
        receiver=r.string(doc, "receiver", "", required=False),
        alerts=tuple(_alert(r, a, f"alerts[{i}]") for i, a in enumerate(alerts)),
        truncated_alerts=truncated,
        group_labels=r.strmap(doc, "groupLabels", ""),
        common_labels=r.strmap(doc, "commonLabels", ""),
        common_annotations=r.strmap(doc, "commonAnnotations", ""),
        external_url=r.string(doc, "externalURL", "", required=False),
        notification_reason=reason,
        route_labels=r.strmap(doc, "routeLabels", ""),
    )
