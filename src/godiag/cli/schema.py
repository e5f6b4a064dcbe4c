"""Print the JSON Schema of a godiag document: `godiag schema goroutines`."""

from __future__ import annotations

import json

import click

from godiag import schemas


@click.command()
@click.argument("name", required=False)
@click.option("--list", "list_", is_flag=True, help="List the schema names.")
def schema(name: str | None, list_: bool) -> None:
    """Print the JSON Schema of godiag.NAME/v1 (NAME: goroutines, doctor, ...)."""
    if list_ or name is None:
        for n in schemas.names():
            click.echo(f"godiag.{n}/v1")
        return
    click.echo(json.dumps(schemas.load(name), indent=2))
