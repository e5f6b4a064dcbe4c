"""Flame graph data: a call tree (root first) of function nodes with total and self values.

The tree is shipped to the page as flat preorder rows [name, file, line, depth, total,
self, base] so that the browser can lay out 100k+ frames without a DOM node each.
Children are ordered by name, so a profile and its base line up in the same places.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from godiag.analysis.profiles import Stacks

MAX_ROWS = 400_000  # beyond this the page would be too heavy; the smallest subtrees go


@dataclass
class _Node:
    node: int
    total: int = 0
    self_: int = 0
    base: int = 0
    children: dict[int, _Node] | None = None


def _add(root: _Node, stacks: Stacks, base: bool) -> None:
    groups = stacks.table.groups
    for st, v in stacks.stacks:
        cur = root
        if base:
            cur.base += v
        else:
            cur.total += v
        for g in reversed(st):
            nodes = groups[g]
            for ni in range(len(nodes) - 1, -1, -1):
                n = nodes[ni]
                kids = cur.children
                if kids is None:
                    kids = cur.children = {}
                nxt = kids.get(n)
                if nxt is None:
                    nxt = kids[n] = _Node(n)
                if base:
                    nxt.base += v
                else:
                    nxt.total += v
                cur = nxt
        if not base:
            cur.self_ += v


def flame_rows(stacks: Stacks, base: Stacks | None = None) -> dict[str, Any]:
    """Preorder rows of the merged call tree; `base` values ride along for diff colouring."""
    root = _Node(-1)
    _add(root, stacks, False)
    if base is not None:
        _add(root, base, True)
    t = stacks.table
    names: list[str] = []
    name_ix: dict[int, int] = {}
    rows: list[list[int]] = []
    # Huge trees lose their smallest subtrees (under 1/100000 of the total) first.
    min_total = abs(root.total) // 100_000 if abs(root.total) > 100_000 else 0
    todo: list[tuple[_Node, int]] = [(root, 0)]
    while todo:
        nd, depth = todo.pop()
        if nd is not root and abs(nd.total) < min_total and abs(nd.base) < min_total:
            continue
        if nd.node < 0:
            ni = -1
        else:
            ni = name_ix.get(nd.node, -1)
            if ni < 0:
                ni = name_ix[nd.node] = len(names)
                names.append(t.names[nd.node])
        rows.append([ni, depth, nd.total, nd.self_, nd.base])
        if len(rows) >= MAX_ROWS:
            break
        if nd.children:
            kids = sorted(nd.children.values(), key=lambda c: t.names[c.node], reverse=True)
            todo.extend((k, depth + 1) for k in kids)
    node_of_name = {v: k for k, v in name_ix.items()}
    files = [t.files[node_of_name[i]] for i in range(len(names))]
    lines = [t.lines[node_of_name[i]] for i in range(len(names))]
    return {
        "names": names,
        "files": files,
        "lines": lines,
        "rows": rows,
        "truncated": len(rows) >= MAX_ROWS,
        "diff": base is not None,
    }


def folded(flame: dict[str, Any]) -> str:
    """`a;b;c N` lines (flamegraph.pl / inferno input) from the flame rows' self values."""
    names = flame["names"]
    path: list[str] = []
    out: list[str] = []
    for ni, depth, _total, self_, _base in flame["rows"]:
        if ni < 0:
            continue
        del path[depth - 1 :]
        path.append(names[ni])
        if self_:
            out.append(";".join(path) + f" {self_}")
    return "\n".join(out) + ("\n" if out else "")


def speedscope(flame: dict[str, Any], name: str, unit: str) -> dict[str, Any]:
    """A speedscope "sampled" profile: one weighted sample per distinct stack."""
    names, files, lines = flame["names"], flame["files"], flame["lines"]
    frames = [
        {"name": n, **({"file": f} if f else {}), **({"line": ln} if ln else {})}
        for n, f, ln in zip(names, files, lines, strict=True)
    ]
    samples: list[list[int]] = []
    weights: list[int] = []
    path: list[int] = []
    for ni, depth, _total, self_, _base in flame["rows"]:
        if ni < 0:
            continue
        del path[depth - 1 :]
        path.append(ni)
        if self_ > 0:
            samples.append(list(path))
            weights.append(self_)
    ss_unit = {"nanoseconds": "nanoseconds", "bytes": "bytes", "seconds": "seconds"}.get(
        unit, "none"
    )
    return {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "shared": {"frames": frames},
        "profiles": [
            {
                "type": "sampled",
                "name": name,
                "unit": ss_unit,
                "startValue": 0,
                "endValue": sum(weights),
                "samples": samples,
                "weights": weights,
            }
        ],
        "name": name,
        "exporter": "godiag",
    }
