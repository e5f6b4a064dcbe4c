"""Take a CPU profile of a running service and draw it as a flame graph page.

TARGET is a service base URL, a Kubernetes pod (`k8s://NS/POD[:PORT]`) or a configured
target name. The raw profile is kept
beside the page as FILE.pb.gz (open it with `go tool pprof`). The default page name
is godiag-cpu-HOST-TIME.html in the current directory.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import click

from godiag.cli.common import Duration, kube_of, kube_options, make_output, output_options
from godiag.cli.storeopts import metadata_options


@click.command()
@click.argument("target")
@click.option(
    "--duration",
    type=Duration(low=1, why="CPU profiles sample every 10ms"),
    default="30s",
    show_default=True,
    help="CPU profile window.",
)
@click.option(
    "--timeout",
    type=Duration(),
    default="30s",
    show_default=True,
    help="Time to wait for an answer beyond the window.",
)
@click.option("--config", "config_path", default=None, help="godiag.toml to use.")
@kube_options
@metadata_options(store_default=False)
@output_options(["html", "json"])
def trace(
    target: str, duration: float, timeout: float, config_path: str | None,
    kubeconfig: str | None, kube_context: str | None, service: str | None,
    go_version: str | None, build_commit: str | None, tags: tuple[str, ...], store: bool,
    as_baseline: bool, fmt: str | None, output: Path | None, quiet: bool, verbose: bool,
    no_color: bool,
) -> int:  # fmt: skip
    """CPU-profile TARGET for --duration and write a flame graph (plus the raw .pb.gz).

    With --store the CPU profile is also kept in the artifact store (see `godiag profile`).
    """
    from godiag.analysis.profile_doc import ProfileQuery, build_document
    from godiag.cli.profile import progress_bar
    from godiag.cli.storeopts import overrides, say_stored
    from godiag.pipeline.profiles import is_url, load_profile
    from godiag.report import emit, write_file

    seconds = duration
    if output is None:
        host = re.sub(r"[^A-Za-z0-9.-]+", "_", target.split("://", 1)[-1]).strip("_")
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        output = Path(f"godiag-cpu-{host}-{stamp}.{fmt or 'html'}")
    out = make_output(fmt, output, quiet, verbose, no_color, ["html", "json"])
    if not is_url(target) and Path(target).exists():
        from godiag.errors import UsageError

        raise UsageError(f"{target} is a file: use `godiag profile {target} --format html`")
    user = overrides(service, go_version, build_commit, tags)
    prof, cap = load_profile(
        target, kind="cpu", seconds=seconds, timeout=timeout, progress=progress_bar(quiet),
        user_meta=user, config_path=config_path, kube=kube_of(kubeconfig, kube_context),
    )  # fmt: skip
    assert cap is not None and out.output is not None
    raw = out.output.with_suffix(".pb.gz")
    write_file(raw, cap.data)
    doc = build_document(
        prof, ProfileQuery(node_count=30, flame=True), source=cap.source, profile_type="cpu"
    )
    doc["raw_profile"] = str(raw)
    if store or as_baseline:
        from godiag.pipeline.storing import keep, load_config

        doc["stored"] = keep([cap], load_config(config_path), enabled=True, baseline=as_baseline)
        say_stored(doc["stored"], quiet)
    emit(doc, out.format, out.output, color=out.color, quiet=quiet, verbose=verbose)
    return 0
