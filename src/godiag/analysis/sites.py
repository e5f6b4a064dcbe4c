"""Code sites in profiles and dumps: which frame of a stack is "the user's line".

The one answer to "where" for `godiag diagnose` (rootcause/) and `godiag check` (rules/).
A site is (function, file, line). For a profile sample it is the first frame, from the
leaf, that belongs to the service's own code: `main.*` or the main module's packages,
else any non-standard-library frame. Heap, mutex and block samples start inside the
runtime or the standard library (mallocgc, sync.(*Mutex).Unlock); what a developer can act
on is that frame above them. Values are summed per site so a diff of two snapshots (heap
growth, mutex delay over the window) is a subtraction of two dicts.

The diagnosis skips samples with no such frame (`pick`), and the observer's own work
(`observing`: serving the profiles, dumps and scrapes it takes); a check's totals must keep them
(a share of the whole heap), so it files them under their innermost named frame
(`pick_or_innermost`): the same site wherever the user has one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from godiag.analysis.goroutine_rules import is_stdlib, package_of
from godiag.model.profile import Profile

Site = tuple[str, str, int]
_HOSTS = ("github.com", "gitlab.com", "bitbucket.org", "gopkg.in", "go.googlesource.com")


def module_prefix(build_path: str | None) -> str | None:
    """The main module's import-path prefix from go_build_info's path (best guess)."""
    if not build_path:
        return None
    parts = build_path.split("/")
    n = 3 if parts[0] in _HOSTS else 1
    return "/".join(parts[:n]) + "/" if len(parts) >= n else None


def main_file_prefix(file: str) -> str | None:
    """The main module's import-path prefix from the file of a `main.*` frame, when the
    path names it: built from the module cache (`.../pkg/mod/MODULE@VERSION/...`, or
    `MODULE@VERSION/...` with -trimpath), with -trimpath (`MODULE/cmd/x/main.go`), or in a
    GOPATH (`.../src/MODULE/...`, distribution packages). None for a plain local path
    (`/home/me/repo/main.go`): the import path is not in it."""
    path = file.rsplit("/pkg/mod/", 1)[-1]
    if "@" in path:
        path = path.split("@", 1)[0]
    elif not path.startswith("/"):
        if "/" not in path:  # `main.go` alone: a file built by name
            return None
        path = path.rsplit("/", 1)[0]
    elif "/src/" in path:
        path = path.rsplit("/src/", 1)[1].rsplit("/", 1)[0]
    else:
        return None
    # a module path's first element is a domain name (golang.org/x/..., github.com/...)
    # or, for local modules, any name: it is never empty nor a relative dot
    head = path.split("/", 1)[0]
    if not head or head.startswith(".") or ("/" not in path and "." not in head):
        return None
    return module_prefix(path)


def is_main(function: str) -> bool:
    return function.startswith("main.")


def is_user(function: str, prefix: str | None) -> bool:
    if function in ("", "?") or is_stdlib(function):
        return False
    if is_main(function):
        return True
    return prefix is not None and function.startswith(prefix)


def _frames(sample_locs: tuple[object, ...]) -> list[Site]:
    out: list[Site] = []
    for loc in sample_locs:
        for ln in loc.lines:  # type: ignore[attr-defined]
            fn = ln.function
            if fn is not None and fn.name:
                out.append((fn.name, fn.filename, ln.line))
    return out


def stacks(profile: Profile, sample_type: str) -> list[tuple[list[Site], int]]:
    """(leaf-first frames, value) of every sample with a non-zero value of `sample_type`."""
    idx = next((i for i, st in enumerate(profile.sample_types) if st.type == sample_type), None)
    if idx is None:
        return []
    return [(_frames(s.locations), s.values[idx]) for s in profile.samples if s.values[idx]]


def _deferred(frames: list[Site], i: int) -> bool:
    """Whether frame i is the compiler's wrapper of a deferred call (`F.deferwrap1`, the
    `defer mu.Unlock()` of F) with F itself as its caller: F is the code that ran, and
    the wrapper's line is only the defer statement's."""
    name, _, n = frames[i][0].rpartition(".deferwrap")
    return bool(name) and n.isdigit() and i + 1 < len(frames) and frames[i + 1][0] == name


def pick(frames: list[Site], prefix: str | None) -> Site | None:
    """The user's frame of a leaf-first stack: the innermost frame of the service's own
    code (main or its module), else the innermost non-standard-library frame. A deferred
    call's wrapper hands over to the function that deferred it (an unlock at its return:
    the critical section is that function's)."""
    for i, site in enumerate(frames):
        if is_user(site[0], prefix) and not _deferred(frames, i):
            return site
    for site in frames:
        if site[0] not in ("", "?") and not is_stdlib(site[0]):
            return site
    return None


