"""Run a go command under supervision and explain hangs and early exits.

    godiag run [--timeout D] [--stall D] [--expect-output PATH] [--no-x] -- go build ./...

The command's output is streamed live and unchanged (stdout to stdout, stderr to
stderr; with --format json and no -o, the command's stdout goes to stderr so that
stdout carries only the JSON). When the process tree makes no progress of its own
(output, data written or read, processes, computing; a ticker's sliver of CPU does not
count) for --stall (default 60s), godiag snapshots every process (/proc state, locks,
connections, cgroups), asks the stuck Go processes for goroutine dumps (SIGQUIT),
explains the blocking and ends the tree. --timeout ends it after D in any case
(default 1h). Exit status: 0 when the command succeeded, 1 when it failed, hung or did
not produce what it should; the command's own status is in the JSON.

With --leaks (`godiag run --leaks -- go test ./...`) each tested package gets a generated
TestMain through `go test -overlay` (around the package's own, if it has one) that dumps the
goroutines when the tests start and after they end; goroutines a test left blocked are
findings (`goroutine-leak`), and the exit status is 1.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from godiag.cli.common import Duration, make_output, output_options
from godiag.errors import ExitStatus, UsageError
from godiag.toolchain.supervise.progress import WINDOW_S

FORMATS = ["text", "json"]


@click.command(context_settings={"ignore_unknown_options": True})
@click.option(
    "--timeout",
    "timeout",
    type=Duration(),
    default=None,
    help="End the command after D (e.g. 10m); default 1h, 0 for none.",
)
@click.option(
    "--stall",
    "stall",
    # Progress is judged over WINDOW_S (CPU share, bytes read): a shorter --stall would
    # declare a hang before one window of work could be seen, and 0 declared one at once.
    type=Duration(low=WINDOW_S, why=f"progress is measured over {WINDOW_S:g}s windows"),
    default="60s",
    show_default=True,
    help="Declare a hang after D (at least 2s) without output, I/O, new processes or computing.",
)
@click.option(
    "--expect-output",
    "expect",
    multiple=True,
    type=click.Path(path_type=Path),
    help="A file the command must create or rewrite (repeatable).",
)
@click.option("--no-x", is_flag=True, help="Do not add -x (no fetch tracking).")
@click.option(
    "--leaks",
    is_flag=True,
    help="With `go test`: report goroutines each test leaves blocked, even when it passes "
    "(no code change: a generated TestMain is added through -overlay).",
)
@click.option(
    "--leak-grace",
    type=Duration(),
    default="1s",
    show_default=True,
    help="With --leaks: how long goroutines may take to finish after the tests.",
)
@click.option(
    "--no-leak-profile",
    is_flag=True,
    help="With --leaks: do not set GOEXPERIMENT=goroutineleakprofile (Go 1.26+; it "
    "proves leaks but rebuilds the standard library once).",
)
@click.option(
    "--leak-dumps",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="With --leaks: keep the goroutine dumps taken after the tests in this directory.",
)
@output_options(FORMATS)
@click.argument("argv", nargs=-1, type=click.UNPROCESSED)
def run(
    timeout: float | None,
    stall: float,
    expect: tuple[Path, ...],
    no_x: bool,
    leaks: bool,
    leak_grace: float,
    no_leak_profile: bool,
    leak_dumps: Path | None,
    argv: tuple[str, ...],
    fmt: str | None,
    output: Path | None,
    quiet: bool,
    verbose: bool,
    no_color: bool,
) -> int:
    """Run a go command under supervision: explain hangs and early exits.

    \b
        godiag run [--timeout D] [--stall D] [--expect-output PATH] -- go build ./...

    The command's output is streamed live and unchanged (with --format json and no
    -o, its stdout goes to stderr so stdout carries only the JSON). When the whole
    process tree makes no progress of its own (output, data written or read, new
    processes, computing; a ticker's sliver of CPU does not count) for --stall,
    godiag snapshots every process (/proc state, locks, connections, cgroups), asks
    the stuck Go processes for goroutine dumps (SIGQUIT, kept in the report, not
    shown), explains the blocking and ends the tree; --timeout (default 1h, 0 for
    none) ends it after D in any case. Exit status: 0 when the command succeeded, 1
    when it failed, hung or did not produce what it should.
    """
    out = make_output(fmt, output, quiet, verbose, no_color, FORMATS)
    if not argv:
        raise UsageError("give the command after --, e.g. `godiag run -- go build ./...`")
    from godiag.report import emit
    from godiag.toolchain.supervise.record import DEFAULT_TIMEOUT, LeakOptions
    from godiag.toolchain.supervise.runner import RunOptions
    from godiag.toolchain.supervise.session import run as run_session

    json_on_stdout = out.format == "json" and out.output is None
    opts = RunOptions(
        argv=list(argv),
        env=dict(os.environ),
        cwd=os.getcwd(),
        stall=stall,
        timeout=DEFAULT_TIMEOUT if timeout is None else (timeout or None),
        timeout_is_default=timeout is None,
        add_x=not no_x,
        stdout_sink=sys.stderr.buffer if json_on_stdout else sys.stdout.buffer,
        stderr_sink=sys.stderr.buffer,
        progress=sys.stderr.isatty() and not quiet,
        leaks=LeakOptions(
            leak_profile=not no_leak_profile,
            grace_s=leak_grace,
            keep_dumps=leak_dumps,
        )
        if leaks
        else None,
    )
    doc = run_session(opts, list(expect))
    if out.format == "text" and out.output is None:
        # The report is about the wrapped command: keep stdout the command's own.
        if not quiet or doc["failed"]:
            from godiag.report.run import render_text
            from godiag.report.terminal import console_for

            render_text(doc, console_for(color=out.color, stderr=True), verbose=out.verbose)
    else:
        emit(doc, out.format, out.output, color=out.color, quiet=out.quiet, verbose=out.verbose)
    return int(ExitStatus.FOUND if doc["failed"] else ExitStatus.OK)
