"""A decoded profile (pprof protobuf or Go legacy text), independent of the wire format.

Objects are frozen and slotted: a 50 MB heap profile holds hundreds of thousands of
samples, so the per-object cost matters. Samples reference shared Location objects
(leaf first, as in profile.proto); a location's lines are inlined callee first.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ValueType:
    type: str
    unit: str


@dataclass(frozen=True, slots=True)
class Function:
    id: int
    name: str
    system_name: str = ""
    filename: str = ""
    start_line: int = 0


@dataclass(frozen=True, slots=True)
class Line:
    function: Function | None
    line: int = 0
    column: int = 0


@dataclass(frozen=True, slots=True)
class Mapping:
    id: int
    memory_start: int = 0
    memory_limit: int = 0
    file_offset: int = 0
    filename: str = ""
    build_id: str = ""
    has_functions: bool = False
    has_filenames: bool = False
    has_line_numbers: bool = False
    has_inline_frames: bool = False


# Identity equality: a location is its id within one profile, and identity hashing
# lets the analysis map millions of frame references in C loops.
@dataclass(frozen=True, slots=True, eq=False)
class Location:
    id: int
    mapping: Mapping | None
    address: int = 0
    lines: tuple[Line, ...] = ()
    is_folded: bool = False


@dataclass(frozen=True, slots=True)
class Sample:
    locations: tuple[Location, ...]  # leaf first
    values: tuple[int, ...]
    labels: tuple[tuple[str, str], ...] = ()
    num_labels: tuple[tuple[str, int, str], ...] = ()  # (key, value, unit)


@dataclass(frozen=True, slots=True)
class Profile:
    sample_types: tuple[ValueType, ...]
    samples: tuple[Sample, ...]
    mappings: tuple[Mapping, ...] = ()
    locations: tuple[Location, ...] = ()
    functions: tuple[Function, ...] = ()
    drop_frames: str = ""
    keep_frames: str = ""
    time_nanos: int = 0
    duration_nanos: int = 0
    period_type: ValueType | None = None
    period: int = 0
    comments: tuple[str, ...] = ()
    default_sample_type: str = ""
    source: str = ""
    format: str = "proto"  # proto | legacy-heap | legacy-contention | legacy-count
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    def sample_index(self, which: str | int | None = None) -> int:
        """Index of a sample type by name or number; default like pprof.

        pprof's default is the profile's default_sample_type, else the last type.
        """
        from godiag.errors import UsageError

        n = len(self.sample_types)
        if n == 0:
            raise UsageError(f"{self.source}: profile has no sample types")
        if which is None or which == "":
            if self.default_sample_type:
                for i, st in enumerate(self.sample_types):
                    if st.type == self.default_sample_type:
                        return i
            return n - 1
        if isinstance(which, int) or str(which).isdigit():
            i = int(which)
            if 0 <= i < n:
                return i
        else:
            for i, st in enumerate(self.sample_types):
                if st.type == which:
                    return i
            # pprof also accepts the "inuse_"/"alloc_" prefix forms without the prefix.
        names = ", ".join(st.type for st in self.sample_types)
        raise UsageError(f"sample index {which!r} not in this profile (has: {names})")

    @property
    def profile_type(self) -> str:
        """A short kind name: cpu, heap, allocs, goroutine, block, mutex, threadcreate..."""
        types = [st.type for st in self.sample_types]
        if "cpu" in types or (self.period_type and self.period_type.type == "cpu"):
            return "cpu"
        if "inuse_space" in types:
            return "allocs" if self.default_sample_type == "alloc_space" else "heap"
        if "alloc_space" in types:
            return "allocs"
        if "goroutine" in types:
            return "goroutine"
        if "threadcreate" in types:
            return "threadcreate"
        if "delay" in types:
            return "contention"  # block or mutex: only the endpoint it came from tells
        return types[-1] if types else "unknown"
