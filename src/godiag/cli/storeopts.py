"""Options a collecting command adds to store what it captures (CONTRACTS "Common options").

Usage in a command: decorate with `@metadata_options(store_default=False)`, then pass
`overrides(service, go_version, build_commit, tags)` and `store` to
`godiag.store.store_outcome(capture, overrides, config, enabled=store)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from godiag.model.capture import CaptureMeta

F = TypeVar("F", bound=Callable[..., Any])


def metadata_options(store_default: bool) -> Callable[[F], F]:
    """--service, --go-version, --build-commit, --tag, --store/--no-store, --as-baseline."""

    def decorate(fn: F) -> F:
        opts = [
            click.option("--service", default=None, help="service_name label of the capture."),
            click.option("--go-version", default=None, help="Go version of the service."),
            click.option("--build-commit", default=None, help="VCS revision it was built from."),
            click.option("--tag", "tags", multiple=True, help="KEY=VALUE label; repeatable."),
            click.option(
                "--store/--no-store",
                default=store_default,
                show_default=True,
                help="Keep the capture in the artifact store.",
            ),
            click.option("--as-baseline", is_flag=True, help="Mark stored captures baseline."),
        ]
        for opt in reversed(opts):
            fn = opt(fn)
        return fn

    return decorate


def overrides(
    service: str | None,
    go_version: str | None,
    build_commit: str | None,
    tags: tuple[str, ...],
) -> CaptureMeta:
    """What the user passed; it wins over what the service exposes."""
    from godiag.store.metadata import parse_tags

    return CaptureMeta(
        service_name=service,
        go_version=go_version,
        build_commit=build_commit,
        tags=parse_tags(tags),
    )


def say_stored(entries: list[dict[str, Any]], quiet: bool) -> None:
    """One stderr line per capture: its artifact id, or what was missing and where to set it."""
    for e in entries:
        if e.get("stored"):
            if not quiet:
                click.echo(f"godiag: stored {e['profile_type']} as {e['id']}", err=True)
        else:
            # Always said, even with -q: the user asked for --store and it did not happen.
            click.echo(f"godiag: {e['message']}", err=True)
