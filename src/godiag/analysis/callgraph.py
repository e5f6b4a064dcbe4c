"""The call graph pprof draws with -dot/-svg: same node and edge pruning rules.

Nodes whose |cum| is under nodefraction (0.5%) of the total are dropped, then the
`nodecount` (80) heaviest stay; edges under edgefraction (0.1%) are dropped. pprof's
visual ordering heuristic is replaced by cumulative order; the kept set is the same
whenever no node ties at the cut.
"""

from __future__ import annotations

from typing import Any

from godiag.analysis.profiles import (
    EDGE_FRACTION,
    NODE_FRACTION,
    Stacks,
    flat_cum,
    graph_edges,
)

NODE_COUNT = 80


def call_graph(
    stacks: Stacks,
    node_count: int = NODE_COUNT,
    node_fraction: float = NODE_FRACTION,
    edge_fraction: float = EDGE_FRACTION,
) -> dict[str, Any]:
    t = stacks.table
    flat, cum = flat_cum(stacks)
    flat_sum = sum(flat.values())
    node_cut = abs(int(flat_sum * node_fraction))
    edge_cut = abs(int(flat_sum * edge_fraction))
    kept = [n for n, c in cum.items() if abs(c) >= node_cut]
    kept.sort(key=lambda n: (-abs(cum[n]), t.names[n]))
    kept = kept[:node_count]
    keep = set(kept)
    edges = graph_edges(stacks, keep)
    # Recompute flat inside the kept graph: a sample whose leaf was dropped adds none.
    return {
        "nodes": [
            {"id": n, "function": t.names[n], "file": t.files[n], "flat": flat.get(n, 0), "cum": cum[n]}
            for n in kept
        ],
        "edges": [
            {"from": a, "to": b, "weight": w, "inline": bool(inl)}
            for (a, b), (w, inl) in sorted(edges.items(), key=lambda e: -abs(e[1][0]))
            if abs(w) >= edge_cut
        ],
        "total": stacks.total,
        "node_cutoff": node_cut,
        "edge_cutoff": edge_cut,
    }
