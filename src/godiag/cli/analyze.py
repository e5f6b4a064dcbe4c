"""`godiag analyze DIR`: static leak analysis of a Go module's source."""

from __future__ import annotations

from pathlib import Path

import click

from godiag.cli.common import make_output, output_options
from godiag.errors import ExitStatus

FORMATS = ["text", "json", "sarif", "html"]


@click.command()
@click.argument("directory", type=click.Path(path_type=Path), default=".")
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info"]),
    default="warning",
    show_default=True,
    help="Exit 1 when a finding at or above this severity is found.",
)
@click.option(
    "--tests/--no-tests",
    default=True,
    show_default=True,
    help="Also analyze _test.go files (--no-tests when tests do not compile with your go).",
)
@output_options(FORMATS)
def analyze(
    directory: Path,
    fail_on: str,
    tests: bool,
    fmt: str | None,
    output: Path | None,
    quiet: bool,
    verbose: bool,
    no_color: bool,
) -> int:
    """Find goroutine and resource leaks in the Go module at DIR (default: .).

    Runs godiag's analyzers (goexit-misuse, abandoned-sender, unclosed-range,
    lost-cancel-watcher, waitgroup-missing-done, lock-held-blocking,
    lock-not-released, double-lock, lock-order-inversion, receive-never-sent,
    send-never-received, cond-never-signalled, unclosed-response-body,
    transport-per-request, timer-leak) over ./... of the module. The analyzer is
    built once with your `go` (1.22+), offline, and cached.
    """
    from godiag.analysis.static import analyze_document
    from godiag.report import emit
    from godiag.toolchain import analyzer

    out = make_output(fmt, output, quiet, verbose, no_color, FORMATS)
    findings = analyzer.run(directory, tests=tests)
    doc, found = analyze_document(str(directory.resolve()), findings, fail_on)
    emit(doc, out.format, out.output, color=out.color, quiet=out.quiet, verbose=out.verbose)
    return int(ExitStatus.FOUND if found else ExitStatus.OK)
