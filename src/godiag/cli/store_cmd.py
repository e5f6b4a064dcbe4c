"""`godiag store ...`: list, show, fetch, remove, mark, expire and verify stored artifacts."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click

from godiag.cli.common import make_output, output_options
from godiag.errors import ExitStatus, StoreError, UsageError

F = TypeVar("F", bound=Callable[..., Any])
FORMATS = ["text", "json", "html"]


def config_option(fn: F) -> F:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path),
        default=None,
        help="Configuration file (default: $GODIAG_CONFIG, then the platform's).",
    )(fn)


def filter_options(fn: F) -> F:
    """The shared filter spelling of `store ls` and `export` (CONTRACTS "Common options")."""
    opts = [
        click.option("--service", default=None, help="Only this service_name."),
        click.option("--type", "ptype", default=None, help="Only this profile type."),
        click.option("--tag", "tags", multiple=True, help="KEY=VALUE; repeatable, all must match."),
        click.option("--since", default=None, help="Captured at/after: RFC 3339, or 24h, 7d."),
        click.option("--until", default=None, help="Captured at/before: RFC 3339, or 1h."),
        click.option("--baselines-only", is_flag=True, help="Only artifacts marked baseline."),
        click.option("--limit", type=click.IntRange(min=1), default=None, help="At most N."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def make_filter(
    service: str | None,
    ptype: str | None,
    tags: tuple[str, ...],
    since: str | None,
    until: str | None,
    baselines_only: bool,
    limit: int | None,
) -> Any:
    from godiag.store.base import Filter
    from godiag.store.metadata import MetadataError, parse_tags, parse_when

    try:
        parsed = parse_tags(tags)
        return Filter(
            service=service,
            profile_type=ptype,
            tags=parsed,
            since=parse_when(since, what="--since") if since else None,
            until=parse_when(until, what="--until") if until else None,
            baseline=True if baselines_only else None,
            limit=limit,
        )
    except MetadataError as exc:
        raise UsageError(str(exc)) from None
    except StoreError as exc:
        raise UsageError(str(exc)) from None


def open_configured(config_path: Path | None) -> Any:
    from godiag import config as cfg
    from godiag.store import open_store

    return open_store(cfg.load(config_path))


def _emit(doc: dict[str, Any], fmt: str | None, output: Path | None, *flags: bool) -> None:
    from godiag import report

    quiet, verbose, no_color = flags
    out = make_output(fmt, output, quiet, verbose, no_color, FORMATS)
    report.emit(doc, out.format, out.output, color=out.color, quiet=out.quiet, verbose=verbose)


@click.group()
def store() -> None:
    """Work with the artifact store (local directory + SQLite, or S3 + PostgreSQL).

    The backend comes from [store] in godiag.toml; GODIAG_HOME moves the local store.
    """


@store.command("ls")
@filter_options
@config_option
@output_options(FORMATS)
def ls(
    config_path: Path | None,
    fmt: str | None,
    output: Path | None,
    quiet: bool,
    verbose: bool,
    no_color: bool,
    **filters: Any,
) -> None:
    """List stored artifacts, newest capture first."""
    from godiag.store.documents import record, store_doc

    flt = make_filter(**filters)
    with open_configured(config_path) as st:
        arts = st.query(flt)
        doc = store_doc("ls", st, artifacts=[record(a) for a in arts])
    _emit(doc, fmt, output, quiet, verbose, no_color)


@store.command()
@click.argument("artifact_id")
@config_option
@output_options(FORMATS)
def show(
    artifact_id: str,
    config_path: Path | None,
    fmt: str | None,
    output: Path | None,
    quiet: bool,
    verbose: bool,
    no_color: bool,
) -> None:
    """Show one artifact's metadata (ID or a unique prefix of it)."""
    from godiag.store.documents import record, store_doc

    with open_configured(config_path) as st:
        doc = store_doc("show", st, artifacts=[record(st.get(artifact_id))])
    _emit(doc, fmt, output, quiet, verbose, no_color)


@store.command()
@click.argument("artifact_id")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the bytes to FILE (default: stdout).",
)
@config_option
def get(artifact_id: str, output: Path | None, config_path: Path | None) -> None:
    """Write an artifact's bytes (checked against its sha256) to stdout or -o FILE."""
    from godiag.report import write_file

    with open_configured(config_path) as st:
        data = st.read(artifact_id)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        write_file(output, data)


@store.command()
@click.argument("artifact_ids", nargs=-1, required=True)
@config_option
@output_options(FORMATS)
def rm(
    artifact_ids: tuple[str, ...],
    config_path: Path | None,
    fmt: str | None,
    output: Path | None,
    quiet: bool,
    verbose: bool,
    no_color: bool,
) -> None:
    """Remove artifacts (their index rows, then their objects)."""
    from godiag.store.documents import store_doc

    with open_configured(config_path) as st:
        ids = [st.get(ref).id for ref in artifact_ids]  # resolve all first: all or nothing
        removed = [i for i in ids if st.delete(i)]
        doc = store_doc("rm", st, removed=removed)
    _emit(doc, fmt, output, quiet, verbose, no_color)


