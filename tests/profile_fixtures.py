"""Profiles made by the tests themselves (for sizes the corpus does not have)."""

from __future__ import annotations

from godiag.model.profile import Function, Line, Location, Mapping, Profile, Sample, ValueType


def wide_profile(fanout: tuple[int, ...] = (100, 100, 10), unit: str = "nanoseconds") -> Profile:
    """main -> a_i -> b_j -> c_k: one sample per leaf, so the tree has prod(fanout) leaves."""
    mapping = Mapping(1, 0x400000, 0x800000, 0, "/bin/wide", "", True, True, True, False)
    funcs: dict[str, Function] = {}
    locs: dict[str, Location] = {}

    def loc(name: str) -> Location:
        got = locs.get(name)
        if got is None:
            fn = funcs.setdefault(
                name, Function(len(funcs) + 1, name, name, f"/src/{name[0]}.go", 10)
            )
            got = locs[name] = Location(
                len(locs) + 1, mapping, 0x400000 + len(locs), (Line(fn, 11),)
            )
        return got

    samples = []
    prefixes = "abcdefgh"

    def walk(level: int, stack: list[Location], v: int) -> int:
        if level == len(fanout):
            samples.append(Sample(tuple(reversed(stack)), (1, 10_000_000)))
            return v + 1
        for i in range(fanout[level]):
            v = walk(level + 1, [*stack, loc(f"{prefixes[level]}_{i}")], v)
        return v

    walk(0, [loc("main.main")], 1)
    return Profile(
        sample_types=(ValueType("samples", "count"), ValueType("cpu", unit)),
        samples=tuple(samples),
        mappings=(mapping,),
        locations=tuple(locs.values()),
        functions=tuple(funcs.values()),
        period_type=ValueType("cpu", unit),
        period=10_000_000,
        time_nanos=1_700_000_000_000_000_000,
        duration_nanos=10_000_000_000,
    )


Frames = list[tuple[str, str, int]]


def heap(stacks: list[tuple[Frames, int]], allocated: dict[int, int] | None = None) -> Profile:
    """A heap profile with one sample per stack: one object of `bytes` in use, as much
    allocated (alloc_objects, alloc_space, inuse_objects, inuse_space, as Go writes them),
    or `allocated[i]` bytes for the i-th stack (what it ever allocated, freed or not)."""
    fns: dict[str, Function] = {}
    samples = []
    for i, (frames, v) in enumerate(stacks):
        made = (allocated or {}).get(i, v)
        locs = []
        for name, file, line in frames:
            fn = fns.setdefault(name, Function(len(fns) + 1, name, "", file))
            locs.append(Location(fn.id, None, lines=(Line(fn, line),)))
        samples.append(Sample(tuple(locs), (1, made, 1, v)))
    types = (ValueType("alloc_objects", "count"), ValueType("alloc_space", "bytes"),
             ValueType("inuse_objects", "count"), ValueType("inuse_space", "bytes"))  # fmt: skip
    return Profile(types, tuple(samples))


def cpu_profile(stacks: list[tuple[list[str], int]]) -> Profile:
    """A CPU profile of leaf-first stacks of function names, one sample of N x 10 ms each."""
    fns: dict[str, Function] = {}
    samples = []
    for names, v in stacks:
        locs = []
        for n in names:
            fn = fns.setdefault(n, Function(len(fns) + 1, n, "", "/src/x.go"))
            locs.append(Location(fn.id, None, lines=(Line(fn, 10),)))
        samples.append(Sample(tuple(locs), (v, v * 10_000_000)))
    return Profile((ValueType("samples", "count"), ValueType("cpu", "nanoseconds")), tuple(samples))
