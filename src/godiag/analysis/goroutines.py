"""Goroutine analysis: groups of identical stacks, categories, suspects, and diffs.

Pure functions from `Dump` to the `godiag.goroutines/v1` document (docs/contracts.md);
which groups are suspects is goroutine_suspects.py's registry of rules.
A group is every goroutine with the same state and the same frames (function, file,
line); arguments and ids do not matter. `count` is always exact; `ids` is capped.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

from godiag.analysis.goroutine_rules import BLOCKED, category, is_stdlib, user_frame
from godiag.analysis.goroutine_suspects import suspects
from godiag.model.goroutine import CreatedBy, Dump, Frame, Goroutine

SCHEMA = "godiag.goroutines/v1"
MAX_IDS = 100

Sig = tuple[str, tuple[tuple[str, str, int], ...]]


@dataclass
class Group:
    state: str
    frames: tuple[Frame, ...]
    count: int = 0
    ids: list[int] = field(default_factory=list)
    min_wait: int | None = None
    max_wait: int = 0
    created_by: CreatedBy | None = None
    locked: int = 0
    leaked: int = 0
    elided: bool = False
    labels: dict[str, set[str]] = field(default_factory=dict)


def group(dump: Dump) -> dict[Sig, Group]:
    """Group goroutines by (state, frames' function/file/line), in first-seen order."""
    sig_of: dict[int, tuple[tuple[str, str, int], ...]] = {}
    groups: dict[Sig, Group] = {}
    for g in dump.goroutines:
        fsig = sig_of.get(id(g.frames))
        if fsig is None:
            fsig = tuple((f.function, f.file, f.line) for f in g.frames)
            sig_of[id(g.frames)] = fsig
        key = (g.state, fsig)
        grp = groups.get(key)
        if grp is None:
            grp = groups[key] = Group(g.state, g.frames, created_by=g.created_by)
        _add(grp, g)
    return groups


def _add(grp: Group, g: Goroutine) -> None:
    grp.count += g.count
    if g.id is not None and len(grp.ids) < MAX_IDS:
        grp.ids.append(g.id)
    w = g.wait_minutes
    if grp.min_wait is None or w < grp.min_wait:
        grp.min_wait = w
    if w > grp.max_wait:
        grp.max_wait = w
    if g.locked_to_thread:
        grp.locked += g.count
    if g.leaked:
        grp.leaked += g.count
    if g.frames_elided:
        grp.elided = True
    for k, v in g.labels:
        grp.labels.setdefault(k, set()).add(v)


def signature(key: Sig) -> str:
    """A short stable id of a group's stack, the same across dumps."""
    text = (key[0] + "\n" + "\n".join(f"{f} {p}:{n}" for f, p, n in key[1])).encode()
    # two CRCs rather than hashlib: importing OpenSSL costs more than a whole 10k parse
    return f"{zlib.crc32(text):08x}{zlib.crc32(text, 0x9E3779B9):08x}"


def _loc(fn: str, file: str, line: int) -> dict[str, Any]:
    return {"function": fn, "file": file, "line": line}


def _group_doc(key: Sig, grp: Group) -> dict[str, Any]:
    uf = user_frame(grp.frames)
    cb = grp.created_by
    return {
        "signature": signature(key),
        "count": grp.count,
        "state": grp.state,
        "category": category(grp.state, grp.frames),
        "wait_minutes": {"min": grp.min_wait or 0, "max": grp.max_wait},
        "frames": [
            {**_loc(f.function, f.file, f.line), "stdlib": is_stdlib(f.function)}
            for f in grp.frames
        ],
        "frames_elided": grp.elided,
        "user_frame": None if uf is None else _loc(uf.function, uf.file, uf.line),
        "created_by": None if cb is None else _loc(cb.function, cb.file, cb.line),
        "ids": sorted(grp.ids),
        "locked_to_thread": grp.locked,
        "leaked": grp.leaked,
        "labels": {k: sorted(v) for k, v in sorted(grp.labels.items())},
    }


_PRIORITY = {c: i for i, c in enumerate(BLOCKED)}


def _harness(g: dict[str, Any]) -> bool:
    """The test binary's own main (`main.main` of _testmain.go): in every test's dump,
    never the answer, so it goes after the test's goroutines."""
    uf = g["user_frame"]
    return uf is not None and str(uf["file"]).endswith("_testmain.go")


def _order(doc_groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(
        doc_groups,
        key=lambda g: (_harness(g), -g["count"], _PRIORITY.get(g["category"], 9)),
    )


def _categories(groups: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for g in groups:
        out[g["category"]] = out.get(g["category"], 0) + g["count"]
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def _base(dump: Dump, source: str) -> dict[str, Any]:
    warnings = list(dump.warnings)
    if dump.format == "debug1":
        warnings.append(
            "debug=1 records carry no goroutine state: categories are inferred from frames"
        )
    return {
        "schema": SCHEMA,
        "source": source,
        "format": dump.format,
        "total": dump.total,
        "header": list(dump.header),
        "warnings": warnings,
        "errors": [{"line": e.line, "message": e.message} for e in dump.errors],
    }


def analyze(dump: Dump, source: str) -> dict[str, Any]:
    """The `godiag.goroutines/v1` document of one dump."""
    groups = _order([_group_doc(k, g) for k, g in group(dump).items()])
    doc = _base(dump, source)
    doc["categories"] = _categories(groups)
    doc["groups"] = groups
    doc["suspects"] = suspects(groups, dump.header)
    return doc


def diff(before: Dump, after: Dump, source: str) -> dict[str, Any]:
    """Per-group growth from `before` to `after`, matched by stack signature."""
    old = {k: g.count for k, g in group(before).items()}
    new = group(after)
    docs: list[dict[str, Any]] = []
    for key, grp in new.items():
        d = _group_doc(key, grp)
        d["before"] = old.get(key, 0)
        d["growth"] = grp.count - d["before"]
        docs.append(d)
    for key, g in group(before).items():
        if key not in new:
            d = _group_doc(key, g)
            d["before"], d["count"], d["growth"], d["ids"] = g.count, 0, -g.count, []
            docs.append(d)
    docs.sort(key=lambda g: (-g["growth"], -g["count"], _PRIORITY.get(g["category"], 9)))
    doc = _base(after, source)
    doc["categories"] = _categories(docs)
    doc["groups"] = docs
    doc["suspects"] = suspects(docs, after.header)
    doc["diff"] = {
        "before": {"total": before.total, "format": before.format},
        "after": {"total": after.total, "format": after.format},
        "growth": after.total - before.total,
    }
    return doc
