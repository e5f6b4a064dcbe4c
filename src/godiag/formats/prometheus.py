"""Prometheus text exposition -> metric families, via prometheus_client's own parser.

Only what godiag reads is kept: family name, type, and samples (name, labels, value).
Anything the parser rejects, or any crash inside it on hostile input, is a ParseError.
"""

from __future__ import annotations

from dataclasses import dataclass

from godiag.errors import ParseError
from godiag.model.capture import CaptureMeta

MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class MetricSample:
    name: str
    labels: tuple[tuple[str, str], ...]
    value: float


@dataclass(frozen=True)
class MetricFamily:
    name: str
    type: str
    samples: tuple[MetricSample, ...]


def parse(data: bytes, source: str) -> dict[str, MetricFamily]:
    if len(data) > MAX_BYTES:
        raise ParseError(source, f"metrics larger than {MAX_BYTES >> 20} MB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(source, "metrics are not UTF-8", offset=exc.start) from None
    from prometheus_client.parser import text_string_to_metric_families

    out: dict[str, MetricFamily] = {}
    try:
        for fam in text_string_to_metric_families(text):
            samples = tuple(
                MetricSample(s.name, tuple(sorted(s.labels.items())), float(s.value))
                for s in fam.samples
            )
            prev = out.get(fam.name)
            if prev is not None:
                samples = prev.samples + samples
            out[fam.name] = MetricFamily(fam.name, fam.type, samples)
    except Exception as exc:  # the parser raises ValueError, IndexError, KeyError, ...
        # the parser's own words, without its exception's class name: a user reads a line
        # of their /metrics that is wrong, not a Python error
        said = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else "unparsable"
        raise ParseError(source, f"not Prometheus text format: {said}") from None
    return out


def label_of(families: dict[str, MetricFamily], family: str, label: str) -> str | None:
    """A label of the first sample of a family (e.g. go_info's version)."""
    fam = families.get(family)
    if fam is None or not fam.samples:
        return None
    return dict(fam.samples[0].labels).get(label)


def self_described(families: dict[str, MetricFamily]) -> CaptureMeta:
    """What a service's /metrics say about its build: Go version (go_info), module path
    and version (go_build_info), and the build's revision from any `*_build_info` family
    carrying one - the Prometheus ecosystem's convention (prometheus_build_info,
    alertmanager_build_info, ...), whose `goversion` also stands in when go_info is absent;
    without a revision, go_build_info's module@version (a build from the module proxy)."""
    tags: dict[str, str] = {}
    path = label_of(families, "go_build_info", "path")
    version = label_of(families, "go_build_info", "version")
    if path:
        tags["module"] = path
    if version and version != "(devel)":
        tags["module_version"] = version
    go_version = label_of(families, "go_info", "version")
    revision = None
    for name in sorted(families):
        if not name.endswith("_build_info"):
            continue
        rev = label_of(families, name, "revision") or ""
        if rev.strip() and rev.lower() not in ("unknown", "none"):
            revision = rev.strip()
            go_version = go_version or label_of(families, name, "goversion")
            break
    if revision is None and path and "module_version" in tags:
        # a module built at a released or pseudo-version (go install m@v from the proxy, no
        # VCS stamp): the version pins the source as a commit does, through go.sum
        revision = f"{path}@{tags['module_version']}"
    return CaptureMeta(go_version=go_version, build_commit=revision, tags=tags)
