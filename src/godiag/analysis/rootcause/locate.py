"""Where each fault kind points in the code, from that kind's own evidence.

- goroutine-leak: the fastest-growing blocked group (or the runtime's leaked goroutines):
  its user frame, and its creation site.
- deadlock: goroutines stuck on a lock/channel in both dumps; when one stuck group's
  stack passes through the function the others wait in, it holds the lock: report it.
- lock-contention: the mutex profile's top site (the unlocking holder), else the block
  profile's, else the largest group waiting on a lock.
- memory-leak and connection-leak: the site whose in-use heap grew most between the two
  absolute snapshots (a leaked connection's buffers are allocated under the dial).
- gc-pressure: the site allocating most bytes over the window.
- cpu-saturation: the hottest user function of the CPU profile, at its hottest line;
  without a profile, the user frame most often seen running in the dumps.
Each locator returns a location dict (function, file, line) plus evidence lines, or None.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from godiag.analysis import sites
from godiag.analysis.goroutine_rules import BLOCKED, category, package_of
from godiag.pipeline.observe import Observation

Located = tuple[dict[str, Any] | None, list[str]]


def _loc(site: sites.Site | dict[str, Any] | None) -> dict[str, Any] | None:
    if site is None:
        return None
    if isinstance(site, dict):
        return {"function": site["function"], "file": site["file"], "line": site["line"]}
    return {"function": site[0], "file": site[1], "line": site[2]}


def _where(loc: dict[str, Any] | None) -> str:
    return "?" if loc is None else f"{loc['function']} ({loc['file']}:{loc['line']})"


def _groups(obs: Observation) -> list[dict[str, Any]]:
    from godiag.analysis.goroutines import analyze, diff

    if len(obs.dumps) == 2:
        return list(diff(obs.dumps[0], obs.dumps[1], "diff")["groups"])
    if obs.dumps:
        return [dict(g, growth=0) for g in analyze(obs.dumps[-1], "end")["groups"]]
    return []


def _user(g: dict[str, Any], prefix: str | None) -> dict[str, Any] | None:
    frames = [(f["function"], f["file"], f["line"]) for f in g["frames"]]
    return _loc(sites.pick(frames, prefix)) or g["user_frame"]


def goroutine_leak(obs: Observation, prefix: str | None) -> Located:
    if obs.leak is not None:
        leaked = sites.top(sites.by_site(obs.leak, "goroutine", prefix))
        if leaked is not None:
            loc = _loc(leaked[0])
            return loc, [f"the runtime reports {leaked[1]} leaked goroutines at {_where(loc)}"]
    cands = [g for g in _groups(obs) if g["category"] in BLOCKED and g["count"] > 0]
    if not cands:
        return None, []
    g = max(cands, key=lambda g: (g["growth"], g["count"]))
    loc = _user(g, prefix)
    ev = [f"{g['count']} goroutines ({g['growth']:+d} in the window) blocked on {g['state']} "
          f"in {_where(loc)}"]  # fmt: skip
    if g["created_by"]:
        ev.append(f"created at {_where(g['created_by'])}")
    return loc, ev


def deadlock(obs: Observation, prefix: str | None) -> Located:
    groups = [g for g in _groups(obs) if g["category"] in BLOCKED and g["count"] > 0]
    stuck = [g for g in groups if g["count"] - g["growth"] > 0 and _user(g, prefix)]
    if not stuck:
        return goroutine_leak(obs, prefix) if groups else (None, [])
    biggest = max(stuck, key=lambda g: g["count"])
    waited_in = (_user(biggest, prefix) or {}).get("function")
    # a holder: another stuck group whose stack passes through the waiters' function
    # below its own user frame (it took the lock there and is now blocked deeper)
    for g in sorted(stuck, key=lambda g: g["count"]):
        if g is biggest:
            continue
        uf = _user(g, prefix)
        fns = [f["function"] for f in g["frames"]]
        if uf and uf["function"] != waited_in and waited_in in fns:
            return uf, [
                f"{biggest['count']} goroutines wait in {_where(_user(biggest, prefix))}",
                f"{g['count']} goroutine(s) holding it are blocked on {g['state']} in {_where(uf)}",
            ]
    # a channel cycle: a few long-lived goroutines of the service's own code (actors, a
    # worker pool) stuck across the window while requests wait on them; a blocked send
    # is the edge to break. Idle plumbing of other packages (tickers, signal waits) and
    # the waiters' own function are not candidates.
    pkg = package_of(str((_user(biggest, prefix) or {}).get("function", "")))
    inner = [g for g in stuck if g is not biggest and g["count"] <= 8 and g["growth"] <= 0
             and g["category"] in ("channel", "select") and not _from_server(g)
             and (uf := _user(g, prefix)) is not None and uf["function"] != waited_in
             and package_of(uf["function"]) == pkg]  # fmt: skip
    actors = [g for g in inner if "send" in g["state"]] or inner
    if biggest["category"] in ("channel", "select") and actors:
        g = actors[0]
        uf = _user(g, prefix)
        return uf, [
            f"{biggest['count']} goroutines wait in {_where(_user(biggest, prefix))}",
            f"{g['count']} long-lived goroutine(s) stuck on {g['state']} in {_where(uf)}",
        ]
    loc = _user(biggest, prefix)
    return loc, [f"{biggest['count']} goroutines stuck on {biggest['state']} in {_where(loc)} "
                 f"across the window"]  # fmt: skip


def _from_server(g: dict[str, Any]) -> bool:
    cb = g.get("created_by") or {}
    return str(cb.get("function", "")).startswith("net/http.")


def _contended(profiles: list[Any], prefix: str | None) -> tuple[sites.Site, int] | None:
    if len(profiles) != 2:
        return None
    # A writer waiting on an RWMutex is the one whose critical section the readers
    # queue behind (block profiles record waiters, not holders): prefer its site. It
    # waits only for the few readers already inside, so its own delay is small and may
    # not grow within a short window: any writer in the profile counts.
    # Then lock waits only: a block profile also records every channel and select wait.
    for need in (("sync.(*RWMutex).Lock",), sites.LOCKS, None):
        keep = sites.has_prefix(need) if need else None
        a, b = (sites.by_site(p, "delay", prefix, keep) for p in profiles)
        hit = sites.top(sites.growth(a, b)) or sites.top(b)
        if hit is not None:
            return hit
    return None


def _readers(profiles: list[Any], site: sites.Site, prefix: str | None) -> bool:
    """Whether the delay at `site` is readers waiting in RLock."""
    rlock = sites.has_prefix(("sync.(*RWMutex).RLock",))
    return bool(profiles) and site in sites.by_site(profiles[-1], "delay", prefix, rlock)


def _holder(obs: Observation, waiter: str) -> tuple[sites.Site, int] | None:
    """Where a write lock is held while readers wait in `waiter`, from the dumps.

    A lock is normally a field of the struct whose methods take it: the holder is a
    goroutine inside another method of the waiter's receiver type that is not itself
    waiting for a lock (it is working, sleeping or doing I/O inside its critical section).
    """
    if ".(*" not in waiter:
        return None
    recv = waiter.rsplit(".", 1)[0] + "."
    seen: dict[sites.Site, int] = {}
    for d in obs.dumps:
        for g in d.goroutines:
            if category(g.state, g.frames) == "lock":
                continue
            f = next((f for f in g.frames if f.function.startswith(recv)), None)
            if f is not None and f.function != waiter:
                site = (f.function, f.file, f.line)
                seen[site] = seen.get(site, 0) + 1
    return max(seen.items(), key=lambda kv: (kv[1], kv[0])) if seen else None


def lock_contention(obs: Observation, prefix: str | None) -> Located:
    for name, profs in (("mutex", obs.mutex), ("block", obs.block)):
        hit = _contended(profs, prefix)
        if hit is None:
            continue
        loc = _loc(hit[0])
        ev = [f"{name} profile: {hit[1] / 1e9:.3f}s of waiting at {_where(loc)}"]
        held = _holder(obs, hit[0][0]) if _readers(profs, hit[0], prefix) else None
        if held is not None:
            # readers wait for a writer: its critical section is the fault
            hloc = _loc(held[0])
            ev.append(f"readers wait in RLock; the write lock is held in {_where(hloc)} "
                      f"(there in {held[1]} dump record(s), not itself waiting)")  # fmt: skip
            return hloc, ev
        return loc, ev
    from godiag.analysis.goroutines import analyze

    # waiters come and go (a lock held in bursts): look at both dumps
    locks = [g for d in obs.dumps for g in analyze(d, "dump")["groups"] if g["category"] == "lock"]
    if not locks:
        return None, []
    g = max(locks, key=lambda g: g["count"])
    loc = _user(g, prefix)
    return loc, [f"{g['count']} goroutines waiting on {g['state']} in {_where(loc)}"]


def _heap_growth(obs: Observation, prefix: str | None) -> tuple[sites.Site, int] | None:
    if len(obs.heap) != 2:
        return None
    a, b = (sites.by_site(p, "inuse_space", prefix) for p in obs.heap)
    return sites.top(sites.growth(a, b))


def memory_leak(obs: Observation, prefix: str | None) -> Located:
    hit = _heap_growth(obs, prefix)
    if hit is None:
        return None, []
    loc = _loc(hit[0])
    return loc, [f"live heap allocated at {_where(loc)} grew by {hit[1] / 2**20:.2f} MiB"]


def connection_leak(obs: Observation, prefix: str | None) -> Located:
    """Where the service's code obtains the connections it never gives back.

    In order: live objects allocated under a dial (connections, their buffers, the
    registry entries); live-heap growth over the window; live objects outside in-process
    servers' connection goroutines; allocation under HTTP client calls (transports dial
    on their own goroutines, so the client call is the owner); goroutines inside HTTP
    client calls in the dumps. A site in the service's main package wins over the kind
    of evidence found first. A helper returning a connection (dial, get, acquire...)
    hands over to its caller.
    """
    if not obs.heap:
        return goroutine_leak(obs, prefix)
    own = sites.pick_owner
    dial = sites.has_prefix(sites.DIAL)
    server = _server_side(obs)

    def client_side(frames: list[sites.Site]) -> bool:
        return not any(f[0].startswith(ACCEPT) or f[0] in server for f in frames)

    tries = [
        ("live objects from dials", sites.by_site(
            obs.heap[-1], "inuse_space", prefix, lambda f: dial(f) and client_side(f), own)),
        ("live heap growth", sites.growth(
            *(sites.by_site(p, "inuse_space", prefix, client_side, own) for p in obs.heap))
         if len(obs.heap) == 2 else {}),
        ("live objects, client side", sites.by_site(
            obs.heap[-1], "inuse_space", prefix, client_side, own)),
        ("HTTP client allocation", sites.by_site(
            obs.heap[-1], "alloc_space", prefix, sites.has_prefix(sites.NET_CLIENT), own)),
        # a handful of heap samples at seconds of uptime can all fall elsewhere; the dumps
        # show the service's code inside HTTP client calls at that moment
        ("goroutines in HTTP client calls", _in_client_calls(obs, prefix)),
    ]  # fmt: skip
    # evidence in the main package wins over an earlier kind of evidence elsewhere
    # (libraries, shared plumbing): connections are obtained by the service's own code
    found_any = [(what, hit) for what, f in tries if (hit := sites.top(f, strict=True))]
    found_any.sort(key=lambda wh: not sites.is_main(wh[1][0][0]))  # stable: keeps order
    if found_any:
        what, hit = found_any[0]
        loc = _loc(hit[0])
        size = f"{hit[1]}" if what.startswith("goroutines") else f"{hit[1] / 2**20:.2f} MiB"
        return loc, [f"connections obtained at {_where(loc)} ({what}: {size})"]
    return goroutine_leak(obs, prefix)


def _dump_sites(
    obs: Observation,
    prefix: str | None,
    keep: Callable[[Any, list[sites.Site]], bool],
    chooser: Callable[[list[sites.Site], str | None], sites.Site | None] = sites.pick,
) -> dict[sites.Site, int]:
    """Goroutines of both dumps that `keep(goroutine, frames)` accepts, by chosen site."""
    out: dict[sites.Site, int] = {}
    for d in obs.dumps:
        for g in d.goroutines:
            frames = [(f.function, f.file, f.line) for f in g.frames]
            site = chooser(frames, prefix) if keep(g, frames) else None
            if site is not None:
                out[site] = out.get(site, 0) + g.count
    return out


def _in_client_calls(obs: Observation, prefix: str | None) -> dict[sites.Site, int]:
    """Goroutines (over both dumps) inside an HTTP client call, by the owner's frame."""
    client = sites.has_prefix(sites.NET_CLIENT)
    return _dump_sites(obs, prefix, lambda g, frames: client(frames), sites.pick_owner)


