"""Lock holders in GoKer's lock deadlocks: does diagnose name the holder, and at which line?

The kernels and their labels are bench/goker_eval.py's (read from GOROOT at run time, never
copied). Each kernel that uses a sync.Mutex or RWMutex is run as a test in a temporary module
(the kernel, its directory's main.go, a generated test that calls the kernel's entry
function, waits for its goroutines to block and writes a `debug=2` goroutine dump). Kernels
whose dump has a goroutine waiting on a sync lock are then located with the deadlock and
lock-contention kinds' locators of the godiag on PYTHONPATH (one dump, as a diagnosis with a
single dump sees it), so that two checkouts can be compared on the same dumps (--dumps).

Per kernel: the location each locator names, whether its evidence names a holder (HOLDER),
a lock taken again through a method of the waiter's own type (AGAIN) or a lock-order cycle
(CYCLE), and whether the line lies in a labelled function or one it calls (goker_eval's `hit`: the
runtime labels every leaking goroutine's entry function, holders' and waiters' alike).
GoKer labels functions, not holder lines: the printed holder lines are for reading.

Usage: python -P bench/goker_holder.py [--dumps DIR] [--only NAME,...]
  --dumps DIR: keep the dumps there, and reuse the ones already there
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("goker_eval", HERE / "goker_eval.py")
assert _spec and _spec.loader
ge = importlib.util.module_from_spec(_spec)
sys.modules["goker_eval"] = ge
_spec.loader.exec_module(ge)

TEST = """package main

import (
\t"os"
\t"runtime/pprof"
\t"testing"
\t"time"
)

func TestGoker(t *testing.T) {
\t%s()
\ttime.Sleep(500 * time.Millisecond)
\tf, _ := os.Create(%s)
\tpprof.Lookup("goroutine").WriteTo(f, 2)
\tf.Close()
}
"""


def entry_function(src: str) -> str:
    m = re.search(r'register\w*\("\w+",\s*(\w+)\)', src)
    if not m:
        raise ValueError("no register call")
    return m.group(1)


def dump_of(kernel: ge.Kernel, out: Path, go_version: str, env: dict[str, str]) -> None:
    src = kernel.path.read_text()
    with tempfile.TemporaryDirectory(prefix="goker-holder-") as tmp:
        mod = Path(tmp)
        (mod / kernel.path.name).write_text(src)
        (mod / "main.go").write_text((kernel.path.parent / "main.go").read_text())
        (mod / "go.mod").write_text(f"module gokerkernel\n\ngo {go_version}\n")
        (mod / "goker_test.go").write_text(TEST % (entry_function(src), json.dumps(str(out))))
        subprocess.run(["go", "test", "-count=1", "-timeout", "30s", "."], cwd=mod, env=env,
                       capture_output=True, check=False)  # fmt: skip


def locate(text: bytes, name: str) -> dict[str, tuple[dict[str, object] | None, list[str]]]:
    from godiag.analysis.goroutine_rules import category
    from godiag.analysis.rootcause.derived import derive
    from godiag.analysis.rootcause.kinds import KINDS
    from godiag.formats.goroutines import parse
    from godiag.model.observation import Observation

    dump = parse(text, name, strict=False)
    if not any(category(g.state, g.frames) == "lock" for g in dump.goroutines):
        return {}
    obs = Observation(url=name, dumps=[dump])
    d = derive(obs)
    out = {}
    for k in ("deadlock", "lock-contention"):
        loc = KINDS[k].locate
        assert loc is not None
        out[k] = loc(obs, d)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--dumps", type=Path)
    ap.add_argument("--only", default="")
    args = ap.parse_args(argv)
    goroot = Path(ge.go_env("GOROOT"))
    if not (goroot / ge.KERNELS_REL).is_dir():
        print(f"skip: {goroot / ge.KERNELS_REL} not in this Go; needs Go 1.26+")
        return 0
    go_version = re.sub(r"^go(\d+\.\d+).*", r"\1", ge.go_env("GOVERSION"))
    kernels = [k for k in ge.load_kernels(goroot) if "Mutex" in k.path.read_text()]
    if args.only:
        kernels = [k for k in kernels if k.name in set(args.only.split(","))]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GO")}
    env.update(GOFLAGS="-buildvcs=false", GOWORK="off", GOPROXY="off", GOTOOLCHAIN="local")
    env["GOEXPERIMENT"] = "goroutineleakprofile"  # the kernels write that profile
    env["GOCACHE"] = ge.go_env("GOCACHE")
    keep = args.dumps or Path(tempfile.mkdtemp(prefix="goker-holder-dumps-"))
    keep.mkdir(parents=True, exist_ok=True)
    # located, holder named, lock taken again by its holder, line in a labelled span
    counts = {k: [0, 0, 0, 0, 0] for k in ("deadlock", "lock-contention")}
    n = 0
    for kernel in kernels:
        path = keep / f"{kernel.name}.txt"
        if not path.exists():
            dump_of(kernel, path, go_version, env)
        if not path.exists():
            print(f"{kernel.name:32} no dump")
            continue
        located = locate(path.read_bytes(), kernel.name)
        if not located:
            continue
        n += 1
        src = kernel.path.read_text()
        spans = ge.function_spans(src)
        by_name = {s.name: s for s in spans}
        near = ge.labelled_spans(src, spans, [by_name[x] for x in kernel.labels if x in by_name], 1)
        for kind, (loc, ev) in located.items():
            held = any("the holder" in e for e in ev)
            again = any("not reentrant" in e for e in ev)  # holder._reentrant
            cycle = bool(ev) and ev[0].startswith("lock-order cycle")  # lockcycle
            line = int(loc["line"]) if loc else 0  # type: ignore[call-overload]
            inside = (
                bool(loc)
                and Path(str(loc["file"])).name == kernel.path.name
                and any(sp.start <= line <= sp.end for sp in near)
            )
            c = counts[kind]
            c[0] += loc is not None
            c[1] += held
            c[2] += again
            c[3] += inside
            c[4] += cycle
            fn = str(loc["function"]).rsplit(".", 1)[-1] if loc else "-"
            who = "CYCLE" if cycle else "HOLDER" if held else "AGAIN" if again else "waiter"
            print(f"{kernel.name:32} {kind:16} {who:6} "
                  f"{'in-label' if inside else '-':8} {fn}:{line}")  # fmt: skip
    print(f"\n{n} kernels with a goroutine waiting on a sync lock (dumps in {keep})")
    for kind, (named, held, again, inside, cycles) in counts.items():
        print(f"{kind:16} located {named}/{n}, holder named {held}/{n}, lock taken again "
              f"by its holder {again}/{n}, lock-order cycle {cycles}/{n}, line in a "
              f"labelled function (+1 call) {inside}/{n}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
