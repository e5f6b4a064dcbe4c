"""Group, classify and diff goroutine dumps.

SOURCE is a file, `-` (stdin), a URL (a base URL or its /debug/pprof/goroutine; asks
debug=2 and falls back to debug=1), or the PID of a local process serving
net/http/pprof. Several SOURCEs are analysed together (e.g. replicas of one service).

With --diff OTHER, OTHER is the baseline taken earlier: each group shows its growth
from OTHER to SOURCE, biggest growth first.

Exit status: 0 when the analysis was done, 2 when a source cannot be read or parsed.
"""

from __future__ import annotations

from pathlib import Path

import click

from godiag.cli.common import make_output, output_options

FORMATS = ["text", "json", "html"]


@click.command(name="goroutines")
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE...")
@click.option("--diff", "other", metavar="OTHER", help="Baseline dump to compare with.")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="HTTP timeout (s).")
@click.option("--lenient", is_flag=True, help="Skip malformed goroutines instead of failing.")
@output_options(FORMATS)
def goroutines(
    sources: tuple[str, ...],
    other: str | None,
    timeout: float,
    lenient: bool,
    fmt: str | None,
    output: Path | None,
    quiet: bool,
    verbose: bool,
    no_color: bool,
) -> int:
    """Group, classify and diff goroutine dumps (file, -, URL or PID)."""
    from godiag.pipeline.goroutines import analyze_sources
    from godiag.report import emit

    out = make_output(fmt, output, quiet, verbose, no_color, FORMATS)
    doc = analyze_sources(list(sources), other, timeout=timeout, strict=not lenient)
    emit(doc, out.format, out.output, color=out.color, quiet=out.quiet, verbose=out.verbose)
    return 0