def pick_or_innermost(frames: list[Site], prefix: str | None) -> Site | None:
    """`pick`, else the innermost named frame (a sample of the runtime's own work), else
    `("?", "", 0)` for a sample with no symbol at all: every sample has a site."""
    return pick(frames, prefix) or (frames[0] if frames else ("?", "", 0))


def call_site(locations: tuple[object, ...], prefix: str | None = None) -> Site:
    """The site of one sample's leaf-first locations, as a check files it."""
    site = pick_or_innermost(_frames(locations), prefix)
    assert site is not None
    return site


_HELPER_WORDS = ("dial", "get", "conn", "acquire", "open", "connect", "checkout", "borrow")


def pick_owner(frames: list[Site], prefix: str | None) -> Site | None:
    """Like pick, but a connection-returning helper (dial, get, acquire...) hands over to
    its caller: the caller owns, and leaks, the connection."""
    users = [i for i, f in enumerate(frames) if is_user(f[0], prefix) and not _deferred(frames, i)]
    if not users:
        return pick(frames, prefix)
    first = frames[users[0]]
    if len(users) > 1 and helper_named(first[0]):
        caller = frames[users[1]]
        if package_of(caller[0]) == package_of(first[0]):  # a helper of the same package
            return caller
    return first


def helper_named(function: str) -> bool:
    """Whether a function's name says it hands out a connection (dial, get, open...)."""
    name = function.rsplit(".", 1)[-1].lower()
    return any(w in name for w in _HELPER_WORDS)


def caller_of(all_stacks: Iterable[list[Site]], function: str, prefix: str | None) -> Site | None:
    """The one caller, in the same package, that `function` has in these leaf-first stacks
    (its frame in the busiest stack), else None (no stack shows a caller, or two callers or
    more: which one holds what the helper handed out is not known). A goroutine started
    inside a helper shows the helper as its creator, never the helper's caller: other
    stacks that pass through the helper (a heap sample under it, a goroutine inside it)
    do."""
    found: dict[str, dict[Site, int]] = {}
    for frames in all_stacks:
        at = next((i for i, f in enumerate(frames) if f[0] == function), None)
        if at is None:
            continue
        caller = next((f for j, f in enumerate(frames[at + 1 :], at + 1)
                       if is_user(f[0], prefix) and not _deferred(frames, j)), None)  # fmt: skip
        if caller is not None and package_of(caller[0]) == package_of(function):
            per = found.setdefault(caller[0], {})
            per[caller] = per.get(caller, 0) + 1
    if len(found) != 1:
        return None
    (per,) = found.values()
    return max(per, key=lambda s: (per[s], s))


