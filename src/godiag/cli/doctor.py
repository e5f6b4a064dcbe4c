"""`godiag doctor [DIR]`: find the Go toolchain's silent failures, with proof.

Checks the environment and mode (GOFLAGS, go.work, GOTOOLCHAIN, cgo, vendor, replace,
checksum settings, caches) and the files and packages of DIR (skipped test directories,
constraint-excluded files, embed patterns, misnamed tests) as the user's own go command
sees them. Nothing is downloaded (probes run with GOPROXY=off) and nothing in DIR or the
caches is modified; --deep adds checks that build (in a temporary copy) or verify the
module cache. Exit status: 0 nothing at or above --fail-on, 1 found, 2 bad usage.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from godiag.cli.common import Duration, make_output, output_options

FORMATS = ["text", "json", "sarif", "html"]


@click.command()
@click.argument(
    "directory",
    required=False,
    default=".",
    type=click.Path(file_okay=False, path_type=Path),
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info"]),
    default="warning",
    show_default=True,
    help="Exit 1 when a finding has at least this severity.",
)
@click.option(
    "--check", "only", multiple=True, metavar="ID", help="Run only this check (repeatable)."
)
@click.option("--skip", multiple=True, metavar="ID", help="Do not run this check (repeatable).")
@click.option("--deep", is_flag=True, help="Also run checks that build or verify the module cache.")
@click.option("--list", "list_", is_flag=True, help="Print the check catalog and exit.")
@click.option(
    "--timeout",
    type=Duration(),
    default="120s",
    show_default=True,
    help="Time each go command may take.",
)
@output_options([*FORMATS, "markdown"])
def doctor(
    directory: Path,
    fail_on: str,
    only: tuple[str, ...],
    skip: tuple[str, ...],
    deep: bool,
    list_: bool,
    timeout: float,
    fmt: str | None,
    output: Path | None,
    quiet: bool,
    verbose: bool,
    no_color: bool,
) -> int:
    """Find the Go toolchain's silent failures in DIR (default: .), with evidence and fixes."""
    from godiag.errors import ExitStatus, UsageError
    from godiag.model.findings import Severity
    from godiag.report import emit
    from godiag.toolchain import doctor as lib

    if list_:
        return _print_catalog(fmt, output, quiet)
    if fmt == "markdown":
        raise UsageError("--format markdown is only for --list")
    out = make_output(fmt, output, quiet, verbose, no_color, FORMATS)
    doc = lib.diagnose(directory, only=only, skip=skip, deep=deep, timeout=timeout)
    if out.format == "sarif":  # its rules describe every check (the JSON keeps its schema)
        doc = {**doc, "catalog": lib.catalog()}
    emit(doc, out.format, out.output, color=out.color, quiet=out.quiet, verbose=out.verbose)
    return int(ExitStatus.FOUND if lib.exit_found(doc, Severity.parse(fail_on)) else ExitStatus.OK)


def _print_catalog(fmt: str | None, output: Path | None, quiet: bool) -> int:
    """--list in the chosen format; sarif/html describe a run, so they are refused here."""
    from godiag.errors import ExitStatus
    from godiag.report import emit, write_file
    from godiag.toolchain import doctor as lib

    out = make_output(fmt, output, quiet, False, True, ["text", "json", "markdown"])
    if out.format == "json":
        emit(lib.catalog_document(), "json", out.output, quiet=out.quiet)
        return int(ExitStatus.OK)
    if out.format == "markdown":
        text = lib.catalog_markdown()
    else:
        text = "".join(
            f"{c['id']:32} {c['severity']:8} {'deep' if c['deep'] else '':5} {c['summary']}\n"
            for c in lib.catalog()
        )
    if out.output:
        write_file(out.output, text)
    else:
        sys.stdout.write(text)
    return int(ExitStatus.OK)
