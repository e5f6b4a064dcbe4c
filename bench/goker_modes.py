"""GoKer recall per godiag mode, and combined: `run --leaks`, `goroutines`, `analyze`.

The kernels and their labels are bench/goker_eval.py's (read from GOROOT at run time, never
copied into this repository). Each kernel is turned into a test package in a temporary
module: the kernel, the directory's main.go, and a generated `goker_test.go` whose one test
calls the kernel's entry function (which starts the buggy goroutines and returns, as a
test that passes while leaking would). Then, per kernel:

- run --leaks: `godiag run --leaks --leak-dumps DIR -- go test .`; a hit when one of its
  findings is located (the blocked goroutine's user frame) in a labelled function or one
  it calls directly (goker_eval's `hit` criterion), or when one of the first user frames
  the finding shows (SHOWN) is a labelled function: the runtime names a leak by the
  goroutine's entry function, and that is the frame a reader sees under the blocked line;
- goroutines: `godiag goroutines` on the dump the wrapped TestMain took after the test;
  the same criterion on its suspect groups (user frame, and the first user frames);
- analyze: goker_eval.analyze (the static analyzer), its `hit`;
- combined: any of the three.

Manifested: the bug happened in that run -- the dump after the test (or the dump of a test
timeout) holds a blocked goroutine running a labelled function (own frames, not its
ancestry). A kernel whose bug did not manifest is run once more; recall of the dynamic
modes and the combined recall are counted over the kernels where it manifested (a bug that
did not happen cannot be seen in a dump; the static analyzer's figure over all kernels is
goker_eval's). goleak's published recall on GoKer (43/68 = 63.2%) is printed beside it.

Usage: python -P bench/goker_modes.py [--only NAME,...] [--jobs N] [--json OUT] [--shown-frames N]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("goker_eval", HERE / "goker_eval.py")
assert _spec and _spec.loader
ge = importlib.util.module_from_spec(_spec)
sys.modules["goker_eval"] = ge
_spec.loader.exec_module(ge)

GOLEAK = (43, 68)  # goleak's published recall on GoKer
MODES = ("run --leaks", "goroutines", "analyze")
ATTEMPTS = 2
SHOWN = 10  # user frames a leak finding shows (leaks.SHOWN_FRAMES); --shown-frames
_BLOCKED = re.compile(r"^goroutine \d+ \[(?!running|runnable|syscall)[^\]]*\]", re.M)


@dataclass
class Outcome:
    kernel: Any
    manifested: bool = False
    hits: dict[str, bool] = field(default_factory=dict)
    where: dict[str, list[str]] = field(default_factory=dict)
    # by the blocked line alone (goker_eval's criterion), without the shown frames
    by_line: dict[str, bool] = field(default_factory=dict)
    attempts: int = 0
    error: str = ""


def entry_function(src: str) -> str:
    m = re.search(r'register\w*\("\w+",\s*(\w+)\)', src)
    if not m:
        raise ValueError("no register call")
    return m.group(1)


def own_frames(block: str) -> list[str]:
    """Function names of a goroutine's own frames (not its ancestry, not `created by`)."""
    names = []
    for ln in block.split("\n[originating from", 1)[0].splitlines()[1:]:
        if ln.startswith(("\t", "created by ")) or not ln.strip():
            continue
        names.append(ln.rsplit("(", 1)[0])
    return names


def manifested(text: str, labels: list[str]) -> bool:
    """A blocked goroutine of the dump runs a labelled function."""
    # package main of a test binary is named by its import path
    wanted = {f"{pkg}.{lab}" for lab in labels for pkg in ("main", "gokerkernel")}
    for block in re.split(r"\n\s*\n", text):
        block = block.strip()
        header = block.find("goroutine ")
        if header < 0:
            continue
        block = block[header:]
        if _BLOCKED.match(block) and wanted & set(own_frames(block)):
            return True
    return False


def in_spans(spans: list[Any], file: str, line: int, kernel_file: str) -> list[str]:
    if Path(str(file)).name != kernel_file:
        return []
    return sorted({sp.name for sp in spans if sp.start <= int(line) <= sp.end})


def labelled_frames(frames: list[dict[str, Any]], labels: list[str], kernel_file: str) -> list[str]:
    """Labelled functions among the first SHOWN user frames of a group (in the kernel)."""
    user = [f for f in frames if Path(str(f.get("file"))).name == kernel_file][:SHOWN]
    names = {str(f["function"]).split(".", 1)[1] for f in user if "." in str(f["function"])}
    return sorted(names & set(labels))


def group_hits(
    g: dict[str, Any], near: list[Any], labels: list[str], kernel_file: str
) -> tuple[list[str], list[str]]:
    """What a reported group names: its user frame's function span; labelled frames."""
    uf = g.get("user_frame")
    where = in_spans(near, uf["file"], uf["line"], kernel_file) if uf else []
    return where, labelled_frames(g.get("frames", []), labels, kernel_file)