# The observer's own work: the handlers that serve profiles, dumps, /debug/vars and
# /metrics, and the collectors a /metrics scrape runs (Gather runs each in a goroutine of
# its own, so its frame is on their stacks too). A diagnosis scrapes /metrics several
# times a second and takes dumps and profiles during its window; what that costs shows in
# every profile and dump it takes, and is the cost of being looked at, not the service's.
# Narrow names: promhttp's Instrument* middleware wraps the service's own handlers, and
# runtime/pprof's label functions run or tag the service's own work.
OBSERVER = (
    "net/http/pprof.", "runtime/pprof.", "expvar.expvarHandler",
    "github.com/prometheus/client_golang/prometheus/promhttp.HandlerFor",
    "github.com/prometheus/client_golang/prometheus.(*Registry).Gather",
)  # fmt: skip
_NOT_OBSERVER = ("runtime/pprof.Do", "runtime/pprof.WithLabels", "runtime/pprof.Label",
                 "runtime/pprof.SetGoroutineLabels", "runtime/pprof.ForLabels",
                 "runtime/pprof.labelValue", "runtime/pprof.runtime_setProfLabel",
                 "runtime/pprof.runtime_getProfLabel")  # fmt: skip


def observing(frames: list[Site], prefix: str | None = None) -> bool:
    """Whether a leaf-first stack is the observer's (serving a profile, a dump or a metrics
    scrape) and not the service's code called from it: a collector of the service's own
    (a Collect method, a GaugeFunc, an expvar.Func) runs under Gather or expvar's handler
    and is the service's work, closer to the leaf than the observer's frame."""
    for fn, _, _ in frames:
        if fn.startswith(OBSERVER) and not fn.startswith(_NOT_OBSERVER):
            return True
        if is_user(fn, prefix):
            return False
    return False


def by_site(
    profile: Profile,
    sample_type: str,
    prefix: str | None = None,
    require: Callable[[list[Site]], bool] | None = None,
    chooser: Callable[[list[Site], str | None], Site | None] = pick,
) -> dict[Site, int]:
    """Sum of one sample type per user site (samples with no user frame are skipped, and
    the observer's own: `observing`).

    `require(frames)`, when given, keeps only samples whose leaf-first frames satisfy it.
    """
    try:
        idx = next(i for i, st in enumerate(profile.sample_types) if st.type == sample_type)
    except StopIteration:
        return {}
    out: dict[Site, int] = {}
    cache: dict[tuple[int, ...], Site | None] = {}
    for smp in profile.samples:
        v = smp.values[idx]
        if not v:
            continue
        key = tuple(id(x) for x in smp.locations)
        if key not in cache:
            frames = _frames(smp.locations)
            keep = not observing(frames, prefix) and (require is None or require(frames))
            cache[key] = chooser(frames, prefix) if keep else None
        site = cache[key]
        if site is not None:
            out[site] = out.get(site, 0) + v
    return out


def total(
    profile: Profile, sample_type: str, require: Callable[[list[Site]], bool] | None = None
) -> int:
    """Sum of one sample type, over the samples whose frames satisfy `require` if given."""
    for i, st in enumerate(profile.sample_types):
        if st.type == sample_type:
            return sum(
                s.values[i]
                for s in profile.samples
                if require is None or (s.values[i] and require(_frames(s.locations)))
            )
    return 0


def growth(a: dict[Site, int], b: dict[Site, int]) -> dict[Site, int]:
    """b - a per site, positive growth only."""
    out = {k: v - a.get(k, 0) for k, v in b.items()}
    return {k: v for k, v in out.items() if v > 0}


def growth_rows(before: dict[Site, int], after: dict[Site, int]) -> list[tuple[Site, int, int]]:
    """(site, before, after) for every site of either, biggest increase first (a check's
    evidence table lists shrinking sites too)."""
    keys = set(before) | set(after)
    rows = [(k, before.get(k, 0), after.get(k, 0)) for k in keys]
    rows.sort(key=lambda r: (-(r[2] - r[1]), r[0]))
    return rows


def top(
    sites: dict[Site, int], prefer_main: bool = True, strict: bool = False
) -> tuple[Site, int] | None:
    """The largest site; a `main.` site wins when it holds at least 5% of the total
    (`strict`: whenever there is one, for sparse evidence such as a few heap samples)."""
    if not sites:
        return None
    best = max(sites.items(), key=lambda kv: (kv[1], kv[0]))
    if prefer_main and not is_main(best[0][0]):
        mains = [kv for kv in sites.items() if is_main(kv[0][0])]
        whole = sum(sites.values())
        if mains:
            m = max(mains, key=lambda kv: (kv[1], kv[0]))
            if strict or (whole and m[1] >= 0.05 * whole):
                return m
    return best


