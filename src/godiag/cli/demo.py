"""`godiag demo`: diagnose the bundled Go service, live, end to end."""

from __future__ import annotations

from pathlib import Path

import click

from godiag.cli.common import Duration, make_output, output_options
from godiag.demo.run import FAULTS
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
    "--fault",
    type=click.Choice(FAULTS),
    default="goroutine-leak",
    show_default=True,
    help="The fault planted in the demo service.",
)
@click.option("--window", type=Duration(low=1, high=60), default="3s", show_default=True,
              help="How long to observe.")  # fmt: skip
@output_options(["text", "json", "html"])
def demo(
    report_path: Path,
    fault: str,
    window: float,
    fmt: str | None,
    output: Path | None,
    quiet: bool,
    verbose: bool,
    no_color: bool,
) -> int:
    """Build the bundled Go demo service (a quote API; by default with a goroutine leak),
    keep it under load, run `godiag diagnose` on it and show the ranked causes. The
    service runs on loopback and is stopped at the end; nothing is stored. Needs the go
    command.
    """
    out = make_output(fmt, output, quiet, verbose, no_color, ["text", "json", "html"])
    from godiag.demo.run import run_diagnosis
    from godiag.report.terminal import console_for

    err = console_for(stderr=True, color=out.color)

    def progress(msg: str) -> None:
        if not out.quiet:
            err.print(f"[dim]godiag demo:[/] {msg}")

    doc = run_diagnosis(progress, fault=fault, window=window)
    emit(doc, out.format, out.output, color=out.color, quiet=out.quiet, verbose=out.verbose)
    write_file(report_path, render(doc, "html"))
    if not out.quiet:
        say_written(report_path, "html")
    return 0
