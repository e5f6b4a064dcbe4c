"""Benchmark: `godiag doctor` vs plain `go list -e -json ./...` on a 200-package module.

Generates the module (tests, embeds, build constraints) under bench/out/doctor-mod,
warms the caches, then times each command (best of 5) and prints the ratio.
Bar (QUALITY.md): default doctor under 3x of go list, and under 5 s.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "doctor-mod"
N = 200


def generate() -> None:
    (OUT / "go.mod").parent.mkdir(parents=True, exist_ok=True)
    (OUT / "go.mod").write_text("module bench.example/mod\n\ngo 1.21\n")
    for i in range(N):
        d = OUT / f"pkg{i:03d}"
        (d / "static").mkdir(parents=True, exist_ok=True)
        imp = f'\t"bench.example/mod/pkg{i - 1:03d}"\n' if i % 10 else ""
        use = f"\t_ = pkg{i - 1:03d}.F\n" if i % 10 else ""
        (d / "a.go").write_text(
            f'package pkg{i:03d}\n\nimport (\n\t"embed"\n{imp})\n\n'
            f"//go:embed static\nvar Static embed.FS\n\nfunc F() int {{\n{use}\treturn {i}\n}}\n"
        )
        (d / "static" / "index.html").write_text(f"<p>{i}</p>\n")
        (d / "b_linux.go").write_text(f'package pkg{i:03d}\n\nfunc OS() string {{ return "l" }}\n')
        (d / "b_other.go").write_text(
            f'//go:build !linux\n\npackage pkg{i:03d}\n\nfunc OS() string {{ return "o" }}\n'
        )
        (d / "a_test.go").write_text(
            f'package pkg{i:03d}\n\nimport "testing"\n\nfunc TestF(t *testing.T) {{\n'
            f"\tif F() != {i} {{\n\t\tt.Fatal()\n\t}}\n}}\n"
        )


def env() -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("GO")}
    e.update(
        GOFLAGS="",
        GOENV="off",
        GOWORK="off",
        GOTOOLCHAIN="local",
        GOPROXY="off",
        GOPATH=os.environ.get("GOPATH", str(Path.home() / "go")),
    )
    return e


def best(cmd: list[str], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(
            cmd,
            cwd=OUT,
            env=env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> int:
    generate()
    subprocess.run(["go", "build", "./..."], cwd=OUT, env=env(), check=True)
    godiag = [sys.executable, "-m", "godiag", "doctor", str(OUT), "--format", "json"]
    best(godiag, 1)  # warm
    anchor = best(["go", "list", "-e", "-json", "./..."])
    default = best(godiag)
    deep = best([*godiag, "--deep"], 3)
    print(f"module: {N} packages (tests, embeds, constraints) at {OUT}")
    print(f"go list -e -json ./...   {anchor:7.3f} s  (anchor)")
    print(f"godiag doctor            {default:7.3f} s  ratio {default / anchor:5.2f}x")
    print(f"godiag doctor --deep     {deep:7.3f} s  ratio {deep / anchor:5.2f}x")
    ok = default < 5.0 and default / anchor < 3.0
    print("bar (under 3x and under 5 s):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