ACCEPT = ("net.(*TCPListener).Accept", "net.(*netFD).accept", "net.(*UnixListener).Accept")


def _server_side(obs: Observation) -> set[str]:
    """Entry functions of goroutines serving accepted connections (in-process servers:
    their buffers are the far end of the service's own connections, not its leak).

    An accept loop is a goroutine blocked in Accept; the goroutines it started (their
    `created by` is the loop's function) serve one connection each. net/http's own
    per-connection goroutine is left out: request handlers are where clients are used.
    """
    loops: set[str] = set()
    for d in obs.dumps:
        for g in d.goroutines:
            names = [f.function for f in g.frames]
            hits = [i for i, n in enumerate(names) if n.startswith(ACCEPT)]
            if hits and hits[-1] + 1 < len(names):  # the caller of the outermost Accept
                loops.add(names[hits[-1] + 1])
    out = {
        g.frames[-1].function
        for d in obs.dumps
        for g in d.goroutines
        if g.frames and g.created_by is not None and g.created_by.function in loops
    }
    return out - {"net/http.(*conn).serve"}


def gc_pressure(obs: Observation, prefix: str | None) -> Located:
    if len(obs.heap) != 2:
        return None, []
    gogc = _gogc(obs)
    if gogc is not None and 0 <= gogc <= 25:
        # the collector runs often because GOGC is tiny relative to a large live heap:
        # the live heap's main site is where the setting is made and the data is built
        live = sites.top(sites.by_site(obs.heap[-1], "inuse_space", prefix))
        if live is not None:
            loc = _loc(live[0])
            return loc, [
                f"GOGC is {gogc:g}% with {live[1] / 2**20:.0f} MiB live from {_where(loc)}"
            ]
    a, b = (sites.by_site(p, "alloc_space", prefix) for p in obs.heap)
    hit = sites.top(sites.growth(a, b))
    if hit is None:
        return None, []
    loc = _loc(hit[0])
    return loc, [f"{hit[1] / 2**20:.1f} MiB allocated at {_where(loc)} during the window"]


