"""Which profile samples are work a request asked for.

A sample under net/http's per-connection goroutine or gRPC's per-stream one is. So is one
in a goroutine a handler started for the request: a handler that fans a computation out
to workers and waits for them (`go func() {...}()` then wg.Wait) spends nothing itself,
its workers spend it all, and their stacks do not reach net/http. A profile's stacks do
not carry `created by`; the goroutine dumps do: a worker's root function is request work
when a dump shows goroutines of it created by a function seen under a handler, or when
it is a closure of such a function (`main.(*app).sky.func1` of `main.(*app).sky`, for
workers too short-lived to be caught in a dump).

So is work in goroutines that come and go. A loop of the service's own that burns the
CPU is a goroutine alive the whole window, in both dumps; work in goroutines none of
which was in both dumps was started for a piece of work (a request, a query, a job) by a
caller that may have returned long before (a query executor's iterators, started by a
function no handler is still in, on dumps that name no parent goroutine).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from godiag.analysis import sites
from godiag.model.observation import Observation

HANDLER = ("net/http.(*conn).serve", "google.golang.org/grpc.(*Server).handleStream")

# the suffix the compiler gives a closure or a `go f(x)` wrapper of its enclosing function
_CLOSURE = re.compile(r"(\.func\d+|\.gowrap\d+)+$")


def enclosing(function: str) -> str:
    """The function a closure is written in (itself when it is not a closure)."""
    return _CLOSURE.sub("", function)


def _root(functions: list[str]) -> str | None:
    """The function a goroutine started in: the outermost frame outside the runtime."""
    return next((f for f in reversed(functions) if not f.startswith("runtime.")), None)


# the fewest frames a CPU profile's stack is cut at (runtime/pprof's limit: 64 before Go
# 1.23, 128 since): a stack this deep may have lost its root
MAX_DEPTH = 64


def _lasting(obs: Observation) -> set[str] | None:
    """The root functions of goroutines alive at both ends of the window (the same id in
    both dumps); None when the dumps cannot tell (one dump, no ids, a cut-off dump)."""
    if len(obs.dumps) < 2:
        return None
    first, last = obs.dumps[0], obs.dumps[-1]
    if any(
        d.warnings or d.errors or any(g.id is None for g in d.goroutines) for d in (first, last)
    ):
        return None
    before = {g.id for g in first.goroutines}
    return {
        root
        for g in last.goroutines
        if g.id in before and (root := _root([f.function for f in g.frames])) is not None
    }


def request_work(obs: Observation, prefix: str | None) -> Callable[[list[sites.Site]], bool]:
    """A predicate over a sample's leaf-first frames: true for work done for a request (or
    another piece of work: see the module's doc)."""
    handlers: set[str] = set()
    for d in obs.dumps:
        for g in d.goroutines:
            if any(f.function.startswith(HANDLER) for f in g.frames):
                handlers |= {f.function for f in g.frames if sites.is_user(f.function, prefix)}
    spawned = {
        root
        for d in obs.dumps
        for g in d.goroutines
        if g.created_by is not None
        and enclosing(g.created_by.function) in handlers
        and (root := _root([f.function for f in g.frames])) is not None
    }
    under = sites.has_prefix(HANDLER)
    lasting = _lasting(obs)

    def served(frames: list[sites.Site]) -> bool:
        if under(frames):
            return True
        root = _root([f[0] for f in frames])
        if root is None:
            return False
        if root in spawned or enclosing(root) in handlers:
            return True
        # a goroutine that burnt CPU in the window and was not there at both of its ends
        return lasting is not None and root not in lasting and len(frames) < MAX_DEPTH

    return served
