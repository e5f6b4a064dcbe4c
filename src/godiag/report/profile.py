"""Views of `godiag.profile/v1`: pprof-like text, flame graph page, folded, speedscope, dot, svg."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

from rich.console import Console
from rich.table import Table

from godiag.analysis.units import fmt_value, percent, pick_unit
from godiag.errors import UsageError

TEMPLATE = "profile.html.j2"


def render_text(doc: dict[str, Any], console: Console, verbose: bool = False) -> None:
    st = doc["sample_type"]
    total = doc["total"]
    suffix, div = pick_unit(st["unit"], total)

    def v(x: int) -> str:
        return fmt_value(x, suffix, div)

    head = [f"Type: {st['type']}"]
    if doc.get("time"):
        head.append(f"Time: {doc['time']}")
    if doc.get("duration_nanos"):
        head.append(f"Duration: {doc['duration_nanos'] / 1e9:.3g}s")
    console.print("  ".join(head), highlight=False)
    if doc.get("base"):
        b = doc["base"]
        console.print(f"Compared with ({b['mode']}): {b['source']}", highlight=False)
    opts = doc["options"]
    active = [f"{k}={opts[k]}" for k in ("focus", "ignore") if opts.get(k)]
    if active:
        console.print("Active filters: " + " ".join(active), highlight=False)
    shown = sum(r["flat"] for r in doc["top"])
    console.print(
        f"Showing nodes accounting for {v(shown)}, {percent(shown, total)} of {v(total)} total",
        highlight=False,
    )
    if doc["dropped_nodes"]:
        console.print(f"Dropped {doc['dropped_nodes']} nodes (cum <= {v(doc['cutoff'])})")
    if len(doc["top"]) < doc["nodes_total"]:
        console.print(f"Showing top {len(doc['top'])} nodes out of {doc['nodes_total']}")
    table = Table(box=None, pad_edge=False, show_edge=False)
    for col in ("flat", "flat%", "sum%", "cum", "cum%"):
        table.add_column(col, justify="right")
    table.add_column("function", overflow="fold")
    running = 0
    for r in doc["top"]:
        running += r["flat"]
        name = r["function"] + (f" ({r['inline']})" if r.get("inline") else "")
        if verbose and r.get("file"):
            name += f"  {r['file']}"
        table.add_row(
            v(r["flat"]), percent(r["flat"], total), percent(running, total),
            v(r["cum"]), percent(r["cum"], total), name,
        )  # fmt: skip
    console.print(table)
    growth = doc.get("growth")
    if growth:
        console.print(
            f"\nGrowth over {growth['seconds']:.0f}s between captures: {v(growth['delta'])} "
            f"({v(int(growth['per_second']))}/s)",
            highlight=False,
        )
    if doc.get("tree"):
        console.print("\nCall tree (branches with cum >= 1%):")
        for t in doc["tree"]:
            console.print(
                f"{'  ' * t['depth']}{v(t['cum'])} {percent(t['cum'], total)}  {t['function']}",
                highlight=False,
            )


def render_folded(doc: dict[str, Any]) -> str:
    from godiag.analysis.flame import folded

    return folded(_flame(doc))


def render_speedscope(doc: dict[str, Any]) -> str:
    from godiag.analysis.flame import speedscope

    name = f"{doc['source']} ({doc['sample_type']['type']})"
    return json.dumps(speedscope(_flame(doc), name, doc["sample_type"]["unit"])) + "\n"


def _flame(doc: dict[str, Any]) -> dict[str, Any]:
    flame = doc.get("flame")
    if flame is None:
        raise UsageError("this document has no flame data (build it with flame output)")
    assert isinstance(flame, dict)
    return flame


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _q(text: str) -> str:
    return '"' + _esc(text) + '"'


def render_dot(doc: dict[str, Any]) -> str:
    """Graphviz in pprof's style: box size by flat, edge width by weight, dashed = inlined."""
    g = doc.get("graph")
    if g is None:
        raise UsageError("this document has no call graph")
    total = abs(doc["total"]) or 1
    suffix, div = pick_unit(doc["sample_type"]["unit"], doc["total"])
    max_flat = max((abs(n["flat"]) for n in g["nodes"]), default=1) or 1
    out = [
        "digraph godiag {",
        'node [style=filled fillcolor="#f8f8f8"];',
        f"label={_q(doc['source'] + ' ' + doc['sample_type']['type'])}; labelloc=t;",
    ]
    for n in g["nodes"]:
        size = 8 + 42 * (abs(n["flat"]) / max_flat) ** 0.5
        shade = int(255 - 155 * min(1.0, abs(n["cum"]) / total))
        color = f"#ff{shade:02x}{shade:02x}" if n["cum"] >= 0 else f"#{shade:02x}{shade:02x}ff"
        parts = [
            n["function"],
            f"{fmt_value(n['flat'], suffix, div)} ({percent(n['flat'], total)})",
            f"of {fmt_value(n['cum'], suffix, div)} ({percent(n['cum'], total)})",
        ]
        label = "\\n".join(_esc(p) for p in parts)
        out.append(
            f'N{n["id"]} [label="{label}" shape=box '
            f'fontsize={size:.1f} fillcolor="{color}" tooltip={_q(n["function"])}];'
        )
    for e in g["edges"]:
        width = 1 + 5 * min(1.0, abs(e["weight"]) / total)
        style = ' style="dashed"' if e["inline"] else ""
        wlabel = fmt_value(e["weight"], suffix, div)
        out.append(
            f'N{e["from"]} -> N{e["to"]} [label=" {wlabel}" penwidth={width:.2f} '
            f'weight={max(1, int(100 * abs(e["weight"]) / total))}{style}];'
        )
    out.append("}")
    return "\n".join(out) + "\n"


def render_svg(doc: dict[str, Any]) -> str:
    dot = shutil.which("dot")
    if dot is None:
        raise UsageError("svg output needs Graphviz `dot` on PATH (Debian: apt-get install graphviz)")
    res = subprocess.run(
        [dot, "-Tsvg"], input=render_dot(doc), capture_output=True, text=True, timeout=300
    )
    if res.returncode != 0:
        raise UsageError(f"graphviz dot failed: {res.stderr.strip()[:300]}")
    return res.stdout
