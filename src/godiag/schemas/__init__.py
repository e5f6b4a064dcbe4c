"""JSON Schemas of every `godiag.*/v1` document, shipped in the package."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from godiag.errors import UsageError


def names() -> list[str]:
    """Short names (`goroutines`, `doctor`, ...) of every shipped schema."""
    files = resources.files("godiag.schemas")
    return sorted(
        p.name.removesuffix(".schema.json")
        for p in files.iterdir()
        if p.name.endswith(".schema.json")
    )


@cache
def load(name: str) -> dict[str, Any]:
    """The schema for `name`, accepting `goroutines` or `godiag.goroutines/v1`."""
    short = name.removeprefix("godiag.").split("/")[0]
    path = resources.files("godiag.schemas") / f"{short}.schema.json"
    if not path.is_file():
        raise UsageError(f"unknown schema {name!r} (known: {', '.join(names())})")
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc


def validate(doc: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError when `doc` does not match its declared schema."""
    import jsonschema

    schema = load(str(doc["schema"]))
    jsonschema.validate(doc, schema)
