"""Read a pprof profile (file, URL or configured target) and show where time or memory goes.

SOURCE is a profile file (pprof protobuf, gzipped or raw, or Go's legacy text), a
service base URL (the profile is collected from /debug/pprof), a full /debug/pprof
URL, a Kubernetes pod (`k8s://NS/POD[:PORT]`, through the API server's pod proxy; see
docs/kubernetes.md), the name of a target in godiag.toml, or the id (or a unique prefix) of an
artifact in the store. With --store, a profile collected from a service is kept in
the artifact store with its metadata (from the service's /metrics, the configured
target, then --service/--go-version/--build-commit); one lacking mandatory metadata
is still shown, and a message says which fields to set. The top table's flat and cum values are
those `go tool pprof -top` prints for the same options. Diff: --base subtracts a base
profile like pprof -base; --diff-base compares against it like pprof -diff_base.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from godiag.cli.common import Duration, kube_of, kube_options, make_output, output_options
from godiag.cli.storeopts import metadata_options

FORMATS = ["text", "json", "html", "speedscope", "folded", "pprof", "svg", "dot"]
TYPES = ["cpu", "heap", "allocs", "goroutine", "goroutineleak", "block", "mutex", "threadcreate"]


def progress_bar(quiet: bool):  # type: ignore[no-untyped-def]
    """A countdown on stderr while a CPU window runs (nothing when quiet or not a tty).

    `\r`-redrawn lines written to a pipe or a log file pile up as one long line of bars.
    """
    if quiet or not sys.stderr.isatty():
        return None
    state = {"last": -1}

    def show(elapsed: float, window: float) -> None:
        left = max(0, round(window - elapsed))
        if left == state["last"]:
            return
        state["last"] = left
        width = 30
        done = int(width * (elapsed / window)) if window else width
        sys.stderr.write(f"\rprofiling [{'#' * done}{'.' * (width - done)}] {left:3d}s left ")
        if elapsed >= window:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


@click.command()
@click.argument("source")
@click.option(
    "--type",
    "kind",
    type=click.Choice(TYPES),
    default=None,
    help="Profile to collect when SOURCE is a service (default cpu).",
)
@click.option("--sample-index", default=None, help="Sample type to show (name or number).")
@click.option(
    "--top",
    "top_n",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Rows of the top table (0: all).",
)
@click.option(
    "--focus", default=None,
    help="Only samples with a frame matching this regexp (RE2, Go's syntax, as pprof's).",
)  # fmt: skip
@click.option(
    "--ignore", default=None,
    help="Drop samples with a frame matching this regexp (RE2, Go's syntax, as pprof's).",
)  # fmt: skip
@click.option("--base", "base", default=None, help="Subtract this base profile (pprof -base).")
@click.option(
    "--diff-base",
    "diff_base",
    default=None,
    help="Compare against this base profile (pprof -diff_base).",
)
@click.option(
    "--seconds",
    type=Duration(low=0.1),
    default=None,
    help="CPU profile window when collecting (default 30s).",
)
@click.option("--gc", is_flag=True, help="Heap: run a GC before taking the profile.")
@click.option("--tree", is_flag=True, help="Also show the call tree (text, json).")
@click.option(
    "--timeout",
    type=Duration(),
    default="30s",
    show_default=True,
    help="Time to wait for an answer beyond the profile window.",
)
@click.option("--config", "config_path", default=None, help="godiag.toml to use.")
@kube_options
@metadata_options(store_default=False)
@output_options(FORMATS)
def profile(
    source: str, kind: str | None, sample_index: str | None, top_n: int, focus: str | None,
    ignore: str | None, base: str | None, diff_base: str | None, seconds: float | None,
    gc: bool, tree: bool, timeout: float, config_path: str | None, kubeconfig: str | None,
    kube_context: str | None, service: str | None,
    go_version: str | None, build_commit: str | None, tags: tuple[str, ...], store: bool,
    as_baseline: bool, fmt: str | None, output: Path | None, quiet: bool, verbose: bool,
    no_color: bool,
) -> int:  # fmt: skip
    """Show a profile's top functions, call tree, flame graph or call graph."""
    from godiag.analysis.profile_doc import ProfileQuery, build_document
    from godiag.cli.storeopts import overrides, say_stored
    from godiag.collect.http import shown_url
    from godiag.errors import UsageError
    from godiag.pipeline.profiles import is_url, load_profile
    from godiag.report import emit, say_written, write_file

    out = make_output(fmt, output, quiet, verbose, no_color, FORMATS)
    if base and diff_base:
        raise UsageError("use --base or --diff-base, not both")
    # The pprof output is the profile as read: a filter or a base it would silently
    # drop must not pass for applied (the file then opened unfocused in go tool pprof).
    unapplied = [n for n, v in (("--focus", focus), ("--ignore", ignore), ("--base", base),
                                ("--diff-base", diff_base)) if v]  # fmt: skip
    if out.format == "pprof" and unapplied:
        raise UsageError(
            f"--format pprof writes the profile as read, without {', '.join(unapplied)}: "
            "leave them out, or apply them with `go tool pprof -proto` (same flags)"
        )
    user = overrides(service, go_version, build_commit, tags)
    prof, cap = load_profile(
        source, kind=kind, seconds=seconds, gc=gc, timeout=timeout, progress=progress_bar(quiet),
        user_meta=user, config_path=config_path, kube=kube_of(kubeconfig, kube_context),
    )  # fmt: skip
    stored = None
    if (store or as_baseline) and not (cap is not None and cap.source.startswith("store:")):
        from godiag.pipeline.storing import keep, load_config

        if cap is None:
            raise UsageError(f"--store keeps captures of a service; {source} is a file "
                             "(use `godiag store put`)")  # fmt: skip
        stored = keep([cap], load_config(config_path), enabled=True, baseline=as_baseline)
        say_stored(stored, quiet)
    if out.format == "pprof":
        from godiag.formats.pprof_write import encode

        data = cap.data if cap is not None and cap.data[:2] == b"\x1f\x8b" else encode(prof)
        if out.output is None:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        else:
            write_file(out.output, data)
            if not quiet:
                say_written(out.output, "pprof")
        return 0
    base_src = base or diff_base
    base_prof = (
        load_profile(base_src, kind=kind, seconds=seconds, timeout=timeout,
                     config_path=config_path, kube=kube_of(kubeconfig, kube_context))[0]
        if base_src else None
    )  # fmt: skip
    query = ProfileQuery(
        sample_index=sample_index, focus=focus, ignore=ignore, node_count=top_n or None,
        diff_base=bool(diff_base), flame=out.format in ("html", "folded", "speedscope"),
        graph=out.format in ("svg", "dot"), tree=tree,
    )  # fmt: skip
    doc = build_document(
        prof, query, source=shown_url(source) if is_url(source) else source, base=base_prof,
        base_source=shown_url(base_src) if base_src and is_url(base_src) else base_src,
        profile_type=(cap.profile_type if cap is not None else None),
    )  # fmt: skip
    if stored is not None:
        doc["stored"] = stored
    emit(doc, out.format, out.output, color=out.color, quiet=quiet, verbose=verbose)
    return 0
