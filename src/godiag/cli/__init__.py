"""Command-line entry point: a lazy click group and the one place errors become exit codes.

Subcommands are imported only when invoked, so `godiag --help` stays fast (heavy
modules such as protobuf or rich tables are never imported for it).
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from godiag import __version__
from godiag.errors import ExitStatus, GodiagError

# name -> (module, attribute, one-line help shown in `godiag --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "goroutines": (
        "godiag.cli.goroutines",
        "goroutines",
        "Group, classify and diff goroutine dumps.",
    ),
    "profile": (
        "godiag.cli.profile",
        "profile",
        "Read, compare and draw pprof profiles (top, tree, flame graph, call graph).",
    ),
    "trace": (
        "godiag.cli.trace",
        "trace",
        "Take a CPU profile of a service and draw its flame graph.",
    ),
    "demo": ("godiag.cli.demo", "demo", "Run godiag on the bundled leaking demo service."),
    "diagnose": (
        "godiag.cli.diagnose",
        "diagnose",
        "Rank the likely root causes of a live Go service, down to file:line.",
    ),
    "config": ("godiag.cli.config_cmd", "config", "Validate godiag.toml."),
    "analyze": ("godiag.cli.analyze", "analyze", "Find goroutine and resource leaks in Go source."),
    "doctor": (
        "godiag.cli.doctor",
        "doctor",
        "Find the Go toolchain's silent failures, with proof.",
    ),
    "run": (
        "godiag.cli.run",
        "run",
        "Run a go command under supervision; explain hangs and exits.",
    ),
    "inspect": (
        "godiag.cli.inspect",
        "inspect",
        "What is inside a Go binary: build info, linkage.",
    ),
    "schema": ("godiag.cli.schema", "schema", "Print the JSON Schema of a godiag.*/v1 document."),
    "store": ("godiag.cli.store_cmd", "store", "List, fetch, mark, expire and verify artifacts."),
    "check": (
        "godiag.cli.check",
        "check",
        "Compare a service now with a stored baseline under a rule (memory-leak, ...).",
    ),
    "export": (
        "godiag.cli.export",
        "export",
        "Export stored artifacts' metadata (json/ndjson/csv).",
    ),
    "serve": ("godiag.cli.serve", "serve", "Diagnose services when Alertmanager alerts."),
    "watch": ("godiag.cli.serve", "watch", "Scrape targets, diagnose on local alert rules."),
    "operator": (
        "godiag.cli.operator",
        "operator",
        "Diagnose the pods that GoDiagnosis resources name (Kubernetes).",
    ),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module = importlib.import_module(entry[0])
        command = getattr(module, entry[1])
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="godiag")
def app() -> None:
    """godiag: why is this Go build, binary or service misbehaving?

    Every command takes --format (text, json, html, ...) and -o FILE; data goes to
    stdout, messages to stderr. Exit codes: 0 nothing found, 1 found something,
    2 bad usage or input, 3 internal error.
    """


def _write_traceback() -> str:
    import tempfile  # only on the crash path: keeps start-up lean
    import traceback

    fd, path = tempfile.mkstemp(prefix="godiag-crash-", suffix=".txt")
    with os.fdopen(fd, "w") as fh:
        traceback.print_exc(file=fh)
    return path


def main(argv: list[str] | None = None) -> Any:
    """Run the CLI; the single catch that maps errors to exit codes."""
    try:
        rv = app.main(args=argv, prog_name="godiag", standalone_mode=False)
    except SystemExit as exc:
        # click ends a write to a closed pipe (`godiag ... | head`) with exit 1, the exit of
        # "found something", after wrapping stdout in its flush-pacifier (whose name is all
        # its versions share): the reader went away, which is no finding
        if exc.code == 1 and type(sys.stdout).__name__.endswith("PacifyFlushWrapper"):
            sys.exit(0)
        raise
    except GodiagError as exc:
        click.echo(f"godiag: error: {exc}", err=True)
        sys.exit(int(exc.exit_status))
    except click.exceptions.Abort:
        click.echo("godiag: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(int(ExitStatus.USAGE))
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("godiag: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as exc:
        path = _write_traceback()
        click.echo(
            f"godiag: internal error: {type(exc).__name__}: {exc} (traceback written to {path})",
            err=True,
        )
        sys.exit(int(ExitStatus.INTERNAL))
    sys.exit(int(rv) if isinstance(rv, int) else 0)
