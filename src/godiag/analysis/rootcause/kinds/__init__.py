"""The fault kinds of `godiag diagnose`: one module per kind, registered here in catalog order.

`KINDS` keeps catalog order (docs/contracts.md, the schema's enum, the evaluation's tables).
Everything the diagnosis does differently per kind comes from its `Kind` record: the model's
classes, the rule-outs, the locators, the titles, the host-load check and the static
corroboration. The unit tests compare the schema, the docs and the shipped model with this
table, so a kind added here and forgotten there fails in tests, not at run time.
"""

from __future__ import annotations

from typing import Any

from godiag.analysis.rootcause.kinds import (
    connection_leak,
    cpu_saturation,
    deadlock,
    gc_pressure,
    goroutine_leak,
    healthy,
    lock_contention,
    memory_leak,
)
from godiag.analysis.rootcause.kinds.base import Features, Kind

KINDS: dict[str, Kind] = {
    k.id: k
    for k in (
        goroutine_leak.KIND,
        lock_contention.KIND,
        deadlock.KIND,
        memory_leak.KIND,
        cpu_saturation.KIND,
        gc_pressure.KIND,
        connection_leak.KIND,
        healthy.KIND,
    )
}
IDS: tuple[str, ...] = tuple(KINDS)


def title(kind: str, feats: Features, loc: dict[str, Any] | None) -> str:
    """The cause's one-line title, naming the function it points to when it has one."""
    return KINDS[kind].title(feats, f" in {loc['function']}" if loc else "")


def unsupported(kind: str, feats: Features) -> str | None:
    """Why the kind's own evidence is missing from these features (None: it is there)."""
    check = KINDS[kind].unsupported
    return check(feats) if check is not None else None


def doubt(kind: str, feats: Features) -> str | None:
    """Why the kind's evidence, though there, does not tell it from normal work (None: it
    does)."""
    check = KINDS[kind].doubt
    return check(feats) if check is not None else None


def explains() -> dict[str, frozenset[str]]:
    """Static analyzer id -> the kinds its findings explain."""
    out: dict[str, set[str]] = {}
    for k in KINDS.values():
        for analyzer in k.explained_by:
            out.setdefault(analyzer, set()).add(k.id)
    return {a: frozenset(ids) for a, ids in sorted(out.items())}


__all__ = ["IDS", "KINDS", "Kind", "explains", "title"]
