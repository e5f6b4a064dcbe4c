"""Benchmark: parse + group goroutine dumps of 10k and 100k goroutines.

The dumps are written by a real Go program (go/cmd/gendump: leaking senders, workers
in select, lock/WaitGroup waiters, sleepers). Compared, each as its own process so wall
time and peak RSS are measured the same way (os.wait4 rusage of the child):

- godiag: formats.goroutines.parse + analysis.goroutines.analyze (grouping, categories);
- panicparse `pp` (installed here with `go install` into a bench-local GOBIN);
- DataDog gostackparse, through a tiny driver built here in a temporary module that
  parses and groups by state + frames (its code is generated, never committed).

Run: `make bench` (or `.venv/bin/python bench/goroutines.py [--sizes 10000,100000]`).
The first run needs the Go module proxy to fetch pp and gostackparse.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / ".cache" / "bench-goroutines"
PP_VERSION = "latest"
GSP_VERSION = "latest"

GODIAG_DRIVER = """
import sys
from godiag.analysis.goroutines import analyze
from godiag.formats.goroutines import parse
data = open(sys.argv[1], "rb").read()
doc = analyze(parse(data, sys.argv[1]), sys.argv[1])
print(doc["total"], len(doc["groups"]))
"""

GSP_DRIVER = """package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/DataDog/gostackparse"
)

func main() {
	f, err := os.Open(os.Args[1])
	if err != nil {
		panic(err)
	}
	defer f.Close()
	goroutines, _ := gostackparse.Parse(f)
	groups := map[string]int{}
	var b strings.Builder
	for _, g := range goroutines {
		b.Reset()
		b.WriteString(g.State)
		for _, fr := range g.Stack {
			b.WriteString("|")
			b.WriteString(fr.Func)
			b.WriteString(" ")
			b.WriteString(fr.File)
			b.WriteString(":")
			b.WriteString(strconv.Itoa(fr.Line))
		}
		groups[b.String()]++
	}
	fmt.Println(len(goroutines), len(groups))
}
"""


def go_env(**over: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GOFLAGS", "GOWORK")}
    env.update({"GOTOOLCHAIN": "local", "GOWORK": "off", "CGO_ENABLED": "0"})
    env.update(over)
    return env


def sh(cmd: list[str], **kw: object) -> None:
    subprocess.run(cmd, check=True, **kw)  # type: ignore[call-overload]


def build_tools() -> dict[str, list[str]]:
    WORK.mkdir(parents=True, exist_ok=True)
    gobin = WORK / "gobin"
    gendump = WORK / "gendump"
    print("building go/cmd/gendump ...", file=sys.stderr)
    sh(
        ["go", "build", "-o", str(gendump), "./cmd/gendump"],
        cwd=REPO / "go",
        env=go_env(GOFLAGS="-buildvcs=false"),
    )
    pp = gobin / "pp"
    if not pp.exists():
        print("installing panicparse pp ...", file=sys.stderr)
        sh(
            ["go", "install", f"github.com/maruel/panicparse/v2/cmd/pp@{PP_VERSION}"],
            env=go_env(GOBIN=str(gobin)),
        )
    gsp = WORK / "gostackparse-driver"
    if not gsp.exists():
        print("building the gostackparse driver ...", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="gsp-driver-") as tmp:
            Path(tmp, "main.go").write_text(GSP_DRIVER)
            env = go_env()
            sh(["go", "mod", "init", "gspdriver"], cwd=tmp, env=env, capture_output=True)
            sh(["go", "get", f"github.com/DataDog/gostackparse@{GSP_VERSION}"], cwd=tmp, env=env)
            sh(["go", "build", "-o", str(gsp), "."], cwd=tmp, env=env)
    return {
        "gendump": [str(gendump)],
        "godiag": [sys.executable, "-c", GODIAG_DRIVER],
        "panicparse": [str(pp), "-parse=false"],
        "gostackparse": [str(gsp)],
    }


def measure(cmd: list[str], path: Path, timeout: float) -> tuple[float, float, float] | None:
    """Wall s, CPU s (user+sys) and peak RSS (MB) of `cmd path`; None when over `timeout`.

    CPU time is reported too because the wall time of a shared machine is noisy.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(
        [*cmd, str(path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    _, status, usage = os.wait4(proc.pid, 0)
    timer.cancel()
    wall = time.perf_counter() - start
    err = proc.stderr.read() if proc.stderr else b""
    if proc.stderr:
        proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    if wall >= timeout and code < 0:
        return None
    if code != 0:
        raise RuntimeError(f"{cmd[0]} failed ({code}): {err[:300]!r}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--repeat", type=int, default=3, help="runs per tool; the best is kept")
    ap.add_argument(
        "--timeout", type=float, default=300.0, help="seconds before a tool run is stopped"
    )
    args = ap.parse_args()
    if shutil.which("go") is None:
        print("bench/goroutines: needs the go command on PATH", file=sys.stderr)
        return 2
    tools = build_tools()
    gov = subprocess.run(["go", "version"], capture_output=True, text=True).stdout.strip()
    print(
        f"# {platform.machine()} {os.cpu_count()} cpus, load {os.getloadavg()[0]:.1f}, "
        f"{platform.python_implementation()} {platform.python_version()}, {gov}, "
        f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC"
    )
    print(
        f"{'goroutines':>10} {'MB':>6} {'tool':<13} {'wall s':>8} {'cpu s':>8} "
        f"{'MB/s':>7} {'RSS MB':>7}"
    )
    for n in (int(s) for s in args.sizes.split(",")):
        dump = WORK / f"dump-{n}.txt"
        with open(dump, "wb") as out:
            sh([*tools["gendump"], "-n", str(n)], stdout=out)
        mb = dump.stat().st_size / 2**20
        best: dict[str, tuple[float, float, float] | None] = {}
        for name in ("godiag", "gostackparse", "panicparse"):
            for _ in range(args.repeat):
                got = measure(tools[name], dump, args.timeout)
                prev = best.get(name)
                if got is None:
                    best[name] = None
                    break  # over the time cap: no point repeating
                if prev is None or got[0] < prev[0]:
                    best[name] = got
        for name, res in best.items():
            if res is None:
                print(f"{n:>10} {mb:>6.1f} {name:<13} {'>' + str(int(args.timeout)):>8} (stopped)")
                continue
            wall, cpu, rss = res
            print(
                f"{n:>10} {mb:>6.1f} {name:<13} {wall:>8.2f} {cpu:>8.2f} "
                f"{mb / wall:>7.1f} {rss:>7.0f}"
            )
        g, s_, p = best["godiag"], best["gostackparse"], best["panicparse"]
        assert g is not None and s_ is not None
        print(
            f"{n:>10} godiag/gostackparse: wall {g[0] / s_[0]:.2f}x, cpu {g[1] / s_[1]:.2f}x "
            f"(bar 5x, goal 3x)"
        )
        if p is None:
            print(f"{n:>10} panicparse/godiag: wall > {args.timeout / g[0]:.1f}x (pp stopped)")
        else:
            print(
                f"{n:>10} panicparse/godiag: wall {p[0] / g[0]:.2f}x, cpu {p[1] / g[1]:.2f}x "
                f"(>1: godiag faster)"
            )
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