@store.command()
@click.argument("artifact_id")
@click.option("--unset", is_flag=True, help="Remove the baseline mark instead.")
@config_option
@output_options(FORMATS)
def baseline(
    artifact_id: str,
    unset: bool,
    config_path: Path | None,
    fmt: str | None,
    output: Path | None,
    quiet: bool,
    verbose: bool,
    no_color: bool,
) -> None:
    """Mark an artifact as a baseline (what `--baseline latest` prefers)."""
    from godiag.store.documents import record, store_doc

    with open_configured(config_path) as st:
        art = st.set_baseline(st.get(artifact_id).id, not unset)
        doc = store_doc("baseline", st, artifacts=[record(art)])
    _emit(doc, fmt, output, quiet, verbose, no_color)


@store.command()
@click.option(
    "--keep-days",
    type=click.IntRange(min=0),
    required=True,
    help="Remove artifacts captured more than N days ago.",
)
@click.option("--keep-baselines", is_flag=True, help="Never remove marked baselines.")
@config_option
@output_options(FORMATS)
def gc(
    keep_days: int,
    keep_baselines: bool,
    config_path: Path | None,
    fmt: str | None,
    output: Path | None,
    quiet: bool,
    verbose: bool,
    no_color: bool,
) -> None:
    """Apply retention, then delete unreferenced objects and stale temporary files."""
    from godiag.store.documents import gc_dict, store_doc

    cutoff = datetime.now(UTC) - timedelta(days=keep_days)
    with open_configured(config_path) as st:
        res = st.gc(cutoff, keep_baselines)
        doc = store_doc("gc", st, gc=gc_dict(res, keep_days, keep_baselines))
    _emit(doc, fmt, output, quiet, verbose, no_color)


@store.command()
@config_option
@output_options(FORMATS)
def verify(
    config_path: Path | None,
    fmt: str | None,
    output: Path | None,
    quiet: bool,
    verbose: bool,
    no_color: bool,
) -> int:
    """Check every index row has its object with the right sha256 and size.

    Exit status 1 when a problem is found (a missing or damaged object).
    """
    from godiag.store.documents import store_doc, verify_dict

    with open_configured(config_path) as st:
        res = st.verify()
        doc = store_doc("verify", st, verify=verify_dict(res))
    _emit(doc, fmt, output, quiet, verbose, no_color)
    return int(ExitStatus.FOUND if res.problems else ExitStatus.OK)


@store.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--type", "ptype", default=None, help="Profile type (heap, goroutine, cpu...).")
@click.option("--service", default=None, help="service_name.")
@click.option("--go-version", default=None, help="Go version of the service (go1.26.0).")
@click.option("--build-commit", default=None, help="VCS revision the service was built from.")
@click.option("--tag", "tags", multiple=True, help="KEY=VALUE; repeatable.")
@click.option("--captured-at", default=None, help="RFC 3339 time (default: the file's mtime).")
@click.option("--incident", "incident_id", default=None, help="Incident id.")
@click.option("--host", default=None, help="Host the capture came from.")
@click.option("--source-url", default=None, help="URL the capture came from.")
@click.option("--as-baseline", is_flag=True, help="Mark it as a baseline.")
@config_option
@output_options(FORMATS)
def put(
    file: Path,
    ptype: str | None,
    service: str | None,
    go_version: str | None,
    build_commit: str | None,
    tags: tuple[str, ...],
    captured_at: str | None,
    incident_id: str | None,
    host: str | None,
    source_url: str | None,
    as_baseline: bool,
    config_path: Path | None,
    fmt: str | None,
    output: Path | None,
    quiet: bool,
    verbose: bool,
    no_color: bool,
) -> None:
    """Store a captured file with its metadata (all mandatory fields are required)."""
    from godiag.store.documents import record, store_doc
    from godiag.store.metadata import parse_tags, parse_time

    try:
        st_size = file.stat().st_size
        mtime = datetime.fromtimestamp(file.stat().st_mtime, UTC)
    except OSError as exc:
        raise UsageError(f"{file}: cannot read: {exc.strerror}") from None
    fields = {
        "service_name": service,
        "go_version": go_version,
        "build_commit": build_commit,
        "profile_type": ptype,
        "captured_at": parse_time(captured_at, "--captured-at") if captured_at else mtime,
        "tags": parse_tags(tags),
        "incident_id": incident_id,
        "host": host,
        "source_url": source_url,
    }
    with open_configured(config_path) as st:
        st.check_size(st_size)  # before reading: never load an oversized file
        art = st.put(file.read_bytes(), fields, baseline=as_baseline)
        doc = store_doc("put", st, artifacts=[record(art)])
    _emit(doc, fmt, output, quiet, verbose, no_color)
