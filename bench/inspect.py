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


def timed(cmd: list[str]) -> tuple[float, bytes]:
    best: list[float] = []
    out = b""
    for _ in range(RUNS):
        t = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, env=hermetic_go_env(), check=False)
        best.append(time.perf_counter() - t)
        out = p.stdout
    return statistics.median(best), out


def main() -> None:
    d = make_dir()
    n = len(list(d.iterdir()))
    size = sum(f.stat().st_size for f in d.iterdir())
    go_t, go_out = timed(["go", "version", "-m", "-json", str(d)])
    gd_t, gd_out = timed([*GODIAG, "inspect", str(d), "--format", "json", "--fail-on", "never"])
    doc = json.loads(gd_out)
    assert len(doc["binaries"]) == n, (len(doc["binaries"]), n)
    assert go_out.count(b'"GoVersion"') == n
    small = min(d.iterdir(), key=lambda f: f.stat().st_size)
    go1, _ = timed(["go", "version", "-m", "-json", str(small)])
    gd1, _ = timed([*GODIAG, "inspect", str(small), "--format", "json", "--fail-on", "never"])
    print(f"machine: {platform.machine()} {os.cpu_count()} cpus, {platform.python_version()}")
    print(f"directory: {n} Go binaries, {size / 2**20:.0f} MiB ({d})")
    print(f"go version -m -json DIR        {go_t * 1000:8.1f} ms (median of {RUNS})")
    print(f"godiag inspect DIR --format json {gd_t * 1000:6.1f} ms")
    print(f"ratio godiag/go: {gd_t / go_t:.2f}x (bar: 1.5x)")
    print(f"single binary {small.name} ({small.stat().st_size / 2**20:.1f} MiB):")
    print(f"  go version -m -json {go1 * 1000:.1f} ms, godiag inspect {gd1 * 1000:.1f} ms")


if __name__ == "__main__":
    main()
