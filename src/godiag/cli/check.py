"""`godiag check`: a rule verdict comparing a live service now with a baseline."""

from __future__ import annotations

from pathlib import Path

import click

from godiag.cli.common import Duration, kube_of, kube_options, make_output, output_options
from godiag.cli.storeopts import metadata_options

FORMATS = ["text", "json", "html"]
RULE_NAMES = ["memory-leak", "goroutine-leak", "gc-pressure", "lock-contention"]


@click.command(name="check")
@click.argument("target")
@click.option("--rule", required=True, type=click.Choice(RULE_NAMES), help="Rule to check.")
@click.option(
    "--baseline",
    default=None,
    metavar="ID|TIMESTAMP|latest",
    help="Stored capture to compare with (default: two captures --window apart).",
)
@click.option(
    "--window",
    type=Duration(low=0.001, why="two captures need time between them"),
    default="10s",
    show_default=True,
    help="Time between the two captures when there is no baseline (gc-pressure: always).",
)
@click.option("--timeout", type=Duration(), default="30s", show_default=True, help="HTTP timeout.")
@click.option(
    "--metrics", "metrics", default=None, metavar="URL",
    help="gc-pressure: full URL of the service's metrics (Prometheus text or expvar JSON) "
    "when they are not under TARGET; overrides the target's metrics_url.",
)  # fmt: skip
@click.option("--config", "config_path", default=None, help="godiag.toml to use.")
@kube_options
@metadata_options(store_default=False)
@output_options(FORMATS)
def check(
    target: str, rule: str, baseline: str | None, window: float, timeout: float,
    metrics: str | None, config_path: str | None, kubeconfig: str | None, kube_context: str | None,
    service: str | None, go_version: str | None,
    build_commit: str | None, tags: tuple[str, ...], store: bool, as_baseline: bool,
    fmt: str | None, output: Path | None, quiet: bool, verbose: bool, no_color: bool,
) -> int:  # fmt: skip
    """Compare TARGET now with a baseline under RULE: exit 1 when the rule is violated.

    TARGET is a service base URL, a Kubernetes pod (k8s://NAMESPACE/POD[:PORT]) or the
    name of a target in godiag.toml. Rules:

    \b
      memory-leak      heap in use growing at a call site (two absolute heap snapshots, gc=1)
      goroutine-leak   groups of waiting goroutines that keep growing
      gc-pressure      GC cycles per second and GC CPU share (/metrics or /debug/vars, or
                       --metrics URL / the target's metrics_url)
      lock-contention  mutex wait time growing at a call site (needs mutex profiling on)

    With --baseline (an artifact id, an RFC 3339 time, or `latest`: the newest marked
    baseline of the service and the rule's artifact type, else its newest capture), the
    capture now is compared with that stored capture; without it, two captures are taken
    --window apart. Store a baseline with `godiag profile TARGET --type heap --gc --store
    --as-baseline` (memory-leak), `godiag goroutines URL --store --as-baseline`
    (goroutine-leak), or `godiag check ... --store --as-baseline`.

    Exit status: 0 the rule holds, 1 it is violated, 2 bad usage or no baseline found.
    """
    from godiag.cli.storeopts import overrides, say_stored
    from godiag.errors import ExitStatus
    from godiag.pipeline.check import CheckRequest, run_check
    from godiag.report import emit

    out = make_output(fmt, output, quiet, verbose, no_color, FORMATS)
    req = CheckRequest(
        rule=rule, target=target, baseline=baseline, window_s=window,
        config_path=config_path, user=overrides(service, go_version, build_commit, tags),
        store=store, as_baseline=as_baseline, timeout=timeout,
        kube=kube_of(kubeconfig, kube_context), metrics=metrics,
    )  # fmt: skip
    doc = run_check(req)
    if "stored" in doc:
        say_stored(doc["stored"], quiet)
    emit(doc, out.format, out.output, color=out.color, quiet=out.quiet, verbose=out.verbose)
    return int(ExitStatus.FOUND if doc["violated"] else ExitStatus.OK)
