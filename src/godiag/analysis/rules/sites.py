"""Sum a profile's sample values by call site: the innermost frame that is user code.

Heap, mutex and block samples start inside the runtime or the standard library
(mallocgc, sync.(*Mutex).Unlock); what a developer can act on is the first frame of
their own code above it. Samples with no user frame keep their innermost named frame.
"""

from __future__ import annotations

from godiag.analysis.goroutine_rules import is_stdlib
from godiag.model.profile import Profile

Site = tuple[str, str, int]  # function, file, line


def call_site(profile_locations: tuple[object, ...]) -> Site:
    first: Site | None = None
    for loc in profile_locations:
        for ln in getattr(loc, "lines", ()):  # inlined callee first, as in the stack
            fn = ln.function
            if fn is None or not fn.name:
                continue
            site = (fn.name, fn.filename, ln.line)
            if first is None:
                first = site
            if not is_stdlib(fn.name):
                return site
    return first or ("?", "", 0)


def by_site(profile: Profile, sample_type: str) -> dict[Site, int]:
    """Total of `sample_type` per call site (ParseError-free: a missing type gives {})."""
    idx = next((i for i, st in enumerate(profile.sample_types) if st.type == sample_type), None)
    if idx is None:
        return {}
    out: dict[Site, int] = {}
    for s in profile.samples:
        v = s.values[idx]
        if v:
            key = call_site(s.locations)
            out[key] = out.get(key, 0) + v
    return out


def growth(before: dict[Site, int], after: dict[Site, int]) -> list[tuple[Site, int, int]]:
    """(site, before, after) for every site, biggest increase first."""
    keys = set(before) | set(after)
    rows = [(k, before.get(k, 0), after.get(k, 0)) for k in keys]
    rows.sort(key=lambda r: (-(r[2] - r[1]), r[0]))
    return rows
