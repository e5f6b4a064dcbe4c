"""Where fault kinds point in the code: what the kinds' locators share, and `locate_all`.

Each kind's locator lives in its module under `kinds/` (its docstring says which evidence
it reads). A locator returns a location dict (function, file, line) plus evidence lines,
or None. A site is the first frame from the leaf in the service's own code (`sites.pick`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from godiag.analysis import sites
from godiag.analysis.goroutine_rules import BLOCKED
from godiag.analysis.goroutines import GroupGrowth
from godiag.analysis.rootcause.derived import Derived, derive
from godiag.model.goroutine import CreatedBy, Frame
from godiag.model.observation import Observation

Located = tuple[dict[str, Any] | None, list[str]]
# The observation type the locators read, named once here so that the kinds' modules follow
# it wherever it is defined.
Observed = Observation
# A locator reads the observation and what was derived from it once (groups, growth, the
# module prefix) for all of them.
Locator = Callable[[Observed, Derived], Located]


def loc(site: sites.Site | Frame | CreatedBy | None) -> dict[str, Any] | None:
    if site is None:
        return None
    if isinstance(site, Frame | CreatedBy):
        return {"function": site.function, "file": site.file, "line": site.line}
    return {"function": site[0], "file": site[1], "line": site[2]}


def where(at: dict[str, Any] | None) -> str:
    return "?" if at is None else f"{at['function']} ({at['file']}:{at['line']})"


def group_where(g: GroupGrowth, at: dict[str, Any] | None) -> str:
    """`where` for a goroutine group located at `at`: a group with no frame of the
    service's code (a connection's own loops) is named by its innermost frame, not "?"."""
    if at is not None or not g.frames:
        return where(at)
    return f"{g.frames[0].function}, with no frame of the service's code"


def observing(g: GroupGrowth, prefix: str | None) -> bool:
    """Whether a group's goroutines serve the observer (sites.observing)."""
    return sites.observing([(f.function, f.file, f.line) for f in g.frames], prefix)


def blocked_groups(derived: Derived) -> list[GroupGrowth]:
    """The groups with goroutines blocked on a channel, lock or select, the observer's own
    left out: what the leak and deadlock locators choose from. An HTTP client's
    connection loops are left out too: blocked by design while a connection is open, they
    are a connection leak's evidence (its own locator's), never a deadlock's waiters or the
    code that leaks ("216 goroutines blocked on select in persistConn.writeLoop, with no
    frame of the service's code" was a deadlock's evidence)."""
    return [
        g
        for g in derived.groups
        if g.category in BLOCKED
        and g.count > 0
        and not observing(g, derived.prefix)
        and not any(f.function.startswith(sites.HTTP_CONN_LOOPS) for f in g.frames)
    ]


def lock_waits_elsewhere(
    groups: list[GroupGrowth], skip: set[str], prefix: str | None
) -> list[str]:
    """Where the lock-waiting groups of `groups` wait, outside the functions `skip` (a
    holder's and its waiters'): the far side of a lock-order inversion may be one of them."""
    users = [u for g in groups if g.category == "lock" and (u := user(g, prefix))]
    return sorted({where(u) for u in users if u.get("function") not in skip})


def user(g: GroupGrowth, prefix: str | None) -> dict[str, Any] | None:
    frames = [(f.function, f.file, f.line) for f in g.frames]
    return loc(sites.pick(frames, prefix)) or loc(g.user_frame)


def dump_sites(
    obs: Observed,
    prefix: str | None,
    keep: Callable[[Any, list[sites.Site]], bool],
    chooser: Callable[[list[sites.Site], str | None], sites.Site | None] = sites.pick,
) -> dict[sites.Site, int]:
    """Goroutines of both dumps that `keep(goroutine, frames)` accepts, by chosen site;
    never the goroutines serving the observer (sites.observing)."""
    out: dict[sites.Site, int] = {}
    for d in obs.dumps:
        for g in d.goroutines:
            frames = [(f.function, f.file, f.line) for f in g.frames]
            wanted = not sites.observing(frames, prefix) and keep(g, frames)
            site = chooser(frames, prefix) if wanted else None
            if site is not None:
                out[site] = out.get(site, 0) + g.count
    return out


def locate_all(obs: Observed, derived: Derived | None = None) -> dict[str, Located]:
    """Every kind's location and evidence, for the kinds that point somewhere."""
    from godiag.analysis.rootcause.kinds import KINDS

    if derived is None:
        derived = derive(obs)
    out: dict[str, Located] = {}
    for kind in KINDS.values():
        if kind.locate is None:
            continue
        try:
            out[kind.id] = kind.locate(obs, derived)
        except (KeyError, ValueError, IndexError) as exc:  # partial data: no location
            out[kind.id] = (None, [f"no location: {type(exc).__name__}"])
    return out
