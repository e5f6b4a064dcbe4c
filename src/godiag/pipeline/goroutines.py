"""collect -> formats -> analysis for goroutine dumps: what `godiag goroutines` runs."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from godiag.analysis.goroutines import analyze, diff
from godiag.collect.goroutines import fetch
from godiag.collect.http import HttpClient
from godiag.errors import ParseError
from godiag.formats.goroutines import parse
from godiag.model.capture import Capture
from godiag.model.goroutine import Dump

if TYPE_CHECKING:
    from godiag.collect.kube.pods import KubeOptions


def load(
    source: str,
    *,
    client: HttpClient | None,
    timeout: float,
    strict: bool,
    captures: list[Capture] | None = None,
    kube: KubeOptions | None = None,
    config_path: str | None = None,
) -> tuple[Dump, str]:
    """The parsed dump and where it really came from (the URL asked, also for a PID).

    The raw capture is appended to `captures` when given (for `--store`). A Kubernetes
    pod (`k8s://`) is read through the API server's proxy, with the pod as metadata.
    """
    if source.startswith("k8s://"):
        from godiag.collect.goroutines import fetch_url
        from godiag.pipeline.profiles import resolve_service

        svc = resolve_service(source, kube=kube)
        cap = fetch_url(svc.url, client=svc.client, timeout=timeout)
        cap = replace(cap, meta=cap.meta.merged(svc.meta))
    else:
        if client is None and source.startswith(("http://", "https://")):
            from godiag.pipeline.profiles import resolve_service

            # the auth and TLS settings of the target configured at this very URL
            client = resolve_service(source, config_path).client
        cap = fetch(source, client=client or HttpClient(), timeout=timeout)
    if captures is not None:
        captures.append(cap)
    if not cap.data.strip():
        # every Go program has a goroutine: nothing at all is no dump (a file cut before
        # it was written, an endpoint that answered empty), not a service with none
        raise ParseError(cap.source, "empty input, not a goroutine dump")
    return parse(cap.data, cap.source, strict=strict), cap.source


def combine(dumps: list[Dump]) -> Dump:
    """Several dumps analysed as one (replicas of a service, or several log files)."""
    if len(dumps) == 1:
        return dumps[0]
    formats = {d.format for d in dumps}
    return Dump(
        format=dumps[0].format if len(formats) == 1 else "mixed",
        goroutines=tuple(g for d in dumps for g in d.goroutines),
        header=tuple(h for d in dumps for h in d.header),
        warnings=tuple(w for d in dumps for w in d.warnings),
        errors=tuple(e for d in dumps for e in d.errors),
        total=sum(d.total for d in dumps),
    )


def analyze_sources(
    sources: list[str],
    other: str | None,
    *,
    timeout: float = 30.0,
    strict: bool = True,
    client: HttpClient | None = None,
    captures: list[Capture] | None = None,
    kube: KubeOptions | None = None,
    config_path: str | None = None,
) -> dict[str, Any]:
    # no client given: each URL's own (its configured target's auth and TLS settings)
    loaded = [
        load(s, client=client, timeout=timeout, strict=strict, captures=captures, kube=kube,
             config_path=config_path)
        for s in sources
    ]  # fmt: skip
    dump = combine([d for d, _ in loaded])
    label = ", ".join(where for _, where in loaded)
    if other is None:
        return analyze(dump, label)
    before, before_where = load(
        other, client=client, timeout=timeout, strict=strict, kube=kube, config_path=config_path
    )
    doc = diff(before, dump, label)
    doc["diff"]["before"]["source"] = before_where
    return doc
