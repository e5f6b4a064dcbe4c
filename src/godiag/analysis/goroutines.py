"""Goroutine analysis: groups of identical stacks, categories, suspects, and diffs.

Pure functions from `Dump` to the `godiag.goroutines/v1` document (docs/contracts.md);
which groups are suspects is goroutine_suspects.py's registry of rules. The groups are
typed first (`GroupGrowth`, by `as_is` for one dump and `growth` for two), which the
diagnosis reads as they are; `group_doc` makes the document's JSON of one.
A group is every goroutine with the same state and the same frames (function, file,
line); arguments and ids do not matter. `count` is always exact; `ids` is capped.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
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
    # goroutines by their wait in whole minutes (0: under a minute, as the runtime prints
    # none): when they parked, which tells goroutines that arrived one by one over minutes
    # from a pool started at once
    waits: dict[int, int] = field(default_factory=dict)


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
    grp.waits[w] = grp.waits.get(w, 0) + g.count
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


def ids(d: Dump, key: Sig | None = None) -> set[int] | None:
    """The ids of a dump's goroutines with stack `key` (every goroutine's with None): which
    of them are still there in a later dump. None when one of them has no id (debug=1)."""
    out: set[int] = set()
    for g in d.goroutines:
        if key is None or (g.state, tuple((f.function, f.file, f.line) for f in g.frames)) == key:
            if g.id is None:
                return None
            out.add(g.id)
    return out


def signature(key: Sig) -> str:
    """A short stable id of a group's stack, the same across dumps."""
    text = (key[0] + "\n" + "\n".join(f"{f} {p}:{n}" for f, p, n in key[1])).encode()
    # two CRCs rather than hashlib: importing OpenSSL costs more than a whole 10k parse
    return f"{zlib.crc32(text):08x}{zlib.crc32(text, 0x9E3779B9):08x}"


@dataclass(frozen=True)
class GroupGrowth:
    """A group of identical stacks and how many more of them `after` has than `before`.

    What the diagnosis reads (its locators and features) and what the documents are made
    of. A group only in `before` has count 0 and no ids; with one dump (`as_is`) nothing
    is known of a change: before is the count and growth 0.
    """

    key: Sig
    group: Group  # the `after` dump's group, or the `before` one's when it is gone
    signature: str
    state: str
    category: str
    count: int
    before: int
    growth: int
    frames: tuple[Frame, ...]
    user_frame: Frame | None
    created_by: CreatedBy | None
    wait_min: int
    wait_max: int
    ids: tuple[int, ...]  # sorted, capped at MAX_IDS


def _grown(key: Sig, grp: Group, count: int, before: int, gone: bool = False) -> GroupGrowth:
    return GroupGrowth(
        key=key,
        group=grp,
        signature=signature(key),
        state=grp.state,
        category=category(grp.state, grp.frames),
        count=count,
        before=before,
        growth=count - before,
        frames=grp.frames,
        user_frame=user_frame(grp.frames),
        created_by=grp.created_by,
        wait_min=grp.min_wait or 0,
        wait_max=grp.max_wait,
        ids=() if gone else tuple(sorted(grp.ids)),
    )


_PRIORITY = {c: i for i, c in enumerate(BLOCKED)}


def _harness(g: GroupGrowth) -> bool:
    """The test binary's own main (`main.main` of _testmain.go): in every test's dump,
    never the answer, so it goes after the test's goroutines."""
    return g.user_frame is not None and g.user_frame.file.endswith("_testmain.go")


def as_is(groups: dict[Sig, Group]) -> list[GroupGrowth]:
    """One dump's groups (from `group`), largest first, growth 0."""
    out = [_grown(k, g, g.count, g.count) for k, g in groups.items()]
    return sorted(out, key=lambda g: (_harness(g), -g.count, _PRIORITY.get(g.category, 9)))


def growth(before: dict[Sig, Group], after: dict[Sig, Group]) -> list[GroupGrowth]:
    """Per-group growth between two dumps' groups (from `group`), matched by stack, fastest
    growing first; the groups gone since `before` are kept with count 0."""
    out = [_grown(k, g, g.count, before[k].count if k in before else 0) for k, g in after.items()]
    out += [_grown(k, g, 0, g.count, gone=True) for k, g in before.items() if k not in after]
    return sorted(out, key=lambda g: (-g.growth, -g.count, _PRIORITY.get(g.category, 9)))


def categories(groups: Iterable[GroupGrowth]) -> dict[str, int]:
    """Goroutines per wait category, most first."""
    out: dict[str, int] = {}
    for g in groups:
        out[g.category] = out.get(g.category, 0) + g.count
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def _loc(fn: str, file: str, line: int) -> dict[str, Any]:
    return {"function": fn, "file": file, "line": line}


def group_doc(g: GroupGrowth, diffed: bool = False) -> dict[str, Any]:
    """A group as the `godiag.goroutines/v1` document has it (with before and growth in a
    diff's)."""
    uf, cb, grp = g.user_frame, g.created_by, g.group
    doc = {
        "signature": g.signature,
        "count": g.count,
        "state": g.state,
        "category": g.category,
        "wait_minutes": {"min": g.wait_min, "max": g.wait_max},
        "frames": [
            {**_loc(f.function, f.file, f.line), "stdlib": is_stdlib(f.function)} for f in g.frames
        ],
        "frames_elided": grp.elided,
        "user_frame": None if uf is None else _loc(uf.function, uf.file, uf.line),
        "created_by": None if cb is None else _loc(cb.function, cb.file, cb.line),
        "ids": list(g.ids),
        "locked_to_thread": grp.locked,
        "leaked": grp.leaked,
        "labels": {k: sorted(v) for k, v in sorted(grp.labels.items())},
    }
    if diffed:
        doc["before"], doc["growth"] = g.before, g.growth
    return doc


def _base(dump: Dump, source: str) -> dict[str, Any]:
    warnings = list(dump.warnings)
    if dump.format in ("debug1", "proto"):
        form = "debug=1" if dump.format == "debug1" else "proto (debug=0)"
        warnings.append(
            f"{form} records carry no goroutine state: categories are inferred from frames"
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
    groups = as_is(group(dump))
    doc = _base(dump, source)
    doc["categories"] = categories(groups)
    doc["groups"] = docs = [group_doc(g) for g in groups]
    doc["suspects"] = suspects(docs, dump.header)
    return doc


def diff(before: Dump, after: Dump, source: str) -> dict[str, Any]:
    """Per-group growth from `before` to `after`, matched by stack signature."""
    groups = growth(group(before), group(after))
    doc = _base(after, source)
    doc["categories"] = categories(groups)
    doc["groups"] = docs = [group_doc(g, diffed=True) for g in groups]
    doc["suspects"] = suspects(docs, after.header)
    doc["diff"] = {
        "before": {"total": before.total, "format": before.format},
        "after": {"total": after.total, "format": after.format},
        "growth": after.total - before.total,
    }
    return doc
