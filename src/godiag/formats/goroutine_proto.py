"""The proto goroutine profile (`debug=0`): what /debug/pprof/goroutine serves by default,
the file `go tool pprof` reads. It holds debug=1's records in pprof's encoding: one sample
per distinct stack, its value the number of goroutines there, its labels, no state and no
ids. Records become `Goroutine`s with `count`, as debug=1's do.

Unlike debug=1's text, the stacks keep the runtime frames at the leaf (runtime.chanrecv,
runtime.selectgo, sync.runtime_SemacquireMutex), which is what the frame-based
categories read; only the park itself (runtime.gopark) and runtime.goexit at the root
are dropped, as they say nothing.
"""

from __future__ import annotations

from godiag.errors import DecompressBudgetError, ParseError
from godiag.formats.pprof import decode
from godiag.limits import InFlight
from godiag.model.goroutine import Dump, Frame, Goroutine

# the park every blocked goroutine goes through, and the root of every goroutine's stack
PARK = frozenset({"runtime.gopark", "runtime.goparkunlock"})
ROOT = "runtime.goexit"
UNKNOWN = Frame("?", "", "", 0, None)  # an address without symbols (a stripped binary)


def parse(
    data: bytes, source: str, *, limit: int | None = None, pool: InFlight | None = None
) -> Dump:
    """Decode a proto goroutine profile (gzip'd or not, within `limit` and `pool` as
    pprof.gunzip bounds them); a ParseError names what is wrong."""
    try:
        prof = decode(data, source, limit=limit, pool=pool)
    except DecompressBudgetError:
        raise  # a budget hit is reported as one (serve and diagnose count them)
    except ParseError as exc:
        raise ParseError(source, f"binary data, not a goroutine dump nor a pprof profile "
                         f"({exc.why})", offset=0) from None  # fmt: skip
    idx = next((i for i, t in enumerate(prof.sample_types) if t.type == "goroutine"), None)
    if idx is None:
        kinds = ", ".join(t.type for t in prof.sample_types) or "no sample type"
        raise ParseError(source, f"a pprof profile of {kinds}, not of goroutines")
    records: list[Goroutine] = []
    for s in prof.samples:
        n = s.values[idx] if idx < len(s.values) else 0
        if n <= 0:
            continue
        frames: list[Frame] = []
        for loc in s.locations:
            named = [ln for ln in loc.lines if ln.function is not None and ln.function.name]
            if not named:
                frames.append(UNKNOWN)
            for ln in named:
                fn = ln.function
                assert fn is not None  # narrowed above
                frames.append(Frame(fn.name, "", fn.filename, ln.line, None))
        while len(frames) > 1 and frames[0].function in PARK:
            frames.pop(0)
        if len(frames) > 1 and frames[-1].function == ROOT:
            frames.pop()
        records.append(
            Goroutine(None, "", tuple(frames or [UNKNOWN]), labels=tuple(s.labels), count=n)
        )
    return Dump(
        format="proto",
        goroutines=tuple(records),
        total=sum(g.count for g in records),
    )
