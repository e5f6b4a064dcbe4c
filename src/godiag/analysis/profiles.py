"""Profile analysis with go tool pprof's semantics, so numbers match `go tool pprof -top`.

The steps mirror pprof's driver and graph builder:
- drop_frames/keep_frames prune stacks (pprof's Profile.Prune);
- the total for percentages is taken before -focus/-ignore (pprof delays focus);
- nodes are functions (name + file), every inlined frame is its own node;
- cum counts a node once per sample, flat goes to the leaf frame;
- nodes whose |cum| is below nodefraction (0.5%) of the summed flat are dropped,
  then the first `nodecount` nodes by (|flat| desc, name, |cum| desc) are shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from godiag.errors import UsageError
from godiag.model.profile import Location, Profile

NODE_FRACTION = 0.005
EDGE_FRACTION = 0.001

# A stack is leaf-first frame-group ids (one per location); it carries one value.
Stack = tuple[int, ...]


@dataclass
class NodeTable:
    """Interned function nodes shared by a profile and its base (for diffs)."""

    names: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    # Keyed by name alone, as pprof's default (function) granularity clears file names:
    # a profile and its base from builds with another GOROOT or -trimpath hold the same
    # function under two paths, and must give one node, not two (the extra half-nodes made
    # "Dropped N nodes … out of M" disagree with pprof). The first file seen is shown.
    index: dict[str, int] = field(default_factory=dict)
    # A "frame group" is one location's nodes, inlined callee first: interned so that
    # stacks of a profile and of its base compare equal when their functions do.
    groups: list[tuple[int, ...]] = field(default_factory=list)
    group_index: dict[tuple[int, ...], int] = field(default_factory=dict)

    def group(self, nodes: tuple[int, ...]) -> int:
        g = self.group_index.get(nodes)
        if g is None:
            g = len(self.groups)
            self.group_index[nodes] = g
            self.groups.append(nodes)
        return g

    def intern(self, name: str, file: str, line: int) -> int:
        i = self.index.get(name)
        if i is None:
            i = len(self.names)
            self.index[name] = i
            self.names.append(name)
            self.files.append(file)
            self.lines.append(line)
        return i


@dataclass
class Stacks:
    """Samples reduced to node stacks and one value each, plus what pprof needs besides."""

    table: NodeTable
    stacks: list[tuple[Stack, int]]
    total: int  # sum of |value| before focus/ignore, as pprof's percentages use


def _compile(pattern: str | None, what: str) -> re.Pattern[str] | None:
    """pprof compiles -focus/-ignore with Go's regexp (RE2): the same pattern must match
    the same names here, and what RE2 refuses is refused."""
    from godiag.analysis.re2 import Re2Error, compile_re2

    if not pattern:
        return None
    try:
        return compile_re2(pattern)
    except Re2Error as exc:
        raise UsageError(
            f"--{what} {pattern!r}: {exc} (patterns are RE2, Go's regexp syntax, as for "
            f"pprof's -{what})"
        ) from None


def _simplify(name: str) -> str:
    # pprof matches drop_frames against names without C++ parameter lists.
    i = name.find("(")
    return name[:i] if i > 0 and name.endswith(")") and not name.startswith("(") else name


def _prune(profile: Profile) -> dict[int, tuple[int, bool]] | None:
    """Per location id: (lines to keep from, prune whole location) like Profile.Prune."""
    if not profile.drop_frames:
        return None
    drop = _compile(f"^(?:{profile.drop_frames})$", "drop_frames")
    keep = _compile(f"^(?:{profile.keep_frames})$", "keep_frames") if profile.keep_frames else None
    assert drop is not None
    out: dict[int, tuple[int, bool]] = {}
    for loc in profile.locations:
        n = len(loc.lines)
        for i in range(n - 1, -1, -1):
            fn = loc.lines[i].function
            if fn is not None and fn.name:
                simple = _simplify(fn.name)
                if drop.match(simple) and (keep is None or not keep.match(simple)):
                    out[loc.id] = (i + 1, i == n - 1)
                    break
    return out


def _apply_prune(
    locs: tuple[Location, ...], pruned: dict[int, tuple[int, bool]]
) -> tuple[Location, ...]:
    # Scan from the root; frames before the first user frame are never pruned.
    found_user = False
    for i in range(len(locs) - 1, -1, -1):
        p = pruned.get(locs[i].id)
        if p is None:
            found_user = True
            continue
        if not found_user:
            continue
        return locs[i + 1 :] if p[1] else locs[i:]
    return locs


def build_stacks(
    profile: Profile,
    sample_index: str | int | None = None,
    *,
    focus: str | None = None,
    ignore: str | None = None,
    table: NodeTable | None = None,
    sign: int = 1,
) -> Stacks:
    idx = profile.sample_index(sample_index)
    table = table or NodeTable()
    focus_re, ignore_re = _compile(focus, "focus"), _compile(ignore, "ignore")
    pruned = _prune(profile)

    loc_group: dict[Location, int] = {}
    trimmed_lines: dict[int, int] = {k: v[0] for k, v in (pruned or {}).items() if not v[1]}
    for loc in profile.locations:
        lines = loc.lines[trimmed_lines.get(loc.id, 0) :]
        ids = []
        # Unsymbolized frames collapse per object file, as pprof's function
        # granularity (which zeroes addresses) shows them.
        obj = loc.mapping.filename if loc.mapping else ""
        unknown = f"[{obj.rsplit('/', 1)[-1]}]" if obj else "<unknown>"
        for ln in lines:
            fn = ln.function
            if fn is None or not fn.name:
                ids.append(table.intern(unknown, "", 0))
            else:
                ids.append(table.intern(fn.name, fn.filename, fn.start_line or ln.line))
        if not lines:
            ids.append(table.intern(unknown, "", 0))
        loc_group[loc] = table.group(tuple(ids))

    def matches(rx: re.Pattern[str], loc: Location) -> bool:
        for ln in loc.lines:
            fn = ln.function
            if fn is not None and (rx.search(fn.name) or rx.search(fn.filename)):
                return True
        return False

    focus_hit = {loc for loc in profile.locations if focus_re and matches(focus_re, loc)}
    ignore_hit = {loc for loc in profile.locations if ignore_re and matches(ignore_re, loc)}

    total = 0
    group_of = loc_group.__getitem__
    stacks: list[tuple[Stack, int]] = []
    for smp in profile.samples:
        v = smp.values[idx] * sign
        if v == 0:
            continue
        total += abs(v)
        locs = smp.locations
        if pruned:
            locs = _apply_prune(locs, pruned)
        if focus_re is not None and focus_hit.isdisjoint(locs):
            continue
        if ignore_re is not None and not ignore_hit.isdisjoint(locs):
            continue
        stacks.append((tuple(map(group_of, locs)), v))
    return Stacks(table, stacks, total)


def subtract(a: Stacks, base: Stacks, *, diff_base: bool = False) -> Stacks:
    """pprof -base (base subtracted, total of the merge) or -diff_base (total of the base)."""
    merged: dict[Stack, int] = {}
    for st, v in a.stacks:
        merged[st] = merged.get(st, 0) + v
    for st, v in base.stacks:
        merged[st] = merged.get(st, 0) - v
    stacks = [(st, v) for st, v in merged.items() if v != 0]
    total = base.total if diff_base else sum(abs(v) for _, v in stacks)
    return Stacks(a.table, stacks, total)


@dataclass(frozen=True)
class TopRow:
    node: int
    function: str
    file: str
    line: int
    flat: int
    cum: int
    inline: str  # "", "inline" or "partial-inline"


@dataclass(frozen=True)
class TopTable:
    rows: tuple[TopRow, ...]
    total: int
    nodes_total: int  # nodes left after the nodefraction cut
    dropped_nodes: int
    cutoff: int
    flat: dict[int, int] = field(default_factory=dict, compare=False)
    cum: dict[int, int] = field(default_factory=dict, compare=False)


def flat_cum(stacks: Stacks) -> tuple[dict[int, int], dict[int, int]]:
    """Flat (leaf frame) and cum (every frame once per sample) per node.

    Samples are bucketed by value so the per-frame counting runs in Counter's C loop:
    CPU profiles have few distinct values (multiples of the sampling period).
    """
    from collections import Counter
    from itertools import chain

    groups = stacks.table.groups
    single = [g[0] if len(g) == 1 else -1 for g in groups]
    flat: dict[int, int] = {}
    by_value: dict[int, list[Stack]] = {}
    fget = flat.get
    for st, v in stacks.stacks:
        if not st:
            continue
        leaf = groups[st[0]][0]
        flat[leaf] = fget(leaf, 0) + v
        lst = by_value.get(v)
        if lst is None:
            by_value[v] = [st]
        else:
            lst.append(st)

    def frames(st: Stack) -> set[int]:
        ids = [single[g] for g in st]
        if -1 in ids:
            out: set[int] = set()
            for g in st:
                out.update(groups[g])
            return out
        return set(ids)

    cum: dict[int, int] = {}
    cget = cum.get
    for v, sts in by_value.items():
        counts = Counter(chain.from_iterable(map(frames, sts)))
        for n, c in counts.items():
            cum[n] = cget(n, 0) + c * v
    return flat, cum


def _stacks_touching(stacks: Stacks, kept: set[int], only_inline: bool) -> list[tuple[Stack, int]]:
    """The samples whose edges can matter; all of them unless only inline marks are wanted."""
    if not only_inline:
        return stacks.stacks
    # Only a node that is some location's inlined (non-last) line can get an inline mark;
    # every edge into such a node lies on a sample passing through it.
    groups = stacks.table.groups
    capable = {n for g in groups if len(g) > 1 for n in g[:-1] if n in kept}
    hot = {i for i, g in enumerate(groups) if not capable.isdisjoint(g)}
    if not hot:
        return []
    return [(st, v) for st, v in stacks.stacks if not hot.isdisjoint(st)]


def graph_edges(
    stacks: Stacks, kept: set[int], only_inline: bool = False
) -> dict[tuple[int, int], list[int]]:
    """Edges (caller, callee) -> [weight, inlined] of the graph of kept nodes only.

    Dropped nodes in between leave a "residual" edge. An edge is inlined when the
    callee is not the last line of its location, and stays so only if every
    occurrence is (pprof's AddToEdgeDiv); each edge counts once per sample.
    """
    groups = stacks.table.groups
    edges: dict[tuple[int, int], list[int]] = {}
    for st, v in _stacks_touching(stacks, kept, only_inline):
        seen: set[tuple[int, int]] = set()
        parent = -1
        for g in reversed(st):
            nodes = groups[g]
            last = len(nodes) - 1
            for ni in range(last, -1, -1):
                n = nodes[ni]
                if n not in kept:
                    continue
                if parent >= 0 and n != parent:
                    key = (parent, n)
                    e = edges.get(key)
                    if e is None:
                        edges[key] = [v, int(ni != last)]
                    else:
                        if key not in seen:
                            e[0] += v
                        if ni == last:
                            e[1] = 0
                    seen.add(key)
                parent = n
    return edges


def inline_labels(edges: dict[tuple[int, int], list[int]], cutoff: int) -> dict[int, str]:
    """pprof's "(inline)" marks, from the in-edges left after the edge-fraction cut."""
    inl: set[int] = set()
    call: set[int] = set()
    for (_, n), (w, inline) in edges.items():
        if abs(w) < cutoff:
            continue
        (inl if inline else call).add(n)
    return {n: ("partial-inline" if n in call else "inline") for n in inl}


def top(
    stacks: Stacks,
    node_count: int | None = None,
    *,
    node_fraction: float = NODE_FRACTION,
    cum_sort: bool = False,
) -> TopTable:
    t = stacks.table
    flat, cum = flat_cum(stacks)
    for n in cum:
        flat.setdefault(n, 0)
    # pprof trims at a fraction of the net flat sum, but its legend ("Dropped N nodes
    # (cum <= X)") prints the fraction of the report total (the base's with -diff_base);
    # the table keeps pprof's printed value.
    flat_sum = sum(flat.values())
    cut = abs(int(flat_sum * node_fraction))
    cutoff = abs(int(stacks.total * node_fraction))
    # A node whose flat and cum both net to zero (it is on stacks of the profile and of
    # its base with equal weight) is no node at all for pprof, dropped or shown.
    nodes = [n for n, c in cum.items() if c or flat[n]]
    kept = [n for n in nodes if abs(cum[n]) >= cut] if cut > 0 else nodes
    dropped = len(nodes) - len(kept)
    if cum_sort:
        kept.sort(key=lambda n: (-abs(cum[n]), t.names[n], -abs(flat[n]), t.files[n]))
    else:
        kept.sort(key=lambda n: (-abs(flat[n]), t.names[n], -abs(cum[n]), t.files[n]))
    chosen = kept[:node_count] if node_count and node_count > 0 else kept
    edge_cutoff = abs(int(flat_sum * EDGE_FRACTION))
    labels = inline_labels(graph_edges(stacks, set(chosen), only_inline=True), edge_cutoff)
    rows = [
        TopRow(n, t.names[n], t.files[n], t.lines[n], flat[n], cum[n], labels.get(n, ""))
        for n in chosen
    ]
    return TopTable(tuple(rows), stacks.total, len(kept), dropped, cutoff, flat, cum)
