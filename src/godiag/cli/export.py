"""`godiag export`: stored artifacts' metadata and links, for other systems (secrets redacted)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from godiag.cli.common import make_output, output_options
from godiag.cli.store_cmd import config_option, filter_options, make_filter, open_configured

FORMATS = ["json", "ndjson", "csv", "text", "html"]


@click.command()
@filter_options
@click.option("--otel", is_flag=True, help="Name metadata with OpenTelemetry attributes.")
@config_option
@output_options(FORMATS)
def export(
    otel: bool,
    config_path: Path | None,
    fmt: str | None,
    output: Path | None,
    quiet: bool,
    verbose: bool,
    no_color: bool,
    **filters: Any,
) -> None:
    """Export the metadata (and links) of stored artifacts as json, ndjson or csv.

    Filters combine: `--tag env=prod --tag team=finance` keeps artifacts carrying both.
    Passwords in URLs and secret-looking tags are redacted.
    """
    from godiag import report
    from godiag.store.documents import export_doc

    out = make_output(fmt, output, quiet, verbose, no_color, FORMATS)
    flt = make_filter(**filters)
    with open_configured(config_path) as st:
        doc = export_doc(st, flt, otel)
    report.emit(doc, out.format, out.output, color=out.color, quiet=out.quiet, verbose=verbose)
