"""Rule 12: senders left behind, goroutines blocked sending to a receiver that has returned.

The commonest goroutine leak in Go: a function starts a goroutine to do work and send the
result on a channel, then stops waiting for it (a timeout, the first of several results,
an error) and returns; the send then blocks for ever. A dump shows it without any history:
the sender is blocked on `chan send` in the service's own code, and the goroutine that
created it (`created by F in goroutine N`, Go 1.21+) is gone from the dump or runs no
longer in F, the function that made the channel and was to receive. A pipeline's producer
waiting on a slow consumer is blocked on a send too, but there is one per stage, started
once; a leak leaves one per call. So the rule asks for ORPHANS_MIN of one group, stuck at
the same line across the window (by goroutine id, when the start dump has ids).

It cannot see where the channel went: a creator that handed it to another receiver before
returning looks the same. So it points at goroutine-leak without deciding (`leads`), and
only against a "healthy" top: the window alone (rule 9's and 11's measure).
"""

from __future__ import annotations

from dataclasses import dataclass

from godiag.analysis import sites
from godiag.analysis.rootcause import locate
from godiag.model.goroutine import Dump, Goroutine
from godiag.model.observation import Observation
from godiag.words import many

# goroutines of one group, left behind: a burst of a few senders between a creator's
# select and its return is not a pile
ORPHANS_MIN = 5


@dataclass(frozen=True)
class Orphans:
    count: int  # senders at that line whose creator left, stuck across the window
    site: dict[str, object]  # their user frame
    creator: str  # the function that started them and no longer runs

    @property
    def line(self) -> str:
        return (f"{many(self.count, 'goroutine', ',')} blocked sending in "
                f"{locate.where(self.site)}, "
                f"started by {self.creator}, which no longer runs in the goroutines that "
                f"started them (gone, or returned from it): the receiver is gone, and they "
                f"were there at both ends of the window")  # fmt: skip


def _left(g: Goroutine, byid: dict[int, Goroutine]) -> bool:
    """The goroutine's creator is gone, or runs its creating function no longer."""
    if g.created_by is None or g.created_by_goroutine is None:
        return False
    parent = byid.get(g.created_by_goroutine)
    return parent is None or all(f.function != g.created_by.function for f in parent.frames)


def _sender_site(g: Goroutine, prefix: str | None) -> sites.Site | None:
    if g.state != "chan send":
        return None
    return sites.pick([(f.function, f.file, f.line) for f in g.frames], prefix)


def _ids_at(d: Dump, site: sites.Site, prefix: str | None) -> set[int]:
    return {g.id for g in d.goroutines if g.id is not None and _sender_site(g, prefix) == site}


def left_behind(obs: Observation, prefix: str | None) -> Orphans | None:
    """The largest group of senders left behind in the end dump, when ORPHANS_MIN or more
    of them were at the same line in the start dump too (by id); None without ids."""
    if len(obs.dumps) < 2:
        return None
    end = obs.dumps[-1]
    byid = {g.id: g for g in end.goroutines if g.id is not None}
    groups: dict[sites.Site, tuple[set[int], str]] = {}
    for g in end.goroutines:
        site = _sender_site(g, prefix)
        if site is None or g.id is None or not _left(g, byid):
            continue
        ids, _ = groups.get(site, (set(), ""))
        groups[site] = ({*ids, g.id}, g.created_by.function if g.created_by else "?")
    best: Orphans | None = None
    for site, (ids, creator) in groups.items():
        stuck = len(ids & _ids_at(obs.dumps[0], site, prefix))
        if stuck >= ORPHANS_MIN and (best is None or stuck > best.count):
            best = Orphans(stuck, locate.loc(site) or {}, creator)
    return best


def undecided(o: Orphans) -> str:
    """The verdict's doubt when rule 12 put goroutine-leak first."""
    return (f"{o.line}, as a leak does; a creator that handed the channel to another "
            f"receiver looks the same: a diagnosis a few minutes later (the group grows on, "
            f"or drains) would tell them apart")  # fmt: skip
