"""What `godiag run` costs on top of the command it supervises.

Anchor: the same go command run directly. Figures: wall time (median of N runs) and
CPU time of the whole process tree (user+sys from wait4), plain vs supervised, and the
ratios. The workload is `go test -count=1` of a small module with a warm build cache,
so fixed costs (the env snapshot, process start, /proc sampling) are visible.

    python bench/run_overhead.py [N]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.gohelpers import hermetic_go_env

TEST = """package app

import (
	"testing"
	"time"
)

func TestWork(t *testing.T) {
	deadline := time.Now().Add(2 * time.Second)
	n := 0
	for time.Now().Before(deadline) {
		n++
	}
}
"""


def measure(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv} failed")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory() as tmp:
        mod = Path(tmp)
        (mod / "go.mod").write_text("module example.com/app\n\ngo 1.22\n")
        (mod / "a.go").write_text("package app\n")
        (mod / "a_test.go").write_text(TEST)
        env = hermetic_go_env()
        cmd = ["go", "test", "-count=1", "."]
        measure(cmd, mod, env)  # warm the build cache
        plain = [measure(cmd, mod, env) for _ in range(n)]
        sup_cmd = [sys.executable, "-m", "godiag", "run", "-q", "--", *cmd]
        supervised = [measure(sup_cmd, mod, env) for _ in range(n)]
    pw, pc = statistics.median(w for w, _ in plain), statistics.median(c for _, c in plain)
    sw, sc = (
        statistics.median(w for w, _ in supervised),
        statistics.median(c for _, c in supervised),
    )
    print(f"workload: go test -count=1 (2 s busy test), {n} runs each, medians")
    print(f"anchor  plain go test : wall {pw:.2f}s  cpu {pc:.2f}s")
    print(f"godiag  run -- go test: wall {sw:.2f}s  cpu {sc:.2f}s")
    print(f"ratio   wall {sw / pw:.2f}x (+{sw - pw:.2f}s)  cpu {sc / pc:.2f}x (+{sc - pc:.2f}s)")


if __name__ == "__main__":
    main()
