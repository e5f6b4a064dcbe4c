"""The `debug=1` goroutine profile: records of identical stacks with a count.

    goroutine profile: total N
    COUNT @ 0xPC 0xPC ...
    # labels: {"k":"v"}                       (optional)
    #\t0xPC\tFUNC+0xOFF\tFILE:LINE              (one per frame; `#\t0xPC` when unknown)
    <blank line>

Records carry no state and no ids: `Goroutine.count` holds the record's count and the
state is left empty for analysis to infer from the frames. Leading runtime frames are
already hidden by net/http/pprof, as in debug=2.
"""

from __future__ import annotations

import json

from godiag.errors import ParseError
from godiag.model.goroutine import Dump, Frame, Goroutine
from godiag.words import many

MAGIC = "goroutine profile: total "


def _frame(line: str) -> Frame | None:
    parts = [p for p in line[1:].split("\t") if p]
    if len(parts) == 1 and parts[0].startswith("0x"):
        return Frame("?", "", "", 0, None)
    if len(parts) != 3 or not parts[0].startswith("0x"):
        return None
    func, _, off = parts[1].rpartition("+0x")
    if not func:
        func, off = parts[1], ""
    file, _, num = parts[2].strip().rpartition(":")
    if not file or not num.isdigit():
        return None
    try:
        offset = int(off, 16) if off else None
    except ValueError:
        offset = None
    return Frame(func, "", file, int(num), offset)


def parse(text: str, source: str, *, strict: bool = True) -> Dump:
    lines = text.rstrip("\n").split("\n")
    first = lines[0].strip()
    if not first.startswith(MAGIC) or not first[len(MAGIC) :].isdigit():
        raise ParseError(source, "not a debug=1 goroutine profile", line=1)
    announced = int(first[len(MAGIC) :])
    records: list[Goroutine] = []
    warnings: list[str] = []
    frame_cache: dict[str, Frame] = {}
    i, n = 1, len(lines)
    truncated: int | None = None
    while i < n:
        ln = lines[i].rstrip("\r")
        if not ln.strip():
            i += 1
            continue
        count_s, sep, _pcs = ln.partition(" @ ")
        if not sep or not count_s.isdigit():
            raise ParseError(source, f"expected `COUNT @ PCs`, got {ln[:80]!r}", line=i + 1)
        start = i + 1
        i += 1
        labels: tuple[tuple[str, str], ...] = ()
        frames: list[Frame] = []
        while i < n and lines[i].startswith("#"):
            fl = lines[i].rstrip("\r")
            if fl.startswith("# labels: "):
                try:
                    obj = json.loads(fl[10:])
                    labels = tuple((str(k), str(v)) for k, v in obj.items())
                except (ValueError, AttributeError):
                    raise ParseError(source, "invalid labels", line=i + 1) from None
            else:
                fr = frame_cache.get(fl) or _frame(fl)
                if fr is None:
                    if i == n - 1:
                        truncated = i + 1
                        break
                    raise ParseError(source, f"invalid frame line {fl[:80]!r}", line=i + 1)
                frame_cache[fl] = fr
                frames.append(fr)
            i += 1
        if truncated is not None:
            warnings.append(f"input ends inside the record at line {start}: dropped")
            break
        if not frames:
            if i >= n:
                truncated = start
                warnings.append(f"input ends inside the record at line {start}: dropped")
                break
            raise ParseError(source, "record without frames", line=start)
        records.append(
            Goroutine(None, "", tuple(frames), labels=labels, count=int(count_s), line=start)
        )
    total = sum(g.count for g in records)
    if truncated is None and total != announced:
        warnings.append(
            f"records add up to {many(total, 'goroutine')}, the header announced {announced}"
        )
    return Dump(
        format="debug1",
        goroutines=tuple(records),
        warnings=tuple(warnings),
        total=total,
        truncated_at=truncated,
        extra={"announced_total": str(announced)},
    )
