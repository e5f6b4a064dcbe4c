"""Benchmark: `godiag inspect DIR --format json` vs `go version -m -json DIR`.

The directory holds at least 100 Go binaries: the installed toolchain's (bin/, pkg/tool/),
the variants the tests build (tests/inspect_variants.py) and the old esbuild releases when
fetched (`make old-go-binaries`), copied round-robin until there are enough. Also times one
small binary alone, so start-up cost is visible on its own. Bar (QUALITY.md): within 1.5x.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.gohelpers import hermetic_go_env  # noqa: E402
from tests.inspect_variants import build_variants  # noqa: E402

WANT = 120
RUNS = 7
GODIAG = [str(Path(sys.executable).with_name("godiag"))]


def sources() -> list[Path]:
    goroot = Path(subprocess.check_output(["go", "env", "GOROOT"], text=True).strip())
    files = sorted((goroot / "bin").iterdir()) + sorted((goroot / "pkg" / "tool").glob("*/*"))
    files += sorted(build_variants().values())
    old = REPO / ".cache" / "old-go-binaries"
    files += sorted(old.glob("*/package/bin/esbuild")) + sorted(old.glob("*/package/*.exe"))
    return [f for f in files if f.is_file() and f.read_bytes()[:4] != b"#!/u"]


def make_dir() -> Path:
    out = REPO / ".cache" / "bench-inspect"
    if out.exists() and len(list(out.iterdir())) >= WANT:
        return out
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    src = sources()
    for i in range(WANT):
        f = src[i % len(src)]
        dst = out / f"{i:03d}-{f.name}"
        shutil.copy2(f, dst)
    return out


def timed(cmd: list[str]) -> tuple[float, float, bytes]:
    """Median wall time and median CPU time (user+sys of the child) over RUNS runs.

    CPU time is printed too because on a shared, loaded machine wall time mostly measures
    the scheduler; CPU time is what the tool itself costs."""
    walls: list[float] = []
    cpus: list[float] = []
    out = b""
    for _ in range(RUNS):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, env=hermetic_go_env(), check=False)
        walls.append(time.perf_counter() - t)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
        out = p.stdout
    return statistics.median(walls), statistics.median(cpus), out


def main() -> None:
    d = make_dir()
    n = len(list(d.iterdir()))
    size = sum(f.stat().st_size for f in d.iterdir())
    go_t, go_c, go_out = timed(["go", "version", "-m", "-json", str(d)])
    gd_t, gd_c, gd_out = timed(
        [*GODIAG, "inspect", str(d), "--format", "json", "--fail-on", "never"]
    )
    doc = json.loads(gd_out)
    assert len(doc["binaries"]) == n, (len(doc["binaries"]), n)
    assert go_out.count(b'"GoVersion"') == n
    small = min(d.iterdir(), key=lambda f: f.stat().st_size)
    go1, go1c, _ = timed(["go", "version", "-m", "-json", str(small)])
    gd1, gd1c, _ = timed([*GODIAG, "inspect", str(small), "--format", "json", "--fail-on", "never"])
    print(f"machine: {platform.machine()} {os.cpu_count()} cpus, {platform.python_version()}")
    print(f"directory: {n} Go binaries, {size / 2**20:.0f} MiB ({d})")
    print(f"load average: {os.getloadavg()[0]:.1f}")
    print(f"{'':34}{'wall ms':>9}{'cpu ms':>9}   (medians of {RUNS})")
    print(f"{'go version -m -json DIR':34}{go_t * 1e3:9.1f}{go_c * 1e3:9.1f}")
    print(f"{'godiag inspect DIR --format json':34}{gd_t * 1e3:9.1f}{gd_c * 1e3:9.1f}")
    print(f"ratio godiag/go: wall {gd_t / go_t:.2f}x, cpu {gd_c / go_c:.2f}x (bar: 1.5x)")
    print(f"single binary {small.name} ({small.stat().st_size / 2**20:.1f} MiB), start-up:")
    print(f"{'  go version -m -json FILE':34}{go1 * 1e3:9.1f}{go1c * 1e3:9.1f}")
    print(f"{'  godiag inspect FILE':34}{gd1 * 1e3:9.1f}{gd1c * 1e3:9.1f}")
    per_go = (go_c - go1c) / (n - 1) * 1e3
    per_gd = (gd_c - gd1c) / (n - 1) * 1e3
    print(f"cpu per extra binary: go {per_go:.2f} ms, godiag {per_gd:.2f} ms")


if __name__ == "__main__":
    main()
