"""`godiag inspect`: what is inside a Go binary.

Reads Go build info (Go version, main module, dependencies, build settings: the same
fields as `go version -m -json`) from ELF, Mach-O and PE files without running them or
needing Go, plus what `go version` does not say: symbol table and DWARF, static or
dynamic linkage (interpreter, needed libraries), cgo, race detector, PIE, build IDs and
size by section. A directory is searched recursively for Go binaries (other files are
skipped; -v lists them). --against DIR compares with the module checkout in DIR.

Exit status: 2 when a named input cannot be read (missing, not an executable, truncated
or corrupt): each such input is one line on stderr and an entry of the document's
`errors`, and every other input is still reported; else 1 when a finding reaches
--fail-on (default warning), e.g. an executable without Go build info; else 0.
"""

from __future__ import annotations

from pathlib import Path

import click

from godiag.cli.common import make_output, output_options
from godiag.errors import ExitStatus

FORMATS = ["text", "json"]


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path, exists=False))
@click.option(
    "--against",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    default=None,
    help="Module directory the binaries should come from (go.mod, git HEAD).",
)
@click.option(
    "--fail-on",
    type=click.Choice(["info", "warning", "error", "never"]),
    default="warning",
    show_default=True,
    help="Exit 1 when a finding is at least this severe.",
)
@output_options(FORMATS)
def inspect(
    paths: tuple[Path, ...],
    against: Path | None,
    fail_on: str,
    fmt: str | None,
    output: Path | None,
    quiet: bool,
    verbose: bool,
    no_color: bool,
) -> int:
    """Show what Go binaries are made of (build info, linkage, stripping, findings)."""
    from godiag.pipeline.inspect import inspect_paths
    from godiag.report import emit

    out = make_output(fmt, output, quiet, verbose, no_color, FORMATS)
    doc = inspect_paths(list(paths), against)
    # nothing to report when every input was bad: the error lines alone, as for one file
    if len(doc["errors"]) < len(paths):
        emit(doc, out.format, out.output, color=out.color, quiet=out.quiet, verbose=out.verbose)
    for e in doc["errors"]:
        click.echo(f"godiag: error: {e['file']}: {e['reason']}", err=True)
    if doc["errors"]:
        return int(ExitStatus.USAGE)
    if fail_on == "never":
        return int(ExitStatus.OK)
    from godiag.model.findings import Severity

    bar = Severity.parse(fail_on)
    hit = any(Severity.parse(f["severity"]) >= bar for f in doc["findings"])
    return int(ExitStatus.FOUND if hit else ExitStatus.OK)