def _gogc(obs: Observation) -> float | None:
    for smp in reversed(obs.samples):
        if "go_gc_gogc_percent" in smp.values:
            return smp.values["go_gc_gogc_percent"]
    return None


def cpu_saturation(obs: Observation, prefix: str | None) -> Located:
    if obs.cpu is not None:
        hot = sites.function_hotspot(sites.by_site(obs.cpu, "cpu", prefix))
        if hot is not None:
            loc = _loc(hot[0])
            return loc, [f"CPU profile: {hot[1] / 1e9:.2f}s in {_where(loc)}"]
    busy = _dump_sites(obs, prefix, lambda g, frames: g.state in ("running", "runnable"))
    hit = sites.function_hotspot(busy)
    if hit is None:
        return None, []
    loc = _loc(hit[0])
    return loc, [f"seen running {hit[1]} time(s) in the dumps at {_where(loc)} (no CPU profile)"]


LOCATORS = {
    "goroutine-leak": goroutine_leak,
    "deadlock": deadlock,
    "lock-contention": lock_contention,
    "memory-leak": memory_leak,
    "connection-leak": connection_leak,
    "gc-pressure": gc_pressure,
    "cpu-saturation": cpu_saturation,
}


def locate_all(obs: Observation) -> dict[str, tuple[dict[str, Any] | None, list[str]]]:
    prefix = sites.module_prefix(obs.build_path)
    out: dict[str, tuple[dict[str, Any] | None, list[str]]] = {}
    for kind, fn in LOCATORS.items():
        try:
            out[kind] = fn(obs, prefix)
        except (KeyError, ValueError, IndexError) as exc:  # partial data: no location
            out[kind] = (None, [f"no location: {type(exc).__name__}"])
    return out
