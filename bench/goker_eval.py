"""Recall of `godiag analyze` on GoKer, the blocking-bug kernels shipped with Go.

Go (1.26+) ships 63 kernels of real blocking bugs from GoBench/GoKer (MIT) in
$(go env GOROOT)/src/runtime/testdata/testgoroutineleakprofile/goker, one file per bug. They are
read from GOROOT at run time, never copied into this repository: each kernel (with the
directory's main.go, which defines `register`) is copied into a temporary module outside the
checkout and `godiag analyze --format json` is run on it.

Labels. The kernels carry no per-line bug markers. The runtime's own test
(src/runtime/goroutineleakprofile_test.go, gokerTestCases) lists, per kernel, the functions
whose goroutines leak (`\\(\\*Server_grpc795\\)\\.Serve\\(.* \\[sync\\.Mutex\\.Lock\\]`); those are
parsed from GOROOT too (Kubernetes1321, commented out there, from that comment).
The runtime names a leak by the goroutine's entry function, and the blocking statement is often
one call below it (inlined into it). Two figures, both counting a finding by its line and by the
lines its message points at ("locked at line 40"):
- hit: the line lies inside a labelled function or a function it calls directly (one level,
  matched by name) -- the headline figure;
- call tree: the line lies anywhere in the code the leaking goroutines run (labelled functions
  and everything they call, transitively) -- looser, shown beside it.
Closures are named the way the compiler names them: F.func1, F.func1.2, (*T).M.func1.

Usage: python -P bench/goker_eval.py [--json OUT] [--godiag CMD] [--only NAME,...]
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KERNELS_REL = Path("src/runtime/testdata/testgoroutineleakprofile/goker")
RUNTIME_TEST_REL = Path("src/runtime/goroutineleakprofile_test.go")

# Projects whose kernels were not read while the rules were written (reported apart: the
# held-out figure). The others were used to develop the rules.
HELD_OUT = ("moby", "hugo", "serving", "syncthing")

# Kubernetes1321 is kept commented out in the runtime's test (a crash in the original program);
# its frames are quoted from that comment.
EXTRA_LABELS: dict[str, tuple[str, ...]] = {
    "Kubernetes1321": ("NewMux_kubernetes1321", "testMuxWatcherClose_kubernetes1321"),
}


@dataclass
class Span:
    name: str
    start: int
    end: int


@dataclass
class Kernel:
    name: str  # registered name, e.g. Grpc795
    path: Path
    labels: list[str] = field(default_factory=list)

    @property
    def project(self) -> str:
        return re.sub(r"\d+$", "", self.path.stem)


def go_env(var: str) -> str:
    out = subprocess.run(["go", "env", var], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def runtime_labels(test_src: str) -> dict[str, list[str]]:
    """Kernel name -> leaking function names, from gokerTestCases of the runtime's test."""
    start = test_src.find("gokerTestCases := ")
    if start < 0:
        raise SystemExit("goroutineleakprofile_test.go has no gokerTestCases")
    body = test_src[start:]
    labels: dict[str, list[str]] = {}
    current = ""
    for line in body.splitlines():
        if line.strip().startswith("//"):
            continue
        m = re.search(r'make\w*Test\("(\w+)"', line)
        if m:
            current = m.group(1)
            labels.setdefault(current, [])
        for pat in re.findall(r"`([^`]*)`", line):
            if current:
                labels[current].append(frame_name(pat))
        if line.startswith("\t}"):
            break
    return labels


def frame_name(pattern: str) -> str:
    r"""`\(\*T\)\.M\.func1\(.* \[chan send\]` -> `(*T).M.func1`."""
    text = pattern.replace("\\", "")
    m = re.match(r"(.*?)(?:\(\.\*|\.\*)", text)
    name = m.group(1) if m else text
    return name.removeprefix("main.")


_STRIP = re.compile(r"//[^\n]*|/\*.*?\*/|`[^`]*`|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'", re.S)


def is_literal(code: str, i: int) -> bool:
    """Whether the `func` at i starts a function literal, not a func type (`map[int]func() error`).

    After the parameter list, a literal reaches its body's `{` before any `)`, `,`, `;` or end of
    line at its own nesting level; `struct{...}` / `interface{...}` in the result are skipped.
    """
    j = i + 4
    while j < len(code) and code[j] in " \t":
        j += 1
    if j >= len(code) or code[j] != "(":
        return False
    before = code[:i].rstrip()
    if before.endswith("]") or before.endswith("chan") or before.endswith("*"):
        return False
    depth = 0
    while j < len(code):
        c = code[j]
        if c in "([":
            depth += 1
        elif c in ")]":
            if depth == 0:
                return False
            depth -= 1
        elif c == "{":
            if depth == 0 and not re.search(r"(struct|interface)\s*$", code[i:j]):
                return True
            close = code.find("}", j)
            if close < 0:
                return False
            j = close
        elif depth == 0 and c in ",;\n}":
            return False
        j += 1
    return False


