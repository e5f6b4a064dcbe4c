"""Code sites in profiles and dumps: which frame of a stack is "the user's line".

A site is (function, file, line). For a profile sample it is the first frame, from the
leaf, that belongs to the service's own code: `main.*` or the main module's packages,
else any non-standard-library frame. Values are summed per site so a diff of two
snapshots (heap growth, mutex delay over the window) is a subtraction of two dicts.
"""

from __future__ import annotations

from godiag.analysis.goroutine_rules import is_stdlib
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


def pick(frames: list[Site], prefix: str | None) -> Site | None:
    """The user's frame of a leaf-first stack: main code, then the module, then non-std."""
    for pred in (
        lambda f: is_main(f),
        lambda f: is_user(f, prefix),
        lambda f: f not in ("", "?") and not is_stdlib(f),
    ):
        for site in frames:
            if pred(site[0]):
                return site
    return None


def by_site(profile: Profile, sample_type: str, prefix: str | None = None) -> dict[Site, int]:
    """Sum of one sample type per user site (samples with no user frame are skipped)."""
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
            cache[key] = pick(_frames(smp.locations), prefix)
        site = cache[key]
        if site is not None:
            out[site] = out.get(site, 0) + v
    return out


def total(profile: Profile, sample_type: str) -> int:
    for i, st in enumerate(profile.sample_types):
        if st.type == sample_type:
            return sum(s.values[i] for s in profile.samples)
    return 0


def growth(a: dict[Site, int], b: dict[Site, int]) -> dict[Site, int]:
    """b - a per site, positive growth only."""
    out = {k: v - a.get(k, 0) for k, v in b.items()}
    return {k: v for k, v in out.items() if v > 0}


def top(sites: dict[Site, int], prefer_main: bool = True) -> tuple[Site, int] | None:
    """The largest site; a `main.` site wins when it holds at least 5% of the total."""
    if not sites:
        return None
    best = max(sites.items(), key=lambda kv: (kv[1], kv[0]))
    if prefer_main and not is_main(best[0][0]):
        mains = [kv for kv in sites.items() if is_main(kv[0][0])]
        whole = sum(sites.values())
        if mains:
            m = max(mains, key=lambda kv: (kv[1], kv[0]))
            if whole and m[1] >= 0.05 * whole:
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
