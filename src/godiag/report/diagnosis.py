"""Views of a `godiag.diagnosis/v1` document: terminal summary and HTML report.

The HTML report draws the metric series as inline SVG polylines (no script needed) and
embeds each flame graph (CPU, heap growth) in its own srcdoc iframe so the existing
canvas flame graph (report/assets/flame.js, which owns fixed element ids) is reused as is.
"""

from __future__ import annotations

import itertools
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from godiag.analysis.rootcause.kinds.base import UNCONFIRMED, unconfirmed
from godiag.analysis.rootcause.longterm.rules import DECISIVE, LEADS_TO
from godiag.analysis.rootcause.ranker import shown_at
from godiag.provenance import label

TEMPLATE = "diagnosis.html.j2"
SERIES_LABELS = {
    "go_goroutines": "goroutines",
    "go_memstats_heap_inuse_bytes": "heap in use (bytes)",
    "process_open_fds": "open fds",
    "process_cpu_seconds_total": "CPU seconds (cumulative)",
    "go_gc_duration_seconds_count": "GC cycles (cumulative)",
    # the Prometheus history (collect/promapi.py HISTORY_QUERIES)
    "heap_live_bytes": "live heap (bytes)",
    "gc_cycles_per_s": "GC cycles per second",
    "cpu_seconds_per_s": "CPU seconds per second",
}

# artifact ids the text lists (the JSON has them all)
SHOWN = 8


def where(loc: dict[str, Any] | None) -> str:
    if not loc:
        return "(no location from the evidence)"
    return f"{loc['function']}  {loc['file']}:{loc['line']}"


def short(loc: dict[str, Any] | None) -> str:
    if not loc:
        return "-"
    return f"{loc['function']} ({str(loc['file']).rsplit('/', 1)[-1]}:{loc['line']})"


def _why_unconfirmed(cause: dict[str, Any]) -> str | None:
    """The reason an unconfirmed cause gives in its evidence (documents before it had none)."""
    if cause.get("set_aside"):
        return str(cause["set_aside"])
    for e in cause["evidence"]:
        if e.startswith(UNCONFIRMED):
            return str(e).removeprefix(UNCONFIRMED)
    return None


def render_text(doc: dict[str, Any], console: Console, verbose: bool = False) -> None:
    tgt = doc["target"]
    by = f", {label(doc['tool'])}" if doc.get("tool") else ""  # older documents lack it
    # a service named by its host:port alone (no name exposed or configured) is its URL
    name = tgt.get("service_name") or ""
    name = "" if name and name in str(tgt["url"]) else f"{name} "
    console.print(f"[bold]diagnosis[/] of {name}{tgt['url']} "
                  f"({doc['duration_s']:.1f}s, window {doc['window_s']:g}s{by})")  # fmt: skip
    console.print(f"verdict: [bold]{doc['verdict']}[/]")
    warning = (doc.get("replay") or {}).get("warning")
    if warning:  # a bundle another godiag recorded: its verdict may not be this one
        console.print(f"[yellow]replay:[/] {escape(warning)}")
    used = (doc.get("history") or {}).get("summary")  # documents before history had none
    if used:
        console.print(f"history: {used}")
    table = Table(show_header=True, header_style="bold", box=None)
    for col in ("#", "kind", "probability", "location"):
        table.add_column(col)
    ruled = False
    for c in doc["causes"]:
        # a kind ranked after others for lack of its own evidence says so on its row: the
        # order then reads without the note below
        aside = "  (unconfirmed: see why below)" if unconfirmed(c) else ""
        rule = _by_rule(c)
        ruled = ruled or rule
        # the top row's figure is the verdict's: under its floor it never rounds up to it
        at = shown_at(c["kind"], c["probability"]) if c["rank"] == 1 else f"{c['probability']:.0%}"
        table.add_row(str(c["rank"]), c["kind"], at + (" *" if rule else ""),
                      short(c["location"]) + aside)  # fmt: skip
    ps = [c["probability"] for c in doc["causes"]]
    if doc["causes"] and (rest := 1.0 - sum(ps)) >= 0.005:
        # the kinds not listed, so the column reads as the whole of the model's belief, and
        # by name: a verdict may name one ("the faults together score more: …")
        named = ", ".join(f"{o['kind']} {o['probability']:.0%}" for o in doc.get("others") or []
                          if o["probability"] >= 0.005)  # fmt: skip
        table.add_row("", "(other kinds)", f"{rest:.0%}", named)
    if doc["causes"]:
        console.print(table)
        if ruled:
            console.print("[dim]* set by a rule on evidence the model does not read (its "
                          "line below says which), not a calibrated figure[/]")  # fmt: skip
        # or when a kind not listed scored above a listed one
        above = [o for o in doc.get("others") or [] if ps and o["probability"] > min(ps)]
        if any(b > a for a, b in itertools.pairwise(ps)) or above:
            # the first row is the most probable kind with evidence of its own, the others
            # the model's order (docs/diagnose.md); documents before that put every kind
            # with evidence first
            head = doc["causes"][0]
            if unconfirmed(head):
                # nothing points at the first either (its verdict says so): it is first
                # only because the kind scored above it lacks a measure
                console.print("[dim]order: a kind scored above the first lacks a measure "
                              "its evidence needs and follows it[/]")  # fmt: skip
            else:
                console.print("[dim]order: first the most probable kind whose own evidence "
                              "was seen; a kind scored above it without its evidence follows "
                              "it[/]")  # fmt: skip
    for c in doc["causes"][: 3 if verbose else 1]:
        console.print(f"[bold]{c['kind']}[/]: {c['title']}")
        for e in c["evidence"]:
            console.print(f"  - {e}")
    if not verbose:  # why each unconfirmed cause below the first is (the first says it above)
        for c in doc["causes"][1:]:
            if unconfirmed(c) and (why := _why_unconfirmed(c)):
                console.print(f"[dim]{c['kind']} unconfirmed: {escape(why)}[/]")
    if not verbose and any(c["evidence"] for c in doc["causes"][1:]):
        console.print("[dim]the other causes' evidence: --verbose, or --format json[/]")
    pod = doc.get("kubernetes")
    if pod:  # a k8s:// target: which pod, and the siblings' reference when asked
        owner = f" ({pod['owner']})" if pod.get("owner") else ""
        console.print(
            f"pod: {pod['namespace']}/{pod['pod']}:{pod['port']}{owner}",
            markup=False,
            soft_wrap=True,
        )
        if pod.get("siblings"):
            console.print(pod["siblings"]["line"], markup=False, soft_wrap=True)
    for m in doc["missing"]:
        console.print(f"[yellow]missing:[/] {m}")
    if verbose:
        for n in doc["notes"]:
            console.print(f"[dim]note: {n}[/]")
        for k, v in doc["features"].items():
            console.print(f"  {k:28} {'missing' if v is None else v}")
    st = doc["store"]
    if doc["artifacts"]:
        shown = doc["artifacts"][:SHOWN]
        more = len(doc["artifacts"]) - len(shown)
        tail = f" and {more} more (--format json lists them all)" if more else ""
        console.print(f"{st['message']} (godiag store show ID): "
                      + ", ".join(f"{a['profile_type']} {a['id'][:12]}" for a in shown)
                      + tail)  # fmt: skip
    else:
        console.print(st["message"])