def function_spans(src: str) -> list[Span]:
    """Every function declaration and literal with the compiler's name and its line range.

    Comments and literals are blanked (newlines kept) so braces are counted on code only.
    Literals are numbered in source order within their enclosing function: F.func1, and
    inside it F.func1.1 (the gc naming since Go 1.22).
    """

    def blank(m: re.Match[str]) -> str:
        return re.sub(r"[^\n]", " ", m.group(0))

    code = _STRIP.sub(blank, src)
    spans: list[Span] = []
    # stack of (name, depth at which its body opened, start line, literal counter)
    stack: list[list[Any]] = []
    depth = 0
    pending: tuple[str, int] | None = None
    decl = re.compile(r"func\s+(?:\(\s*\w*\s*(\*?)\s*(\w+)(?:\[[^\]]*\])?\s*\)\s*)?(\w+)\s*[\[(]")
    i = 0
    line = 1
    while i < len(code):
        c = code[i]
        if c == "\n":
            line += 1
        elif code.startswith("func", i) and (
            i == 0 or not (code[i - 1].isalnum() or code[i - 1] == "_")
        ):
            after = code[i + 4 : i + 5]
            if after in ("(", " ", "\t"):
                m = decl.match(code, i)
                if m and not stack:
                    star, recv, fname = m.group(1), m.group(2), m.group(3)
                    name = (
                        f"({star}{recv}).{fname}"
                        if recv and star
                        else f"{recv}.{fname}"
                        if recv
                        else fname
                    )
                    pending = (name, line)
                elif stack and is_literal(code, i):
                    parent = stack[-1]
                    parent[3] += 1
                    prefix = "func" if len(stack) == 1 else ""
                    pending = (f"{parent[0]}.{prefix}{parent[3]}", line)
                i += 4
                continue
        elif c == "{":
            depth += 1
            if pending is not None:
                # The body opens at the first brace after the signature (result types of
                # func literals never contain braces in these kernels except struct{}/interface{},
                # which close on the same line before the body's brace).
                rest = code[i + 1 : i + 2]
                if rest == "}" and code[i - 6 : i] in ("struct", "erface"):
                    depth -= 1
                    i += 2
                    continue
                stack.append([pending[0], depth, pending[1], 0])
                pending = None
        elif c == "}":
            if stack and stack[-1][1] == depth:
                name, _, start, _ = stack.pop()
                spans.append(Span(name, start, line))
            depth -= 1
        i += 1
    return spans


def labelled_spans(src: str, spans: list[Span], labelled: list[Span], depth: int) -> list[Span]:
    """The labelled functions and the functions they call, down to depth call levels.

    The runtime labels a leak by the goroutine's entry function (the frame above `created by`);
    the blocking statement is somewhere in the code that goroutine runs, often one call below
    (and inlined into it). Callees are matched by name (`x.name(` or `name(`) among the kernel's
    declared functions.
    """
    lines = src.splitlines()
    out = {sp.name: sp for sp in labelled}
    declared = [sp for sp in spans if ".func" not in sp.name]
    frontier = list(labelled)
    for _ in range(depth):
        nxt = []
        for sp in frontier:
            body = _STRIP.sub(" ", "\n".join(lines[sp.start - 1 : sp.end]))
            called = set(re.findall(r"(\w+)\s*\(", body))
            for d in declared:
                if d.name.rsplit(".", 1)[-1] in called and d.name not in out:
                    out[d.name] = d
                    nxt.append(d)
        frontier = nxt
    return list(out.values())


def load_kernels(goroot: Path) -> list[Kernel]:
    kdir = goroot / KERNELS_REL
    labels = runtime_labels((goroot / RUNTIME_TEST_REL).read_text())
    kernels = []
    for path in sorted(kdir.glob("*.go")):
        if path.name == "main.go":
            continue
        m = re.search(r'register\w*\("(\w+)"', path.read_text())
        if not m:
            continue
        k = Kernel(m.group(1), path)
        k.labels = list(dict.fromkeys(labels.get(k.name, []) + list(EXTRA_LABELS.get(k.name, ()))))
        kernels.append(k)
    return kernels


@dataclass
class Result:
    kernel: Kernel
    hit: bool  # a finding in a labelled function or one it calls directly
    hit_tree: bool  # a finding anywhere in the code the leaking goroutines run
    findings: list[dict[str, Any]]
    matched: list[str]
    unresolved: list[str]
    error: str = ""


