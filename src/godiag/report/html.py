"""Self-contained HTML pages from jinja2 templates (no network: CSS and JS are inlined)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import jinja2


@cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("godiag.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["tojson_safe"] = to_script_json
    env.globals["asset"] = asset
    return env


def to_script_json(value: Any) -> str:
    """JSON safe to embed in <script>: no '</' or '<!--' can close the element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


@cache
def asset(name: str) -> str:
    """Text of a file under report/assets, inlined so pages work offline."""
    return (resources.files("godiag.report") / "assets" / name).read_text(encoding="utf-8")


def render_page(template: str, doc: dict[str, Any], **extra: Any) -> str:
    from godiag.provenance import tool

    return _env().get_template(template).render(doc=doc, version=tool()["version"], **extra)
