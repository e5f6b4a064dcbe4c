"""`godiag demo`: diagnose the bundled leaking Go service, live, end to end."""

from __future__ import annotations

from pathlib import Path

import click

from godiag.cli.common import make_output, output_options
from godiag.report import emit, render, say_written, write_file


@click.command()
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("godiag-demo-report.html"),
    show_default=True,
    help="Where to write the HTML report.",
)
@click.option(
    "--requests",
    default=300,
    show_default=True,
    help="Requests sent to the demo service between the two captures.",
)
@output_options(["text", "json", "html"])
def demo(
    report_path: Path,
    requests: int,
    fmt: str | None,
    output: Path | None,
    quiet: bool,
    verbose: bool,
    no_color: bool,
) -> int:
    """Build the bundled Go demo service (a quote API with a goroutine leak), load it,
    capture two goroutine dumps over HTTP, and show which goroutines pile up and where.
    The service runs on loopback and is stopped at the end. Needs the go command.
    """
    out = make_output(fmt, output, quiet, verbose, no_color, ["text", "json", "html"])
    from godiag.demo.run import run_demo
    from godiag.report.terminal import console_for

    err = console_for(stderr=True, color=out.color)

    def progress(msg: str) -> None:
        if not out.quiet:
            err.print(f"[dim]godiag demo:[/] {msg}")

    doc = run_demo(progress, requests=requests)
    emit(doc, out.format, out.output, color=out.color, quiet=out.quiet, verbose=out.verbose)
    write_file(report_path, render(doc, "html"))
    if not out.quiet:
        say_written(report_path, "html")
    return 0