def analyze(godiag: str, kernel: Kernel, go_version: str) -> Result:
    src = kernel.path.read_text()
    spans = function_spans(src)
    by_name = {s.name: s for s in spans}
    unresolved = [lab for lab in kernel.labels if lab not in by_name]
    entries = [by_name[lab] for lab in kernel.labels if lab in by_name]
    near = labelled_spans(src, spans, entries, 1)
    tree = labelled_spans(src, spans, entries, len(spans))
    with tempfile.TemporaryDirectory(prefix="goker-") as tmp:
        mod = Path(tmp)
        shutil.copy(kernel.path, mod / kernel.path.name)
        shutil.copy(kernel.path.parent / "main.go", mod / "main.go")
        (mod / "go.mod").write_text(f"module gokerkernel\n\ngo {go_version}\n")
        proc = subprocess.run(
            [
                *shlex.split(godiag),
                "analyze",
                str(mod),
                "--format",
                "json",
                "--fail-on",
                "error",
                "-q",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    if proc.returncode not in (0, 1):
        return Result(kernel, False, False, [], [], unresolved, proc.stderr.strip()[-300:])
    doc = json.loads(proc.stdout)
    findings = []
    matched = []
    for f in doc.get("findings", []):
        loc = f.get("location") or {}
        if loc.get("file") != kernel.path.name:
            continue
        line = int(loc.get("line") or 0)
        # The finding's own line, and the lines its message points at ("locked at line 40").
        lines = {line} | {int(n) for n in re.findall(r"\bline (\d+)", str(f.get("detail", "")))}
        inside = sorted({sp.name for sp in near for ln in lines if sp.start <= ln <= sp.end})
        in_tree = sorted({sp.name for sp in tree for ln in lines if sp.start <= ln <= sp.end})
        findings.append(
            {
                "id": f["id"],
                "line": line,
                "labelled": inside,
                "in_call_tree": in_tree,
                "detail": f.get("detail", ""),
            }
        )
        matched += inside
    hit_tree = any(f["in_call_tree"] for f in findings)
    return Result(kernel, bool(matched), hit_tree, findings, sorted(set(matched)), unresolved)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument(
        "--godiag",
        default=str(Path(sys.executable).parent / "godiag"),
        help="godiag command (split like a shell would), e.g. to measure another checkout",
    )
    ap.add_argument("--json", type=Path, help="write per-kernel results here")
    ap.add_argument("--only", default="", help="comma-separated kernel names")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    goroot = Path(go_env("GOROOT"))
    if not (goroot / KERNELS_REL).is_dir() or not (goroot / RUNTIME_TEST_REL).is_file():
        print(
            f"skip: {goroot / KERNELS_REL} not in this Go ({go_env('GOVERSION')}); needs Go 1.26+"
        )
        return 0
    go_version = re.sub(r"^go(\d+\.\d+).*", r"\1", go_env("GOVERSION"))
    kernels = load_kernels(goroot)
    if args.only:
        wanted = set(args.only.split(","))
        kernels = [k for k in kernels if k.name in wanted]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(lambda k: analyze(args.godiag, k, go_version), kernels))
    for r in results:
        mark = "HIT " if r.hit else "tree" if r.hit_tree else "miss"
        ids = ",".join(sorted({f["id"] for f in r.findings if f["in_call_tree"]})) or "-"
        other = len([f for f in r.findings if not f["in_call_tree"]])
        extra = f" (+{other} outside)" if other else ""
        err = f" ERROR {r.error}" if r.error else ""
        unres = f" unresolved labels {r.unresolved}" if r.unresolved else ""
        print(f"{mark} {r.kernel.name:<16} {ids}{extra}{err}{unres}")

    def rate(rs: list[Result], tree: bool = False) -> str:
        hits = sum(r.hit_tree if tree else r.hit for r in rs)
        return f"{hits}/{len(rs)} = {100 * hits / len(rs):.1f}%" if rs else "0/0"

    held = [r for r in results if r.kernel.project in HELD_OUT]
    dev = [r for r in results if r.kernel.project not in HELD_OUT]
    dev_projects = ", ".join(sorted({r.kernel.project for r in dev}))
    print("\nanalyze recall: labelled function (+1 call) | leaking goroutine's code")
    for title, rs in (
        ("all kernels", results),
        (f"development ({dev_projects})", dev),
        (f"held out ({', '.join(HELD_OUT)})", held),
    ):
        print(f"  {title}: {rate(rs)} | {rate(rs, tree=True)}")
    outside = sum(len([f for f in r.findings if not f["in_call_tree"]]) for r in results)
    print(f"findings outside the leaking goroutines' code: {outside}")
    errors = [r for r in results if r.error]
    if args.json:
        args.json.write_text(
            json.dumps(
                [
                    {
                        "kernel": r.kernel.name,
                        "project": r.kernel.project,
                        "labels": r.kernel.labels,
                        "hit": r.hit,
                        "hit_call_tree": r.hit_tree,
                        "matched": r.matched,
                        "findings": r.findings,
                        "error": r.error,
                    }
                    for r in results
                ],
                indent=1,
            )
        )
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
