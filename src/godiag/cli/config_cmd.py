"""`godiag config check`: validate godiag.toml with clear errors."""

from __future__ import annotations

import os
from pathlib import Path

import click

from godiag import config as cfg
from godiag.cli.common import make_output, output_options
from godiag.report import emit


@click.group()
def config() -> None:
    """Work with the configuration file (godiag.toml)."""


@config.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Configuration file (default: $GODIAG_CONFIG, then the platform's).",
)
@output_options(["text", "json"])
def check(
    config_path: Path | None,
    fmt: str | None,
    output: Path | None,
    quiet: bool,
    verbose: bool,
    no_color: bool,
) -> None:
    """Load and validate the configuration; print what it defines (secrets hidden)."""
    from godiag.collect.http import shown_url
    from godiag.store import local_root

    out = make_output(fmt, output, quiet, verbose, no_color, ["text", "json"])
    conf = cfg.load(config_path)
    doc = {
        "schema": "godiag.config/v1",
        "path": str(conf.path) if conf.path else None,
        "targets": [
            {
                "name": t.name,
                "url": t.url,
                "auth": "bearer"
                if t.auth.bearer
                else ("basic" if t.auth.username is not None else "none"),
                "service_name": t.service_name,
                "go_version": t.go_version,
                "build_commit": t.build_commit,
                "tags": t.tags,
                # without its user:pass@ (config.metrics_endpoint) nor a token's value
                "metrics_url": shown_url(t.metrics_url) if t.metrics_url else None,
            }
            for t in conf.targets
        ],
        "store": {
            "backend": conf.store.backend,
            # where a local store's files go: $GODIAG_HOME, `[store] path` (from the file's
            # folder) or the platform's default, as the commands resolve it
            "path": str(local_root(conf.store)) if conf.store.backend == "local" else None,
            # the file's own `[store] path` when GODIAG_HOME puts the store elsewhere: said,
            # or a user reads the path as ignored
            "overridden_path": (
                str(conf.store.path)
                if conf.store.backend == "local"
                and conf.store.path
                and os.environ.get("GODIAG_HOME")
                else None
            ),
            "max_artifact_mb": conf.store.max_artifact_mb,
        },
        "prometheus": conf.prometheus_url,
        "kubernetes": {
            "enabled": conf.kubernetes.enabled,
            "credentials": "in-cluster"
            if conf.kubernetes.in_cluster
            else (conf.kubernetes.kubeconfig or "kubeconfig (KUBECONFIG or ~/.kube/config)"),
            "context": conf.kubernetes.context,
            "namespaces": list(conf.kubernetes.namespaces),
            "selectors": list(conf.kubernetes.selectors),
            "default_port": conf.kubernetes.default_port,
        },
    }
    emit(doc, out.format, out.output, color=out.color, quiet=out.quiet)
