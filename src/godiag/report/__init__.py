"""Reporters: turn a JSON-safe document into text, json, html or a command-specific format.

The registry maps a document's schema to a view module (imported on demand) that
knows how to show it:

- ``render_text(doc, console)``: the terminal view (rich);
- ``TEMPLATE``: the jinja2 template of its self-contained HTML page;
- ``render_<format>(doc) -> str | bytes`` for extra formats (sarif, folded, ...).

JSON needs no view: it is the document itself. Templates only display; all the
computing happens in analysis/ before the document exists.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from godiag.errors import UsageError

VIEWS: dict[str, str] = {
    "godiag.goroutines/v1": "godiag.report.goroutines",
    "godiag.config/v1": "godiag.report.configview",
    "godiag.analyze/v1": "godiag.report.analyze",
    "godiag.doctor/v1": "godiag.report.doctor",
    "godiag.run/v1": "godiag.report.run",
    "godiag.inspect/v1": "godiag.report.inspect",
    "godiag.store/v1": "godiag.report.storeview",
    "godiag.export/v1": "godiag.report.exportview",
    "godiag.profile/v1": "godiag.report.profile",
    "godiag.check/v1": "godiag.report.checkview",
    "godiag.diagnosis/v1": "godiag.report.diagnosis",
}


def register_view(schema: str, module: str) -> None:
    """Let a later capability add its view without editing this table."""
    VIEWS[schema] = module


def _view(schema: str) -> ModuleType:
    name = VIEWS.get(schema)
    if name is None:
        raise UsageError(f"no reporter for documents of schema {schema}")
    return importlib.import_module(name)


def render(
    doc: dict[str, Any],
    fmt: str,
    *,
    color: bool = False,
    width: int | None = None,
    verbose: bool = False,
) -> str | bytes:
    """Render `doc` in `fmt`; text is rendered into a string (for -o and for tests)."""
    if fmt == "json":
        return json.dumps(stamped(doc), indent=2, ensure_ascii=False) + "\n"
    view = _view(str(doc.get("schema")))
    if fmt == "text":
        from godiag.report.terminal import render_to_string

        return render_to_string(view, doc, color=color, width=width, verbose=verbose)
    if fmt == "html":
        from godiag.report.html import render_page

        return render_page(str(view.TEMPLATE), doc)
    fn = getattr(view, f"render_{fmt}", None)
    if fn is None:
        raise UsageError(f"format {fmt} is not available for {doc.get('schema')}")
    out = fn(doc)
    assert isinstance(out, str | bytes)
    return out


def stamped(doc: dict[str, Any]) -> dict[str, Any]:
    """`doc` naming the godiag that wrote it (`tool`, right after `schema`): every command's
    JSON says which version produced it. A document that already names one (a diagnosis,
    made where serve stores it too) keeps its own."""
    if "tool" in doc or "schema" not in doc:
        return doc
    from godiag.provenance import tool

    return {"schema": doc["schema"], "tool": tool(), **doc}


def emit(
    doc: dict[str, Any],
    fmt: str,
    output: Path | None,
    *,
    color: bool = True,
    quiet: bool = False,
    verbose: bool = False,
) -> Path | None:
    """Print `doc` to stdout, or write it to `output` and say on stderr where it went."""
    if output is None and fmt == "text":
        from godiag.report.terminal import print_view

        print_view(_view(str(doc.get("schema"))), doc, color=color, verbose=verbose)
        return None
    data = render(doc, fmt, color=False, verbose=verbose)
    if output is None:
        if isinstance(data, bytes):
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        else:
            sys.stdout.write(data)
            sys.stdout.flush()
        return None
    write_file(output, data)
    if not quiet:
        say_written(output, fmt)
    return output


def write_file(path: Path, data: str | bytes) -> None:
    """`data` into `path`, whole or not at all: a regular file is replaced through a
    temporary one. A device, a FIFO or /dev/stdout is written in place: renaming over
    `-o /dev/null` as root would replace the device with a regular file."""
    if path.exists() and not path.is_file():
        with path.open("wb") as fh:
            fh.write(data if isinstance(data, bytes) else data.encode("utf-8"))
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    if isinstance(data, bytes):
        tmp.write_bytes(data)
    else:
        tmp.write_text(data, encoding="utf-8")
    tmp.replace(path)


HOW_TO_OPEN = {
    "html": "open it in a browser",
    "json": "read it with jq or any JSON tool",
    "sarif": "upload it to your CI's code scanning",
    "speedscope": "open it at speedscope or with `speedscope FILE`",
    "pprof": "open it with `go tool pprof`",
    "folded": "feed it to flamegraph.pl or inferno",
}


def say_written(path: Path, fmt: str) -> None:
    hint = HOW_TO_OPEN.get(fmt, "")
    sys.stderr.write(f"godiag: wrote {fmt} to {path}" + (f" ({hint})" if hint else "") + "\n")
