"""Prometheus text exposition -> metric families, via prometheus_client's own parser.

Only what godiag reads is kept: family name, type, and samples (name, labels, value).
Anything the parser rejects, or any crash inside it on hostile input, is a ParseError.
"""

from __future__ import annotations

from dataclasses import dataclass

from godiag.errors import ParseError

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
        raise ParseError(source, f"not Prometheus text format: {type(exc).__name__}: {exc}") from None
    return out


def label_of(families: dict[str, MetricFamily], family: str, label: str) -> str | None:
    """A label of the first sample of a family (e.g. go_info's version)."""
    fam = families.get(family)
    if fam is None or not fam.samples:
        return None
    return dict(fam.samples[0].labels).get(label)
