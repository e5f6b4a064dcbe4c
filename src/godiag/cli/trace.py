"""Take a CPU profile of a running service and show it (text top table, JSON, flame graph page).

TARGET is a service base URL, a Kubernetes pod (`k8s://NS/POD[:PORT]`) or a configured
target name. Like every command, the report goes to stdout, or to `-o FILE` (the format
from --format, else from FILE's extension, else text). The raw profile is always kept as a
file for `go tool pprof`: `--raw FILE`, else beside `-o FILE` as FILE.pb.gz, else
godiag-cpu-HOST-TIME.pb.gz in the current directory; the document's `raw_profile` names it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import click

from godiag.cli.common import Duration, kube_of, kube_options, make_output, output_options
from godiag.cli.storeopts import metadata_options

FORMATS = ["text", "json", "html"]


def raw_path(target: str, output: Path | None, raw: Path | None, now: datetime) -> Path:
    """Where the raw profile goes: --raw, else beside a regular -o file, else in the current
    directory under a name that says what and when (a device or FIFO given as -o, such as
    /dev/stdout, has no "beside")."""
    if raw is not None:
        chosen = raw
    elif output is not None and (not output.exists() or output.is_file()):
        chosen = output.with_suffix(".pb.gz")
    else:
        host = re.sub(r"[^A-Za-z0-9.-]+", "_", target.split("://", 1)[-1]).strip("_")
        chosen = Path(f"godiag-cpu-{host}-{now.strftime('%Y%m%d-%H%M%S')}.pb.gz")
    if output is not None and chosen.resolve() == output.resolve():
        from godiag.errors import UsageError

        # one file cannot hold both the report and the raw profile
        raise UsageError(f"--raw {chosen} is also -o: give them different files")
    return chosen


@click.command()
@click.argument("target")
@click.option(
    "--duration",
    "--seconds",  # pprof's -seconds, and `godiag profile`'s name for the same window
    "duration",
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
@click.option(
    "--raw",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Keep the raw CPU profile (.pb.gz, for go tool pprof) in FILE "
    "(default: beside -o FILE, else godiag-cpu-HOST-TIME.pb.gz here).",
)
@click.option("--config", "config_path", default=None, help="godiag.toml to use.")
@kube_options
@metadata_options(store_default=False)
@output_options(FORMATS)
def trace(
    target: str, duration: float, timeout: float, raw: Path | None, config_path: str | None,
    kubeconfig: str | None, kube_context: str | None, service: str | None,
    go_version: str | None, build_commit: str | None, tags: tuple[str, ...], store: bool,
    as_baseline: bool, fmt: str | None, output: Path | None, quiet: bool, verbose: bool,
    no_color: bool,
) -> int:  # fmt: skip
    """CPU-profile TARGET for --duration and report it on stdout or in -o FILE (`-o
    cpu.html`: the flame graph page); the raw .pb.gz is kept as a file (see --raw).

    With --store the CPU profile is also kept in the artifact store (see `godiag profile`).
    """
    from godiag.analysis.profile_doc import ProfileQuery, build_document
    from godiag.cli.profile import progress_bar
    from godiag.cli.storeopts import overrides, say_stored
    from godiag.pipeline.profiles import is_url, load_profile
    from godiag.report import emit, say_written, write_file

    out = make_output(fmt, output, quiet, verbose, no_color, FORMATS)
    if not is_url(target) and Path(target).exists():
        from godiag.errors import UsageError

        raise UsageError(f"{target} is a file: use `godiag profile {target} --format html`")
    raw_file = raw_path(target, out.output, raw, datetime.now(UTC))
    user = overrides(service, go_version, build_commit, tags)
    prof, cap = load_profile(
        target, kind="cpu", seconds=duration, timeout=timeout, progress=progress_bar(quiet),
        user_meta=user, config_path=config_path, kube=kube_of(kubeconfig, kube_context),
    )  # fmt: skip
    assert cap is not None
    write_file(raw_file, cap.data)
    if not quiet:
        say_written(raw_file, "pprof")
    doc = build_document(
        prof, ProfileQuery(node_count=30, flame=True), source=cap.source, profile_type="cpu"
    )
    doc["raw_profile"] = str(raw_file)
    if store or as_baseline:
        from godiag.pipeline.storing import keep, load_config

        doc["stored"] = keep([cap], load_config(config_path), enabled=True, baseline=as_baseline)
        say_stored(doc["stored"], quiet)
    emit(doc, out.format, out.output, color=out.color, quiet=quiet, verbose=verbose)
    return 0
