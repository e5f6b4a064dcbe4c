"""Whether the places several causes name lie on one call chain.

Two kinds can point at one piece of code from two ends: a lock held while the holder
sorts and compresses shows as lock contention at the call made under the lock
(`submit`, line 81) and as CPU in the function it calls (`publishLocked`, line 103).
Their locations differ, yet the code to change is one call chain. It is read from what
was captured, never guessed from names: a CPU profile sample or a goroutine's stack in
which the outer location's function, at the outer location's very line, is a caller of
each other location's function.
"""

from __future__ import annotations

from typing import Any

from godiag.analysis import sites
from godiag.model.observation import Observation

Site = sites.Site


def stacks(obs: Observation) -> list[list[Site]]:
    """Leaf-first stacks of the CPU profile's samples and of the dumps' goroutines."""
    out = [frames for frames, _ in sites.stacks(obs.cpu, "cpu")] if obs.cpu else []
    for d in obs.dumps:
        out += [[(f.function, f.file, f.line) for f in g.frames] for g in d.goroutines]
    return out


def _calls(outer: dict[str, Any], inner: dict[str, Any], stack: list[Site]) -> bool:
    """`stack` passes through `outer`'s function at `outer`'s line, with `inner`'s
    function below it (nearer the leaf)."""
    at = (outer["function"], outer["file"], outer["line"])
    for i, frame in enumerate(stack):
        if frame == at:
            return any(f[0] == inner["function"] for f in stack[:i])
    return False


def outermost(locations: list[dict[str, Any]], seen: list[list[Site]]) -> int | None:
    """The index of the location that calls every other one (each in some stack of
    `seen`), when they lie on one chain; None when they do not, or are one place."""
    if len({loc["function"] for loc in locations}) < 2:
        return None
    for i, outer in enumerate(locations):
        others = [loc for loc in locations if loc["function"] != outer["function"]]
        if all(any(_calls(outer, o, s) for s in seen) for o in others):
            return i
    return None
