"""What the diagnosis derives from an observation's goroutine dumps, once.

The features, every kind's locator and the document's goroutine groups read the same
groups and growth: they are computed here once per diagnosis (each dump grouped once,
where the features, the locators and the document used to group the same two dumps 16
times between them) and read as typed values; JSON is made only at the document's edge.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from godiag.analysis import sites
from godiag.analysis.goroutines import GroupGrowth, as_is, categories, group, growth
from godiag.analysis.rootcause import lockcycle
from godiag.analysis.rootcause.holder import Holder, find
from godiag.model.observation import Observation


@dataclass(frozen=True)
class Derived:
    # With two dumps (start, end): every group's growth over the window, fastest growing
    # first; with one, the end dump's groups, largest first, growth 0; else none.
    groups: tuple[GroupGrowth, ...] = ()
    # Each dump's own groups, largest first (growth 0), in the observation's order.
    dumps: tuple[tuple[GroupGrowth, ...], ...] = ()
    # Goroutines per wait category: at the start (the first dump's when there are two,
    # else empty) and at the end (the last dump's).
    start_categories: dict[str, int] = field(default_factory=dict)
    end_categories: dict[str, int] = field(default_factory=dict)
    # The end dump's total minus the start's; None without two dumps.
    total_growth: int | None = None
    # The import-path prefix of the service's own code (sites.module_prefix); None: unknown.
    prefix: str | None = None
    # The holder of the lock most goroutines of the end dump wait for (holder.find), read by
    # the features and the deadlock locator; None: none identified, or no dump.
    holder: Holder | None = None
    # A lock-order cycle among the end dump's lock waiters (lockcycle.find), its edges in
    # cycle order; empty: none.
    cycle: tuple[lockcycle.Edge, ...] = ()
    # Without such a cycle, one read by counting (lockcycle.counted); None: none.
    counted: lockcycle.Counted | None = None

    @property
    def end(self) -> tuple[GroupGrowth, ...]:
        """The last dump's groups, largest first."""
        return self.dumps[-1] if self.dumps else ()


def service_prefix(obs: Observation) -> str | None:
    """The import-path prefix of the service's own code: go_build_info's module path, else
    the one the file of its package main names (sites.main_file_prefix: daemons that export
    no go_build_info, built with -trimpath, in a GOPATH or from the module cache)."""
    prefix = sites.module_prefix(obs.build_path)
    if prefix is not None:
        return prefix
    for d in reversed(obs.dumps):
        for g in d.goroutines:
            for f in g.frames:
                if sites.is_main(f.function) and f.file:
                    return sites.main_file_prefix(f.file)
    return None


def derive(obs: Observation) -> Derived:
    """Each dump grouped once; the rest is made from those groups."""
    prefix = service_prefix(obs)
    grouped = [group(d) for d in obs.dumps]
    dumps = tuple(tuple(as_is(g)) for g in grouped)
    start = obs.dumps[0] if len(obs.dumps) == 2 else None
    held = find(obs.dumps[-1], prefix, start) if obs.dumps else None
    cycle = tuple(lockcycle.find(obs.dumps[-1], start) or ()) if obs.dumps else ()
    counted = lockcycle.counted(obs.dumps[-1], start) if obs.dumps and not cycle else None
    if len(dumps) == 2:
        return Derived(
            groups=tuple(growth(grouped[0], grouped[1])),
            dumps=dumps,
            start_categories=categories(dumps[0]),
            end_categories=categories(dumps[1]),
            total_growth=obs.dumps[1].total - obs.dumps[0].total,
            prefix=prefix,
            holder=held,
            cycle=cycle,
            counted=counted,
        )
    if dumps:
        return Derived(dumps[-1], dumps, end_categories=categories(dumps[-1]), prefix=prefix,
                       holder=held, cycle=cycle)  # fmt: skip
    return Derived(prefix=prefix)
