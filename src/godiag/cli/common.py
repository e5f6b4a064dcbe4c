"""Options every command shares (docs/contracts.md, "Options every command shares"), and
the output step."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from godiag.errors import UsageError

F = TypeVar("F", bound=Callable[..., Any])


if TYPE_CHECKING:
    from godiag.collect.kube.pods import KubeOptions

if TYPE_CHECKING:  # generic from click 8.2 on; pyproject allows 8.1
    _FloatParam = click.ParamType[float]
else:
    _FloatParam = click.ParamType


class Duration(_FloatParam):
    """An option taking a duration (`500ms`, `5s`, `1m30s`, `1h`, or seconds) as float
    seconds, through godiag.durations; out of [low, high] is a one-line usage error."""

    name = "duration"

    def __init__(self, low: float | None = None, high: float | None = None, why: str = ""):
        self.low, self.high, self.why = low, high, why

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        from godiag.durations import format_duration, parse_duration

        if isinstance(value, int | float):  # a default given as a number
            return float(value)
        what = param.opts[0] if param is not None and param.opts else "duration"
        seconds = parse_duration(str(value), what)
        why = f" ({self.why})" if self.why else ""
        if self.low is not None and seconds < self.low:
            raise UsageError(f"{what}: at least {format_duration(self.low)}{why}")
        if self.high is not None and seconds > self.high:
            raise UsageError(f"{what}: at most {format_duration(self.high)}{why}")
        return seconds


def kube_options(fn: F) -> F:
    """--kubeconfig and --context for `k8s://NAMESPACE/POD[:PORT]` targets (docs/kubernetes.md);
    the command receives `kubeconfig` and `kube_context` (pass them to `kube_of`)."""
    fn = click.option(
        "--context", "kube_context", default=None, metavar="NAME",
        help="Kubernetes context of a k8s:// target (default: the kubeconfig's current one).",
    )(fn)  # fmt: skip
    return click.option(
        "--kubeconfig", default=None, metavar="FILE",
        help="kubeconfig for k8s:// targets (default: $KUBECONFIG, ~/.kube/config, in-cluster).",
    )(fn)  # fmt: skip


def kube_of(kubeconfig: str | None, context: str | None) -> KubeOptions:
    from godiag.collect.kube.pods import KubeOptions

    return KubeOptions(kubeconfig, context)


@dataclass(frozen=True)
class OutputOptions:
    format: str
    output: Path | None
    quiet: bool
    verbose: bool
    color: bool


def output_options(formats: list[str]) -> Callable[[F], F]:
    """Add --format/-o/-q/-v/--no-color; the command receives `out: OutputOptions`."""

    def decorate(fn: F) -> F:
        opts = [
            click.option(
                "--format",
                "fmt",
                type=click.Choice(formats),
                default=None,
                help=f"Output format (default: from -o's extension, else text). "
                f"One of: {', '.join(formats)}.",
            ),
            click.option(
                "-o",
                "--output",
                type=click.Path(dir_okay=False, path_type=Path),
                default=None,
                help="Write the result to FILE instead of stdout.",
            ),
            click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr."),
            click.option("-v", "--verbose", is_flag=True, help="More detail."),
            click.option("--no-color", is_flag=True, help="No colours (also NO_COLOR)."),
        ]
        for opt in reversed(opts):
            fn = opt(fn)
        return fn

    return decorate


def make_output(
    fmt: str | None,
    output: Path | None,
    quiet: bool,
    verbose: bool,
    no_color: bool,
    allowed: list[str],
) -> OutputOptions:
    """Resolve the format: explicit --format wins, else -o's extension, else text. An
    extension naming a format the command cannot write is a usage error, not text."""
    chosen = fmt
    if chosen is None and output is not None:
        ext = output.suffix.lower().lstrip(".")
        by_ext = {
            "json": "json",
            "html": "html",
            "htm": "html",
            "sarif": "sarif",
            "txt": "text",
            "folded": "folded",
            "pb": "pprof",
            "gz": "pprof",
            "ndjson": "ndjson",
            "csv": "csv",
            "svg": "svg",
            "dot": "dot",
        }
        guess = by_ext.get(ext)
        if guess in allowed:
            chosen = guess
        elif guess is not None:
            # a .svg or .html this command cannot write would silently get text in it
            raise UsageError(
                f"-o {output.name}: this command does not write {guess} "
                f"(it writes {', '.join(allowed)}); name the format with --format"
            )
    if chosen is None:
        chosen = "text"
    if chosen not in allowed:
        raise UsageError(
            f"--format {chosen} is not available here (use one of {', '.join(allowed)})"
        )
    color = not no_color and "NO_COLOR" not in os.environ
    return OutputOptions(chosen, output, quiet, verbose, color)