def function_hotspot(sites: dict[Site, int]) -> tuple[Site, int] | None:
    """Hottest function (summed over its lines), reported at its hottest line."""
    per_fn: dict[str, int] = {}
    for (fn, _, _), v in sites.items():
        per_fn[fn] = per_fn.get(fn, 0) + v
    if not per_fn:
        return None
    fns = {(fn, "", 0): v for fn, v in per_fn.items()}
    chosen = top(fns)
    assert chosen is not None
    fn = chosen[0][0]
    line = max(((s, v) for s, v in sites.items() if s[0] == fn), key=lambda kv: (kv[1], kv[0]))
    return line[0], chosen[1]


def call_path(
    profile: Profile, sample_type: str, function: str, prefix: str | None, depth: int = 2
) -> tuple[list[Site], int] | None:
    """The commonest chain of the service's own callers (nearest first, up to `depth`) above
    `function` in the samples whose user frame (`pick`) is in it, and their value: a hot
    function's cost is often its caller's doing (a retry loop calling a cheap check with no
    pause), and the profile shows which. None when no caller of the service's is there."""
    paths: dict[tuple[Site, ...], int] = {}
    for frames, v in stacks(profile, sample_type):
        site = pick(frames, prefix)
        if site is None or site[0] != function:
            continue
        i = frames.index(site)
        up = [f for f in frames[i + 1 :] if is_user(f[0], prefix) and f[0] != function]
        if up:
            key = tuple(up[:depth])
            paths[key] = paths.get(key, 0) + v
    if not paths:
        return None
    chain, v = max(paths.items(), key=lambda kv: (kv[1], kv[0]))
    return list(chain), v


def share(profile: Profile, sample_type: str, pred: Callable[[list[Site]], bool]) -> float | None:
    """Fraction of a sample type in samples whose frames satisfy `pred`."""
    try:
        idx = next(i for i, st in enumerate(profile.sample_types) if st.type == sample_type)
    except StopIteration:
        return None
    whole = hit = 0
    for smp in profile.samples:
        v = smp.values[idx]
        whole += v
        if v and pred(_frames(smp.locations)):
            hit += v
    return hit / whole if whole else None


# system calls: CPU spent in the kernel on the caller's behalf (a write to a socket), the
# machine's work rather than the code's own
SYSCALLS = ("syscall.", "internal/runtime/syscall", "internal/syscall/", "golang.org/x/sys/unix.")
# sync lock frames: Lock/RLock in waiters' stacks, Unlock in the mutex profile's
LOCKS = ("sync.(*Mutex).", "sync.(*RWMutex).")
DIAL = ("net.Dial", "net.(*Dialer)", "database/sql.(*DB).conn")
NET_CLIENT = ("net/http.(*Client)", "net/http.(*Transport).roundTrip")
# a net/http connection's own goroutines: the transport's read and write loop per dialled
# connection, alive as long as the connection is open
CONN_LOOPS = ("net/http.(*persistConn).readLoop", "net/http.(*persistConn).writeLoop")
# the goroutines an HTTP client keeps per open connection: HTTP/1's read and write loops,
# HTTP/2's read loop (net/http's bundled copy and x/net's)
HTTP_CONN_LOOPS = (*CONN_LOOPS, "net/http.(*http2ClientConn).readLoop",
                   "golang.org/x/net/http2.(*ClientConn).readLoop")  # fmt: skip
GC_WORK = ("runtime.gcBgMarkWorker", "runtime.gcAssistAlloc", "runtime.mallocgc",
           "runtime.gcDrain", "runtime.bgsweep", "runtime.memclrNoHeapPointers")  # fmt: skip


def has_prefix(names: tuple[str, ...]) -> Callable[[list[Site]], bool]:
    return lambda frames: any(f[0].startswith(names) for f in frames)
