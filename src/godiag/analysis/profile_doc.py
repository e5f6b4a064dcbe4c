"""Build the `godiag.profile/v1` document from decoded profiles (pure: no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from godiag.analysis.profiles import NodeTable, build_stacks, subtract, top
from godiag.analysis.units import pick_unit
from godiag.errors import UsageError
from godiag.model.profile import Profile


@dataclass(frozen=True)
class ProfileQuery:
    sample_index: str | None = None
    focus: str | None = None
    ignore: str | None = None
    node_count: int | None = None
    diff_base: bool = False
    flame: bool = False
    graph: bool = False
    tree: bool = False


def _when(ns: int) -> str | None:
    if ns <= 0:
        return None
    return datetime.fromtimestamp(ns / 1e9, UTC).isoformat().replace("+00:00", "Z")


def build_document(
    profile: Profile,
    query: ProfileQuery,
    *,
    source: str,
    base: Profile | None = None,
    base_source: str | None = None,
    profile_type: str | None = None,
) -> dict[str, Any]:
    idx = profile.sample_index(query.sample_index)
    st = profile.sample_types[idx]
    table = NodeTable()
    stacks = build_stacks(profile, idx, focus=query.focus, ignore=query.ignore, table=table)
    base_stacks = None
    if base is not None:
        if [s.type for s in base.sample_types] != [s.type for s in profile.sample_types]:
            raise UsageError(
                f"{base_source}: base profile has different sample types "
                f"({', '.join(s.type for s in base.sample_types)}) than {source}"
            )
        base_stacks = build_stacks(base, idx, focus=query.focus, ignore=query.ignore, table=table)
        shown = subtract(stacks, base_stacks, diff_base=query.diff_base)
    else:
        shown = stacks
    tt = top(shown, query.node_count)
    doc: dict[str, Any] = {
        "schema": "godiag.profile/v1",
        "source": source,
        "profile_type": profile_type or profile.profile_type,
        "format": profile.format,
        "sample_type": {"type": st.type, "unit": st.unit},
        "sample_types": [{"type": s.type, "unit": s.unit} for s in profile.sample_types],
        "total": tt.total,
        "time": _when(profile.time_nanos),
        "duration_nanos": profile.duration_nanos,
        "period": profile.period,
        "samples": len(profile.samples),
        "options": {
            "sample_index": st.type,
            "focus": query.focus,
            "ignore": query.ignore,
            "node_count": query.node_count,
        },
        "display": dict(zip(("suffix", "div"), pick_unit(st.unit, tt.total), strict=True)),
        "nodes_total": tt.nodes_total,
        "dropped_nodes": tt.dropped_nodes,
        "cutoff": tt.cutoff,
        "top": [
            {
                "function": r.function,
                "file": r.file,
                "line": r.line,
                "flat": r.flat,
                "cum": r.cum,
                **({"inline": r.inline} if r.inline else {}),
            }
            for r in tt.rows
        ],
    }
    if base is not None:
        doc["base"] = {
            "source": base_source,
            "mode": "diff_base" if query.diff_base else "base",
            "time": _when(base.time_nanos),
        }
        dt = (profile.time_nanos - base.time_nanos) / 1e9
        if dt > 0:
            # Two absolute snapshots: growth per second makes captures of different
            # spacing comparable (heap?seconds= deltas are not used: their inuse is wrong).
            growth = sum(v for _, v in shown.stacks)
            doc["growth"] = {
                "seconds": dt,
                "delta": growth,
                "per_second": growth / dt,
                "top": [
                    {"function": r.function, "delta": r.flat, "per_second": r.flat / dt}
                    for r in sorted(tt.rows, key=lambda r: -r.flat)[:10]
                ],
            }
    if query.flame or query.tree:
        from godiag.analysis.flame import flame_rows

        flame = (
            flame_rows(stacks, base_stacks) if base_stacks is not None else flame_rows(stacks)
        )
        if query.flame:
            doc["flame"] = flame
        if query.tree:
            doc["tree"] = _tree(flame, tt.total)
    if query.graph:
        from godiag.analysis.callgraph import call_graph

        doc["graph"] = call_graph(shown)
    return doc


def _tree(flame: dict[str, Any], total: int, min_fraction: float = 0.01) -> list[dict[str, Any]]:
    """The call tree's heavy branches (cum >= 1% of the total), root first, for text views."""
    out: list[dict[str, Any]] = []
    cut = abs(total) * min_fraction
    skip_below: int | None = None
    for ni, depth, tot, self_, _base in flame["rows"]:
        if ni < 0:
            continue
        if skip_below is not None:
            if depth > skip_below:
                continue
            skip_below = None
        if abs(tot) < cut:
            skip_below = depth
            continue
        out.append({"function": flame["names"][ni], "depth": depth - 1, "cum": tot, "flat": self_})
    return out
