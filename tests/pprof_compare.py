"""Run `go tool pprof -top` and read its table back as exact numbers.

`-unit=ns` / `-unit=B` make pprof print unscaled integers, so the comparison is
number for number, not after rounding to "1.28s".
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from godiag.analysis.profiles import build_stacks, top
from godiag.formats.pprof import decode

_ROW = re.compile(r"^\s*(-?[\d.]+)[a-zA-Z]*\s+\S+\s+\S+\s+(-?[\d.]+)[a-zA-Z]*\s+\S+\s+(.*)$")

Row = tuple[int, int, str]


def _pprof_top_text(path: Path, n: int, sample_index: str | None, *extra: str) -> str:
    """What `go tool pprof -top` prints, in the sample type's unscaled unit."""
    prof = decode(path.read_bytes(), str(path))
    unit = prof.sample_types[prof.sample_index(sample_index)].unit
    args = ["go", "tool", "pprof", "-top", f"-nodecount={n}"]
    if sample_index:
        args.append(f"-sample_index={sample_index}")
    args += [*extra, "-unit=ns" if unit == "nanoseconds" else "-unit=B", str(path)]
    return subprocess.run(args, capture_output=True, text=True, timeout=300, check=True).stdout


def pprof_top(path: Path, n: int, sample_index: str | None = None, *extra: str) -> list[Row]:
    out = _pprof_top_text(path, n, sample_index, *extra)
    rows: list[Row] = []
    in_table = False
    for line in out.splitlines():
        if line.strip().startswith("flat"):
            in_table = True
            continue
        if in_table:
            m = _ROW.match(line)
            assert m, f"unexpected pprof line {line!r}"
            rows.append((int(float(m.group(1))), int(float(m.group(2))), m.group(3).strip()))
    return rows


def godiag_top(
    path: Path, n: int, sample_index: str | None = None, **filters: str | None
) -> list[Row]:
    prof = decode(path.read_bytes(), str(path))
    table = top(build_stacks(prof, sample_index, **filters), n)
    return [
        (r.flat, r.cum, r.function + (f" ({r.inline})" if r.inline else "")) for r in table.rows
    ]


_DROPPED = re.compile(r"^Dropped (\d+) nodes? \(cum <= (-?[\d.]+)[a-zA-Z]*\)$")
_OUT_OF = re.compile(r"^Showing top \d+ nodes out of (\d+)$")


def pprof_legend(path: Path, n: int, sample_index: str | None, *extra: str) -> tuple[int, int, int]:
    """(dropped nodes, printed cutoff, nodes kept) from pprof's legend lines."""
    out = _pprof_top_text(path, n, sample_index, *extra)
    dropped = cutoff = 0
    kept = -1
    for line in out.splitlines():
        if m := _DROPPED.match(line.strip()):
            dropped, cutoff = int(m.group(1)), int(float(m.group(2)))
        elif m := _OUT_OF.match(line.strip()):
            kept = int(m.group(1))
    return dropped, cutoff, kept
