"""Observe a live Go service and rank the likely root causes, down to file:line.

TARGET is a base URL (http://host:port serving net/http/pprof, /metrics or /debug/vars),
the PID of a local process serving net/http/pprof, a Kubernetes pod (`k8s://NS/POD[:PORT]`,
`k8s://NS/deployment/NAME`; docs/kubernetes.md), the name of a target in godiag.toml,
or a directory written by --save-captures (the analysis is then re-run offline on the
saved captures). During --window godiag samples
metrics several times, takes goroutine dumps at both ends, two heap snapshots after a
GC, mutex/block profiles when their rates are on, the goroutineleak profile when
offered, and a short CPU profile when CPU use is high or not exported (or as --cpu
says). It prints the top 3 causes with calibrated probabilities, locations and evidence,
and stores every artifact (--no-store to skip; missing metadata is reported with where to set it).

Exit status: 1 when the verdict names a fault (not "not sure") with probability >=
--min-probability, 0 otherwise (healthy, or not sure: the JSON's `confident` is false), 2
when nothing at all could be read from the target. With --fail-on suspect, a "not sure"
verdict with a fault ranked first exits 1 too.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from godiag.cli.common import (
    Duration,
    OutputOptions,
    kube_of,
    kube_options,
    make_output,
    output_options,
)
from godiag.cli.storeopts import metadata_options, overrides
from godiag.limits import CAPTURE_MB, pin_mmap_threshold

if TYPE_CHECKING:
    from godiag.collect.kube.pods import PodEndpoint, Resolver
    from godiag.config import Config, Target
    from godiag.pipeline.diagnose import DiagnoseOptions

FORMATS = ["text", "json", "html"]


@click.command()
@click.argument("target")
@click.option(
    "--window",
    type=Duration(low=1, why="two samples need time between them"),
    default="5s",
    show_default=True,
    help="How long to observe.",
)
@click.option(
    "--cpu",
    type=Duration(),
    default=None,
    help="CPU profile: 0 never, Ns always for N seconds "
    "(default: when CPU use is high or not exported).",
)
@click.option(
    "--source",
    "source",
    type=click.Path(file_okay=False),
    default=None,
    help="Module directory for static corroboration (when the analyzer is present).",
)
@click.option(
    "--min-probability",
    type=click.FloatRange(0, 1),
    default=0.4,
    show_default=True,
    help="Exit 1 when the verdict names a fault (not 'not sure') with at least this "
    "probability (default: the 40% confidence floor).",
)
@click.option(
    "--fail-on",
    type=click.Choice(["fault", "suspect"]),
    default="fault",
    show_default=True,
    help="fault: exit 1 when the verdict names a fault (as --min-probability says); "
    "suspect: also when it is not sure but a fault ranks first.",
)
@click.option(
    "--timeout", type=Duration(), default="10s", show_default=True,
    help="Time budget of one capture, connect to last byte (windowed profiles add theirs).",
)  # fmt: skip
@click.option(
    "--max-capture-mb", type=click.IntRange(1, 4096), default=CAPTURE_MB, show_default=True,
    help="Byte budget of one capture, after decompression.",
)  # fmt: skip
@click.option(
    "--deadline", type=Duration(), default=None,
    help="Wall time of the whole diagnosis (default: window + CPU profile + 60s).",
)  # fmt: skip
@click.option(
    "--save-captures", "save_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Write every raw capture and manifest.json to this new or empty directory "
    "(`godiag diagnose DIR` replays it offline).",
)  # fmt: skip
@click.option(
    "--siblings", type=click.IntRange(0, 10), default=0, metavar="N",
    help="k8s:// targets: also read up to N other pods of the same controller in the window "
    "(goroutines, heap in use), as a reference line.",
)  # fmt: skip
@click.option(
    "--all-pods", is_flag=True,
    help="k8s://NS/deployment/NAME: diagnose every ready pod at once (one document per pod).",
)  # fmt: skip
@click.option(
    "--lookback", type=Duration(), default="30m", show_default=True,
    help="How far back to read the configured Prometheus's series of the target and the "
    "store's reference captures of the service (its newest baseline, else its oldest "
    "capture in this span); 0: no stored reference.",
)  # fmt: skip
@click.option(
    "--metrics", "metrics", default=None, metavar="URL",
    help="Full URL of the service's metrics (Prometheus text or expvar JSON) when they are "
    "not under TARGET (another port); overrides the target's metrics_url.",
)  # fmt: skip
@click.option("--config", "config_path", default=None, help="godiag.toml to use.")
@kube_options
@metadata_options(store_default=True)
@output_options(FORMATS)
def diagnose(
    target: str, window: float, cpu: float | None, source: str | None, min_probability: float,
    fail_on: str, timeout: float, max_capture_mb: int, deadline: float | None,
    save_dir: Path | None, siblings: int, all_pods: bool, lookback: float, metrics: str | None,
    config_path: str | None, kubeconfig: str | None, kube_context: str | None,
    service: str | None, go_version: str | None,
    build_commit: str | None, tags: tuple[str, ...], store: bool, as_baseline: bool,
    fmt: str | None, output: Path | None, quiet: bool, verbose: bool, no_color: bool,
) -> int:  # fmt: skip
    """Observe a live Go service and rank the likely root causes, down to file:line.

    TARGET is a base URL (serving net/http/pprof, /metrics or /debug/vars), a local PID
    serving net/http/pprof, a Kubernetes pod (k8s://NAMESPACE/POD[:PORT] or
    k8s://NAMESPACE/deployment/NAME, through the API server's pod proxy), a target of
    godiag.toml, or a directory saved by --save-captures
    (replayed offline: no network, nothing stored unless --store). During --window godiag
    samples metrics, takes goroutine dumps at both ends, two heap snapshots after a GC,
    mutex/block profiles when their rates are on, the goroutineleak profile when offered,
    and a CPU profile when CPU use is high or not exported (or as --cpu says). It reports
    the top 3 causes with calibrated probabilities, locations and evidence, and stores every
    artifact (missing metadata: not stored, and the report says where to set it). The
    verdict is "not sure" (saying what would decide) when the top cause is under 40%, its
    own evidence is absent, a runner-up with evidence is close behind, or healthy has
    under 55%. Exit 1 when the verdict names a fault (not "not sure") with probability at
    least --min-probability (with --fail-on suspect, also when it is not sure but a fault
    ranks first); 0 for healthy or not sure; 2 when nothing at all answered.
    """
    from godiag import config as cfg
    from godiag.collect import bundle
    from godiag.errors import CollectError, ExitStatus, UsageError
    from godiag.pipeline.diagnose import DiagnoseOptions, is_fault, replay, unobserved
    from godiag.pipeline.diagnose import diagnose as run
    from godiag.report import emit

    out = make_output(fmt, output, quiet, verbose, no_color, FORMATS)
    suspect = fail_on == "suspect"
    conf = cfg.load(config_path)
    kube = target.startswith("k8s://")
    if not kube and (siblings or all_pods):
        raise UsageError(f"{'--siblings' if siblings else '--all-pods'}: only for k8s:// targets")
    if kube and metrics is not None:
        raise UsageError("--metrics: not for k8s:// targets (a pod is read through its proxy)")
    metrics_at = None if metrics is None else cfg.metrics_endpoint(metrics, "--metrics", UsageError)
    if deadline is not None and deadline <= window:
        # the window's end captures would be refused: a diagnosis of the start alone, whose
        # gaps would read as what the service does not serve
        raise UsageError(f"--deadline {deadline:g}s: not longer than the window ({window:g}s); "
                         f"give a deadline past the window, or a shorter --window")  # fmt: skip
    if not target.startswith(("http://", "https://")) and bundle.is_bundle(Path(target)):
        live_only = ("window", "cpu", "timeout", "deadline", "save_dir", "lookback", "metrics")
        ctx = click.get_current_context()
        given = [n for n in live_only
                 if ctx.get_parameter_source(n) != click.core.ParameterSource.DEFAULT]  # fmt: skip
        if given:
            flag = "--" + given[0].replace("save_dir", "save-captures").replace("_", "-")
            raise UsageError(f"{flag}: {target} is a saved bundle; a replay uses what was recorded")
        explicit_store = ctx.get_parameter_source("store") != click.core.ParameterSource.DEFAULT
        opts = DiagnoseOptions(
            source=source, store=store and explicit_store, baseline=as_baseline,
            min_probability=min_probability, config=conf, max_capture_mb=max_capture_mb,
            overrides=overrides(service, go_version, build_commit, tags),
        )  # fmt: skip
        doc = replay(Path(target), opts)
        if (why := unobserved(doc)) is not None:
            raise CollectError(why)
        emit(doc, out.format, out.output, color=out.color, quiet=quiet, verbose=verbose)
        _say_unstored(doc, out.format, quiet)
        return int(ExitStatus.FOUND) if is_fault(doc, suspect) else 0
    pods: list[PodEndpoint] = []
    resolver: Resolver | None = None
    if kube:
        from godiag.collect.kube.pods import resolver as kube_resolver
        from godiag.pipeline.pods import pod_target

        resolver = kube_resolver(kube_of(kubeconfig, kube_context), timeout)
        pods = resolver.resolve(target, all_pods=all_pods)
        if len(pods) > 1 and save_dir is not None:
            raise UsageError("--save-captures: one pod at a time (not with --all-pods)")
        tgt = pod_target(pods[0])
    elif target.startswith(("http://", "https://")):
        tgt = conf.target_at(target)
    elif target.isdigit() and not Path(target).exists() and conf.target(target) is None:
        tgt = _pid_target(int(target), conf, timeout)
    else:
        found = conf.target(target)
        if found is None:
            known = ", ".join(t.name for t in conf.targets) or "none configured"
            if Path(target).is_dir():
                raise UsageError(f"{target}: a directory without {bundle.MANIFEST} (not saved "
                                 f"by --save-captures)")  # fmt: skip
            if "/" in target or target.startswith("."):
                raise UsageError(f"{target}: no such directory (a bundle saved by "
                                 f"--save-captures), and not a URL, a PID or a configured "
                                 f"target ({known})")  # fmt: skip
            raise UsageError(f"{target!r} is neither a URL nor a configured target ({known})")
        tgt = found
    if metrics_at is not None:
        tgt = replace(tgt, metrics_url=metrics_at[0], metrics_auth=metrics_at[1])
    opts = DiagnoseOptions(
        window=window, cpu=cpu, source=source,
        store=store, baseline=as_baseline, min_probability=min_probability,
        overrides=overrides(service, go_version, build_commit, tags), config=conf,
        timeout=timeout, max_capture_mb=max_capture_mb, deadline=deadline,
        save_captures=save_dir, lookback=lookback,
    )  # fmt: skip
    if save_dir is not None:
        bundle.check_target_dir(save_dir)  # before the window, not after it

    def progress(msg: str) -> None:
        if not quiet:
            sys.stderr.write(msg + "\n")

    pin_mmap_threshold()  # what over-budget answers held goes back to the system
    if len(pods) > 1:
        return _all_pods(pods, opts, resolver, siblings, out, quiet, suspect)
    if pods:
        from godiag.pipeline.pods import diagnose_pod

        doc = diagnose_pod(pods[0], opts, resolver=resolver, siblings=siblings, progress=progress)
    else:
        doc = run(tgt, opts, progress=progress)
    if (why := unobserved(doc)) is not None:
        raise CollectError(why)
    emit(doc, out.format, out.output, color=out.color, quiet=quiet, verbose=verbose)
    _say_unstored(doc, out.format, quiet)
    return int(ExitStatus.FOUND) if is_fault(doc, suspect) else 0


def _say_unstored(doc: dict[str, Any], fmt: str, quiet: bool, who: str = "") -> None:
    """A diagnosis whose artifacts could not be stored for missing metadata says so on
    stderr when its report (JSON, HTML) does not print to the terminal: the text report
    already has the line, a document's `store.message` is easy to miss."""
    store = doc.get("store") or {}
    if fmt != "text" and store.get("missing") and not quiet:
        sys.stderr.write(f"godiag: {who}{store['message']}\n")


def _pid_target(pid: int, conf: Config, timeout: float) -> Target:
    """A local process: the port it serves net/http/pprof on, and what its executable says
    of its build (the running build, even when the file was replaced on disk)."""
    from godiag.collect.goroutines import pprof_base_of_pid
    from godiag.collect.http import HttpClient
    from godiag.pipeline.storing import bind_pid

    url = pprof_base_of_pid(pid, client=HttpClient(), timeout=timeout)
    return bind_pid(conf.target_at(url), pid)


def _all_pods(
    pods: list[PodEndpoint], opts: DiagnoseOptions, resolver: Resolver | None, siblings: int,
    out: OutputOptions, quiet: bool, suspect: bool,
) -> int:  # fmt: skip
    """Every ready pod of a workload in the same window: one document per pod (to stdout
    one after the other, or to -o FILE as FILE-POD.EXT), exit 1 when any shows a fault."""
    from concurrent.futures import ThreadPoolExecutor

    from godiag.errors import CollectError, ExitStatus
    from godiag.pipeline.diagnose import is_fault, unobserved
    from godiag.pipeline.pods import diagnose_pod
    from godiag.report import emit

    def one(ep: PodEndpoint) -> dict[str, Any]:
        def progress(msg: str) -> None:
            if not quiet:
                sys.stderr.write(f"{ep.pod}: {msg}\n")

        return diagnose_pod(ep, opts, resolver=resolver, siblings=siblings, progress=progress)

    with ThreadPoolExecutor(len(pods)) as pool:
        docs = list(pool.map(one, pods))
    answered = [(ep, d) for ep, d in zip(pods, docs, strict=True) if unobserved(d) is None]
    if not answered:
        raise CollectError(unobserved(docs[0]) or "nothing answered")
    for ep, doc in zip(pods, docs, strict=True):
        if (why := unobserved(doc)) is not None:
            sys.stderr.write(f"{ep.pod}: {why}\n")
            continue
        dest = out.output
        if dest is not None:
            dest = dest.with_name(f"{dest.stem}-{ep.pod}{dest.suffix}")
        emit(doc, out.format, dest, color=out.color, quiet=quiet, verbose=out.verbose)
        _say_unstored(doc, out.format, quiet, f"{ep.pod}: ")
    return int(ExitStatus.FOUND) if any(is_fault(d, suspect) for _, d in answered) else 0
