"""A saved capture bundle: every raw capture of one diagnosis plus manifest.json.

`save` writes what a live diagnosis recorded (`diagnose --save-captures DIR`); `load`
reads it back into the same Recording, so `diagnose DIR` re-runs the analysis offline.
A bundle is input from anywhere (a colleague, an attachment): `load` trusts nothing in
it. The manifest is read under 1 MB and checked field by field; a capture's file name
must be a plain name inside DIR (no separators, no `..`, no symlink: O_NOFOLLOW), its
bytes are read under the capture budget, decompressed under it too, and must hash to the
manifest's sha256; the whole bundle is bounded by BUNDLE_MB. Every refusal is one
ParseError naming the file and the field.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import re
import stat
from datetime import datetime
from pathlib import Path
from typing import Any

from godiag.errors import ParseError, UsageError
from godiag.limits import BUNDLE_MB, IN_FLIGHT, MB
from godiag.model.capture import Capture, CaptureMeta
from godiag.model.observation import Recorded, Recording
from godiag.provenance import tool

SCHEMA = "godiag.capture-bundle/v1"
MANIFEST = "manifest.json"
MANIFEST_MAX = 1 * MB
MAX_CAPTURES = 64  # a diagnosis takes 16 to 36 (a PID target with metrics: the most)
MAX_TEXT = 64 * 1024  # one sentence of missing/notes, one source URL
_FILE = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,80}")
GZIP_MAGIC = b"\x1f\x8b"


# ---- writing
def check_target_dir(path: Path) -> None:
    """Before observing: DIR must be new or empty, so one bundle never mixes two runs;
    it is created now, so a path that cannot be written fails before the window."""
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise UsageError(f"--save-captures {path}: exists and is not an empty directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--save-captures {path}: {exc.strerror or exc}") from None


def _file_name(i: int, r: Recorded) -> tuple[str, bool]:
    """A plain file name for a capture; text is gzipped (profiles already are)."""
    base = f"{i:02d}-" + r.role.replace("@", "-").replace("#", "-")
    if r.capture.data[:2] == GZIP_MAGIC:
        return base + ".pb.gz", False
    return base + ".txt.gz", True


def _write(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with open(fd, "wb") as fh:
        fh.write(data)


def save(path: Path, rec: Recording) -> None:
    """Write `rec` to the directory `path` (created; must be new or empty)."""
    check_target_dir(path)
    entries = []
    for i, r in enumerate(rec.captures):
        name, compress = _file_name(i, r)
        # mtime=0: the same bytes give the same file (bundles are committed as test data)
        _write(path / name, gzip.compress(r.capture.data, mtime=0) if compress else r.capture.data)
        cap = r.capture
        entries.append({
            "role": r.role, "file": name, "encoding": "gzip" if compress else "identity",
            "at_s": r.at, "captured_at": cap.captured_at.isoformat(), "source": cap.source,
            "profile_type": cap.profile_type, "content_type": cap.content_type,
            "stored": r.stored, "after_gc": r.after_gc, "size": cap.size, "sha256": cap.sha256,
        })  # fmt: skip
    m = rec.meta
    manifest = {
        "schema": SCHEMA,
        "tool": tool(),  # the godiag recording now, whoever recorded `rec` if it was loaded
        "target": {"url": rec.url, "service_name": m.service_name, "go_version": m.go_version,
                   "build_commit": m.build_commit, "tags": m.tags, "host": m.host,
                   **({"metrics_url": rec.metrics_url} if rec.metrics_url else {})},
        "diagnosis": {"started_at": rec.started_at, "duration_s": rec.diagnosis_s,
                      "window_s": rec.window, "limits": rec.limits,
                      "host_busy_cpus": rec.host_busy, "cpu_count": rec.cpu_count},
        "observation": {"duration_s": rec.duration, "cpu_seconds": rec.cpu_seconds,
                        "metrics_source": rec.metrics_source,
                        "history": [list(p) for p in rec.history], "missing": rec.missing,
                        "lookback_s": rec.lookback,
                        "trends": {k: [list(p) for p in v] for k, v in rec.trends.items()},
                        "notes": rec.notes, "budget_hits": rec.budget_hits},
        "captures": entries,
    }  # fmt: skip
    _write(path / MANIFEST, (json.dumps(manifest, indent=1) + "\n").encode())


# ---- reading: nothing in the bundle is trusted
class _Fields:
    """Typed access to one JSON object of the manifest; errors name the field path."""

    def __init__(self, src: str, obj: Any, where: str) -> None:
        if not isinstance(obj, dict):
            raise ParseError(src, f"{where or 'manifest'}: expected an object")
        self.src, self.obj, self.where = src, obj, where

    def _bad(self, key: str, why: str) -> ParseError:
        return ParseError(self.src, f"{self.where}{'.' if self.where else ''}{key}: {why}")

    def raw(self, key: str) -> Any:
        if key not in self.obj:
            raise self._bad(key, "missing")
        return self.obj[key]

    def text(self, key: str, *, optional: bool = False) -> str | None:
        v = self.obj.get(key) if optional else self.raw(key)
        if v is None and optional:
            return None
        if not isinstance(v, str) or len(v) > MAX_TEXT:
            raise self._bad(key, "expected a string")
        return v

    def number(self, key: str, *, optional: bool = False) -> float | None:
        v = self.obj.get(key) if optional else self.raw(key)
        if v is None and optional:
            return None
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise self._bad(key, "expected a finite number")
        return v  # an int stays one: the document shows what was recorded

    def span(self, key: str, *, optional: bool = False) -> float | None:
        """A duration or an amount: a finite number, not negative."""
        v = self.number(key, optional=optional)
        if v is not None and v < 0:
            raise self._bad(key, "expected a number of 0 or more")
        return v

    def flag(self, key: str) -> bool:
        v = self.raw(key)
        if not isinstance(v, bool):
            raise self._bad(key, "expected true or false")
        return v

    def texts(self, key: str) -> list[str]:
        v = self.raw(key)
        if not isinstance(v, list) or len(v) > 1000:
            raise self._bad(key, "expected a list of strings")
        for i, x in enumerate(v):
            if not isinstance(x, str) or len(x) > MAX_TEXT:
                raise self._bad(f"{key}[{i}]", "expected a string")
        return list(v)

    def sub(self, key: str) -> _Fields:
        return _Fields(self.src, self.raw(key), f"{self.where}{'.' if self.where else ''}{key}")


def _read_bounded(path: Path, limit: int, src: str) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        raise ParseError(src, f"cannot open: {exc.strerror or exc}") from None
    with open(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ParseError(src, "not a regular file")
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise ParseError(src, f"larger than {limit >> 20} MB (the capture budget)")
    return data


def _when(f: _Fields, key: str) -> datetime:
    text = f.text(key) or ""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise f._bad(key, f"not an ISO 8601 time: {text[:40]!r}") from None
    if when.tzinfo is None:
        raise f._bad(key, "a time without its zone")
    return when


def _capture(root: Path, f: _Fields, max_bytes: int, src: str) -> Recorded:
    from godiag.formats.observation import ROLE
    from godiag.formats.pprof import gunzip

    role = f.text("role") or ""
    if not ROLE.fullmatch(role):
        raise f._bad("role", f"unknown role {role[:40]!r}")
    name = f.text("file") or ""
    if not _FILE.fullmatch(name) or name == MANIFEST:
        raise f._bad("file", f"{name[:60]!r} is not a plain file name inside the bundle")
    encoding = f.text("encoding")
    if encoding not in ("gzip", "identity"):
        raise f._bad("encoding", "expected gzip or identity")
    shown = f"{src.removesuffix(MANIFEST)}{name}"
    data = _read_bounded(root / name, max_bytes, shown)
    if encoding == "gzip":
        data = gunzip(data, shown, max_bytes, IN_FLIGHT)
    digest = f.text("sha256") or ""
    cap = Capture(
        data, f.text("source") or "", f.text("profile_type") or "", _when(f, "captured_at"),
        f.text("content_type", optional=True),
    )  # fmt: skip
    if cap.sha256 != digest:
        raise ParseError(shown, f"contents do not match the manifest's sha256 for {role}")
    at = f.number("at_s") or 0.0
    return Recorded(role, at, cap, f.flag("stored"), f.flag("after_gc"))


_SERIES = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def _points(src: str, raw: Any, where: str) -> list[tuple[float, float]]:
    """[[seconds, value], ...] of a series in the manifest."""
    if not isinstance(raw, list) or len(raw) > 100_000:
        raise ParseError(src, f"{where}: expected a list of [seconds, value] pairs")
    points = []
    for i, p in enumerate(raw):
        pf = _Fields(src, {"t": p[0], "v": p[1]} if isinstance(p, list) and len(p) == 2 else None,
                     f"{where}[{i}]")  # fmt: skip
        points.append((pf.number("t") or 0.0, pf.number("v") or 0.0))
    return points


def _tool(top: _Fields) -> dict[str, str] | None:
    """The godiag that wrote the bundle; None for a bundle written before `tool` existed."""
    if top.obj.get("tool") is None:
        return None
    t = top.sub("tool")
    out = {"name": t.text("name") or "", "version": t.text("version") or ""}
    commit = t.text("commit", optional=True)
    return out | {"commit": commit} if commit else out


def _shown(url: str | None) -> str | None:
    """A URL of the manifest as a document may show it: a bundle from elsewhere may carry
    what save never writes (user:pass@, a token in the query)."""
    from godiag.collect.http import shown_url

    return shown_url(url) if url else None


def is_bundle(path: Path) -> bool:
    return path.is_dir() and (path / MANIFEST).is_file()


def load(path: Path, max_bytes: int) -> Recording:
    """The Recording saved in the directory `path`; ParseError on anything amiss."""
    src = str(path / MANIFEST)
    raw = _read_bounded(path / MANIFEST, MANIFEST_MAX, src)
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ParseError(src, f"not JSON: {exc}") from None
    top = _Fields(src, doc, "")
    if top.raw("schema") != SCHEMA:
        raise ParseError(src, f"schema: expected {SCHEMA!r} (a bundle of diagnose --save-captures)")
    tgt, dia, ob = top.sub("target"), top.sub("diagnosis"), top.sub("observation")
    recorded_by = _tool(top)
    tags = tgt.raw("tags")
    if not isinstance(tags, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in tags.items()
    ):
        raise tgt._bad("tags", "expected an object of strings")
    limits_f = dia.sub("limits")
    limits = {k: limits_f.number(k) or 0.0 for k in ("capture_mb", "capture_s", "deadline_s")}
    source = ob.text("metrics_source", optional=True)
    if source not in (None, "metrics", "expvar", "none"):
        raise ob._bad("metrics_source", "expected metrics, expvar, none or null")
    points = _points(src, ob.raw("history"), "observation.history")
    # the lookback's series came later: a bundle without them has none
    trends_raw = ob.obj.get("trends") or {}
    if not isinstance(trends_raw, dict) or len(trends_raw) > 32:
        raise ob._bad("trends", "expected an object of series")
    trends = {}
    for name, pts in trends_raw.items():
        # Prometheus metric names only: the name is echoed in messages, one line each
        if not isinstance(name, str) or len(name) > 64 or not _SERIES.fullmatch(name):
            raise ob._bad("trends", "expected series names")
        trends[name] = _points(src, pts, f"observation.trends.{name}")
    hits_raw = ob.raw("budget_hits")
    if not isinstance(hits_raw, list) or len(hits_raw) > 1000:
        raise ob._bad("budget_hits", "expected a list")
    hits = []
    for i, h in enumerate(hits_raw):
        hf = _Fields(src, h, f"observation.budget_hits[{i}]")
        hits.append({k: hf.text(k) or "" for k in ("capture", "budget", "why")})
    caps_raw = top.raw("captures")
    if not isinstance(caps_raw, list) or len(caps_raw) > MAX_CAPTURES:
        raise top._bad("captures", f"expected a list of at most {MAX_CAPTURES}")
    captures: list[Recorded] = []
    total = 0
    for i, c in enumerate(caps_raw):
        r = _capture(path, _Fields(src, c, f"captures[{i}]"), max_bytes, src)
        total += r.capture.size
        if total > BUNDLE_MB * MB:
            raise ParseError(src, f"captures together exceed {BUNDLE_MB} MB")
        captures.append(r)
    cpu_count = dia.number("cpu_count", optional=True)
    return Recording(
        url=tgt.text("url") or "",
        metrics_url=_shown(tgt.text("metrics_url", optional=True)),
        duration=ob.span("duration_s") or 0.0,
        cpu_seconds=ob.span("cpu_seconds") or 0.0,
        metrics_source=source,
        history=points,
        trends=trends,
        lookback=ob.span("lookback_s", optional=True) or 0.0,
        captures=captures,
        missing=ob.texts("missing"),
        notes=ob.texts("notes"),
        budget_hits=hits,
        window=dia.span("window_s") or 0.0,
        started_at=_when(dia, "started_at").isoformat().replace("+00:00", "Z"),
        diagnosis_s=dia.span("duration_s") or 0.0,
        limits=limits,
        host_busy=dia.span("host_busy_cpus", optional=True),
        cpu_count=None if cpu_count is None else max(1, int(cpu_count)),
        tool=recorded_by,
        meta=CaptureMeta(
            tgt.text("service_name", optional=True), tgt.text("go_version", optional=True),
            tgt.text("build_commit", optional=True), dict(tags), tgt.text("host", optional=True),
        ),
    )  # fmt: skip