def polyline(points: list[list[float]], w: int = 320, h: int = 90) -> dict[str, Any]:
    """SVG polyline coordinates for a series (min..max scaled into the box)."""
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x0, x1 = min(xs), max(xs) or 1
    y0, y1 = min(ys), max(ys)
    span_x = (x1 - x0) or 1.0
    span_y = (y1 - y0) or 1.0
    coords = []
    for x, y in zip(xs, ys, strict=True):
        px = (x - x0) / span_x * (w - 10) + 5
        py = h - 5 - (y - y0) / span_y * (h - 20)
        coords.append(f"{px:.1f},{py:.1f}")
    pts = " ".join(coords)
    return {"points": pts, "min": y0, "max": y1, "w": w, "h": h}


def amount(value: float, name: str, signed: bool = False) -> str:
    """A series' value for people: bytes in KiB/MiB/GiB, other values with at most four
    significant digits and no exponent ("2.12992e+06" was a live heap)."""
    sign = "+" if signed and value > 0 else ""
    if "bytes" in name or name.startswith("go_memstats_heap"):
        for unit, div in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
            if abs(value) >= div:
                return f"{sign}{value / div:.1f} {unit}"
        return f"{sign}{value:.0f} B"
    if abs(value) >= 1000 or value == int(value):
        return f"{sign}{value:,.0f}"
    return f"{sign}{value:.4g}"


def display_of(unit: str, total: int) -> dict[str, Any]:
    from godiag.analysis.units import pick_unit

    suffix, div = pick_unit(unit, total)
    return {"suffix": suffix, "div": div}


def _register() -> None:
    """Helpers the template calls (the shared jinja environment is created once)."""
    from godiag.report.html import _env

    env = _env()
    env.globals["diag_polyline"] = polyline
    env.globals["diag_display"] = display_of
    env.globals["diag_where"] = where
    env.globals["diag_labels"] = SERIES_LABELS
    env.globals["diag_amount"] = amount


_register()


def _by_rule(cause: dict[str, Any]) -> bool:
    """The cause's probability was set by a long-term rule (decisive, or a lead)."""
    return any(str(e).startswith((DECISIVE, LEADS_TO)) for e in cause.get("evidence") or ())
