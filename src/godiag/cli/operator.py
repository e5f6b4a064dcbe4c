"""`godiag operator`: diagnose the pods GoDiagnosis resources name (docs/kubernetes.md)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option(
    "--kubeconfig",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="kubeconfig file (default: [kubernetes] of --config when enabled, else KUBECONFIG, "
    "~/.kube/config, else the pod's service account).",
)
@click.option("--context", default=None, help="kubeconfig context (default: its current one).")
@click.option(
    "--namespace",
    "namespaces",
    multiple=True,
    help="Watch GoDiagnosis objects of this namespace (repeatable; default: every namespace).",
)
@click.option("--config", "config_path", default=None, help="godiag.toml ([store], [prometheus]).")
@click.option(
    "--store/--no-store",
    default=None,
    help="Store every capture (default: when --config names a file).",
)
@click.option(
    "--workers", type=click.IntRange(1, 16), default=2, show_default=True,
    help="Diagnoses at once.",
)  # fmt: skip
def operator(
    kubeconfig: Path | None,
    context: str | None,
    namespaces: tuple[str, ...],
    config_path: str | None,
    store: bool | None,
    workers: int,
) -> int:
    """Diagnose the pods GoDiagnosis resources (godiag.dev/v1alpha1) name.

    A new GoDiagnosis (or one found when the operator starts, or whose spec changed) is
    set Running, its pod is diagnosed as `godiag diagnose k8s://NS/POD:PORT` would, and
    its status is set Done with the verdict, probability, location and top causes, or
    Failed with the reason. The CRD is deploy/crds/godiagnoses.godiag.dev.yaml. Runs
    until SIGTERM or Ctrl-C.
    """
    import asyncio
    import logging

    from godiag import config as cfg
    from godiag.errors import UsageError
    from godiag.pipeline.kubetargets import KubeAccess, pod_run
    from godiag.pipeline.operator import OperatorOptions, login_handler, registry

    try:
        import kopf
    except ImportError:
        raise UsageError("godiag operator needs kopf: pip install 'godiag[k8s]'") from None
    conf = cfg.load(config_path)
    options = OperatorOptions(
        config=conf, store=conf.path is not None if store is None else store, workers=workers
    )
    if kubeconfig is None and context is None and conf.kubernetes.enabled:
        access = KubeAccess.of(conf.kubernetes)  # [kubernetes] of --config, as serve reads it
    else:
        access = KubeAccess(kubeconfig=str(kubeconfig) if kubeconfig else None, context=context)

    access.credentials()  # a wrong kubeconfig or context is one line now, not a retry loop
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    reg = registry(pod_run(options, access), options, login_handler(access))
    asyncio.run(
        kopf.operator(
            registry=reg,
            standalone=True,
            clusterwide=not namespaces,
            namespaces=list(namespaces),
        )
    )
    return 0
