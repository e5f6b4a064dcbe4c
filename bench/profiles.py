"""Benchmark: `godiag profile --top 20` vs `go tool pprof -top -nodecount=20`.

Inputs: the largest CPU profile of the corpus (google/pprof's large.cpu) and a
generated Go-like heap profile of ~50 MB of protobuf (gzipped on disk, as Go writes
it), cached under .cache/bench. Each tool runs REPEAT times (once on the heap); the
best wall time and the CPU time (user+sys of the child) of that run are printed, then the ratios
godiag/pprof (below 1.0: godiag is faster).

Run: .venv/bin/python bench/profiles.py   (or `make bench`)
"""

from __future__ import annotations

import os
import platform
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "tests" / "data" / "corpus" / "pprof"
CACHE = REPO / ".cache" / "bench"
REPEAT = 3
TARGET_BYTES = 50 * 1024 * 1024


def generated_heap() -> Path:
    """A heap profile shaped like a big Go service's: deep stacks over many functions."""
    out = CACHE / "heap-50mb.pb.gz"
    if out.exists():
        return out
    sys.path.insert(0, str(REPO / "src"))
    from godiag.formats.pprof_write import encode
    from godiag.model.profile import Function, Line, Location, Mapping, Profile, Sample, ValueType

    rng = random.Random(1)
    mapping = Mapping(
        1, 0x400000, 0x4000000, 0, "/usr/local/bin/service", "", True, True, True, True
    )
    funcs = [
        Function(i + 1, f"example.com/svc/pkg{i % 97}.(*T{i % 13}).Method{i}",
                 f"example.com/svc/pkg{i % 97}.(*T{i % 13}).Method{i}",
                 f"/src/svc/pkg{i % 97}/file{i % 7}.go", 10 + i % 300)
        for i in range(4000)
    ]  # fmt: skip
    locs = []
    for i in range(40_000):
        f = funcs[rng.randrange(len(funcs))]
        lines = (Line(f, f.start_line + rng.randrange(50)),)
        if i % 9 == 0:  # some inlined calls
            g = funcs[rng.randrange(len(funcs))]
            lines = (Line(g, g.start_line + 3), *lines)
        locs.append(Location(i + 1, mapping, 0x400000 + 16 * i, lines))
    roots = locs[:50]
    samples = []
    size = 0
    while size < TARGET_BYTES:
        depth = rng.randint(8, 40)
        stack = [rng.choice(roots)] + [locs[rng.randrange(len(locs))] for _ in range(depth - 1)]
        stack.reverse()  # leaf first
        objs = rng.randint(1, 200)
        each = rng.choice((16, 64, 512, 4096, 32768))
        live = rng.randint(0, objs)
        samples.append(Sample(tuple(stack), (objs, objs * each, live, live * each)))
        size += 3 * depth + 24
    prof = Profile(
        sample_types=(
            ValueType("alloc_objects", "count"),
            ValueType("alloc_space", "bytes"),
            ValueType("inuse_objects", "count"),
            ValueType("inuse_space", "bytes"),
        ),
        samples=tuple(samples),
        mappings=(mapping,),
        locations=tuple(locs),
        functions=tuple(funcs),
        period_type=ValueType("space", "bytes"),
        period=524288,
        time_nanos=time.time_ns(),
        default_sample_type="inuse_space",
    )
    raw = encode(prof, compress=False)
    CACHE.mkdir(parents=True, exist_ok=True)
    import gzip

    out.write_bytes(gzip.compress(raw, 6))
    print(f"generated {out}: {len(raw) / 2**20:.1f} MB protobuf, {len(samples)} samples")
    return out


def run(cmd: list[str], repeat: int) -> tuple[float, float]:
    """Best of `repeat` runs: (wall seconds, child CPU seconds of that run)."""
    best = (float("inf"), 0.0)
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        best = min(best, (wall, cpu))
    return best


def main() -> int:
    godiag = [sys.executable, "-m", "godiag", "profile", "--top", "20"]
    pprof = ["go", "tool", "pprof", "-top", "-nodecount=20"]
    inputs = [
        (
            "largest corpus CPU profile",
            CORPUS / "google-pprof/internal-proftest-testdata/large.cpu",
        ),
        ("generated 50 MB heap profile", generated_heap()),
    ]
    print(f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cpus, "
          f"python {platform.python_version()}, load {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"{'input':32} {'pprof wall':>10} {'godiag wall':>11} {'ratio':>6} "
          f"{'pprof cpu':>9} {'godiag cpu':>10} {'ratio':>6}")  # fmt: skip
    for label, path in inputs:
        # pprof needs minutes on the big heap profile: one run each there.
        repeat = REPEAT if path.stat().st_size < 10 * 2**20 else 1
        pw, pc = run([*pprof, str(path)], repeat)
        gw, gc = run([*godiag, str(path)], repeat)
        print(
            f"{label:32} {pw:9.2f}s {gw:10.2f}s {gw / pw:6.2f} {pc:8.2f}s {gc:9.2f}s {gc / pc:6.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