def run_kernel(godiag: list[str], kernel: Any, go_version: str, env: dict[str, str]) -> Outcome:
    src = kernel.path.read_text()
    spans = ge.function_spans(src)
    by_name = {s.name: s for s in spans}
    near = ge.labelled_spans(src, spans, [by_name[x] for x in kernel.labels if x in by_name], 1)
    out = Outcome(kernel)
    fname = kernel.path.name
    for attempt in range(1, ATTEMPTS + 1):
        out.attempts = attempt
        with tempfile.TemporaryDirectory(prefix="goker-leaks-") as tmp:
            mod = Path(tmp) / "mod"
            dumps = Path(tmp) / "dumps"
            mod.mkdir()
            (mod / fname).write_text(src)
            (mod / "main.go").write_text((kernel.path.parent / "main.go").read_text())
            (mod / "go.mod").write_text(f"module gokerkernel\n\ngo {go_version}\n")
            (mod / "goker_test.go").write_text(
                'package main\n\nimport "testing"\n\n'
                f"func TestGoker(t *testing.T) {{ {entry_function(src)}() }}\n"
            )
            doc_path = Path(tmp) / "run.json"
            proc = subprocess.run(
                [
                    *godiag,
                    *("run", "--leaks", "--leak-dumps", str(dumps), "--timeout", "120s"),
                    *("--format", "json", "-o", str(doc_path), "-q"),
                    *("--", "go", "test", "-timeout", "20s", "."),
                ],
                cwd=mod,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if not doc_path.exists():
                out.error = proc.stderr.strip()[-300:]
                continue
            doc = json.loads(doc_path.read_text())
            texts = [Path(p).read_text() for p in sorted(map(str, dumps.glob("*.end.txt")))]
            texts += [d["text"] for d in doc.get("dumps", [])]
            out.manifested = any(manifested(t, kernel.labels) for t in texts)
            where: list[str] = []
            for f in doc["findings"]:
                loc = f.get("location") or {}
                if loc.get("line"):
                    where += in_spans(near, loc["file"], loc["line"], fname)
            out.by_line["run --leaks"] = bool(where)
            for leak in (doc.get("leaks") or {}).get("leaks", [])[:50]:  # one per finding
                where += group_hits(leak, near, kernel.labels, fname)[1]
            out.where["run --leaks"] = sorted(set(where))
            where = []
            line_hit = False
            for dump in sorted(dumps.glob("*.end.txt")):
                g = subprocess.run(
                    [*godiag, "goroutines", str(dump), "--format", "json"],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if g.returncode not in (0, 1):
                    out.error = g.stderr.strip()[-300:]
                    continue
                gdoc = json.loads(g.stdout)
                for s in gdoc["suspects"]:
                    lines, frames = group_hits(
                        gdoc["groups"][s["group"]], near, kernel.labels, fname
                    )
                    line_hit = line_hit or bool(lines)
                    where += lines + frames
            out.by_line["goroutines"] = line_hit
            out.where["goroutines"] = sorted(set(where))
        if out.manifested:
            break
    res = ge.analyze(shlex.join(godiag), kernel, go_version)
    out.where["analyze"] = res.matched
    out.by_line["analyze"] = bool(res.matched)
    if res.error:
        out.error = out.error or res.error
    out.hits = {m: bool(out.where.get(m)) for m in MODES}
    return out


def rate(n: int, d: int) -> str:
    return f"{n}/{d} = {100 * n / d:.1f}%" if d else "0/0"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--godiag", default=str(Path(sys.executable).parent / "godiag"))
    ap.add_argument("--json", type=Path, help="write per-kernel results here")
    ap.add_argument("--only", default="", help="comma-separated kernel names")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument(
        "--shown-frames", type=int, default=SHOWN, help="user frames of a group that count"
    )
    args = ap.parse_args(argv)
    globals()["SHOWN"] = args.shown_frames
    goroot = Path(ge.go_env("GOROOT"))
    if not (goroot / ge.KERNELS_REL).is_dir() or not (goroot / ge.RUNTIME_TEST_REL).is_file():
        print(f"skip: {goroot / ge.KERNELS_REL} not in this Go; needs Go 1.26+")
        return 0
    go_version = re.sub(r"^go(\d+\.\d+).*", r"\1", ge.go_env("GOVERSION"))
    kernels = ge.load_kernels(goroot)
    if args.only:
        wanted = set(args.only.split(","))
        kernels = [k for k in kernels if k.name in wanted]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GO")}
    env.update(GOFLAGS="-buildvcs=false", GOWORK="off", GOPROXY="off", GOTOOLCHAIN="local")
    env["GOCACHE"] = ge.go_env("GOCACHE")
    godiag = shlex.split(args.godiag)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(lambda k: run_kernel(godiag, k, go_version, env), kernels))
    for r in results:
        marks = " ".join(("HIT " if r.hits.get(m) else "-   ") for m in MODES)
        man = "manifested" if r.manifested else "not seen  "
        err = f" ERROR {r.error}" if r.error else ""
        print(f"{r.kernel.name:<16} {man} {marks}{err}")
    seen = [r for r in results if r.manifested]
    print(
        f"\nGoKer kernels: {len(results)}; the bug manifested in {len(seen)} (in one of "
        f"{ATTEMPTS} runs of the test)"
    )
    print(
        "recall over the kernels where the bug manifested: blocked line or first "
        f"{SHOWN} user frames | blocked line only"
    )
    for m in MODES:
        hits = sum(r.hits[m] for r in seen)
        line = sum(r.by_line.get(m, False) for r in seen)
        print(f"  {m:<12} {rate(hits, len(seen))} | {rate(line, len(seen))}")
    combined = sum(any(r.hits.values()) for r in seen)
    line = sum(any(r.by_line.values()) for r in seen)
    print(f"  {'combined':<12} {rate(combined, len(seen))} | {rate(line, len(seen))}")
    print(f"  {'goleak':<12} {rate(*GOLEAK)} (published, over 68 GoKer kernels)")
    allk = sum(any(r.hits.values()) for r in results)
    print(f"combined over all {len(results)} kernels: {rate(allk, len(results))}")
    if args.json:
        args.json.write_text(
            json.dumps(
                [
                    {
                        "kernel": r.kernel.name,
                        "manifested": r.manifested,
                        "attempts": r.attempts,
                        "hits": r.hits,
                        "hits_by_line": r.by_line,
                        "where": r.where,
                        "error": r.error,
                    }
                    for r in results
                ],
                indent=1,
            )
        )
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
