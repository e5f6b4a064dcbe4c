"""`godiag goroutines`: thin layer over pipeline/goroutines.py (see its --help)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from godiag.cli.common import Duration, kube_of, kube_options, make_output, output_options
from godiag.cli.storeopts import metadata_options

if TYPE_CHECKING:
    from godiag.model.capture import Capture, CaptureMeta

FORMATS = ["text", "json", "html"]


@click.command(name="goroutines")
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE...")
@click.option("--diff", "other", metavar="OTHER", help="Baseline dump to compare with.")
@click.option("--timeout", type=Duration(), default="30s", show_default=True, help="HTTP timeout.")
@click.option("--lenient", is_flag=True, help="Skip malformed goroutines instead of failing.")
@click.option("--config", "config_path", default=None, help="godiag.toml to use.")
@kube_options
@metadata_options(store_default=False)
@output_options(FORMATS)
def goroutines(
    sources: tuple[str, ...],
    other: str | None,
    timeout: float,
    lenient: bool,
    config_path: str | None,
    kubeconfig: str | None,
    kube_context: str | None,
    service: str | None,
    go_version: str | None,
    build_commit: str | None,
    tags: tuple[str, ...],
    store: bool,
    as_baseline: bool,
    fmt: str | None,
    output: Path | None,
    quiet: bool,
    verbose: bool,
    no_color: bool,
) -> int:
    """Group, classify and diff goroutine dumps.

    SOURCE is a file, `-` (stdin), a URL (a base URL or its /debug/pprof/goroutine;
    debug=2 is asked, debug=1 when refused), the PID of a local process serving
    net/http/pprof, or a Kubernetes pod (k8s://NAMESPACE/POD[:PORT], through the API
    server's pod proxy; see --kubeconfig). Several SOURCEs are analysed as one dump.

    With --diff OTHER, OTHER is the baseline taken earlier: each group shows its
    growth, biggest first.

    With --store, dumps taken from a URL or PID are kept in the artifact store
    (`godiag check --rule goroutine-leak` compares against them); metadata comes from
    the service's /metrics, the process's executable, the configured target, then
    --service/--go-version/--build-commit. A dump lacking mandatory metadata is still
    analysed; the message says which fields to set. Exit status: 0 when done, 2 for
    unreadable input.
    """
    from godiag.cli.storeopts import overrides, say_stored
    from godiag.pipeline.goroutines import analyze_sources
    from godiag.report import emit

    out = make_output(fmt, output, quiet, verbose, no_color, FORMATS)
    user = overrides(service, go_version, build_commit, tags)  # bad tags fail before any work
    captures: list[Capture] = []
    doc = analyze_sources(
        list(sources),
        other,
        timeout=timeout,
        strict=not lenient,
        captures=captures,
        kube=kube_of(kubeconfig, kube_context),
        config_path=config_path,
    )
    if store or as_baseline:
        doc["stored"] = _keep(captures, user, config_path, as_baseline)
        say_stored(doc["stored"], quiet)
    emit(doc, out.format, out.output, color=out.color, quiet=out.quiet, verbose=out.verbose)
    return 0


def _keep(
    captures: list[Capture], user: CaptureMeta, config_path: str | None, baseline: bool
) -> list[dict[str, Any]]:  # fmt: skip
    from dataclasses import replace

    from godiag.collect.http import HttpClient
    from godiag.collect.kube.pods import proxy_base
    from godiag.pipeline.storing import config_meta, keep, load_config, service_metadata

    conf = load_config(config_path)
    client = HttpClient()
    ready = []
    for cap in captures:
        if proxy_base(cap.source) is not None:  # a pod: its metadata came with the capture
            cap = replace(cap, meta=cap.meta.merged(user))
        elif "://" in cap.source:
            pid = cap.meta.tags.get("pid")
            meta = service_metadata(
                cap.source, client=client, configured=config_meta(conf, cap.source),
                user=user, pid=int(pid) if pid else None,
            )  # fmt: skip
            cap = replace(cap, meta=cap.meta.merged(meta))
        ready.append(cap)
    return keep(ready, conf, enabled=True, baseline=baseline)
