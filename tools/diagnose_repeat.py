"""How stable is one diagnosis? Diagnose the same target several times, one after another.

A scenario program is started afresh for each run (its warm-up under load, then the
window, as in the tests); a URL is diagnosed as it is. One line per run: the top causes,
the top location and the chosen features, so a known miss can be measured as "n of N".

Usage: python -m tools.diagnose_repeat (PROGRAM | --url URL) [--runs 5] [--window 3]
                                       [--warmup 8] [--intensity medium]
                                       [--show feature,feature...]
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from tests.scenario_probe import PROGRAMS, binary


def once(url: str | None, prog: dict[str, Any] | None, args: argparse.Namespace) -> dict[str, Any]:
    from tests.gohelpers import GoProcess

    from godiag.config import Target
    from godiag.pipeline.diagnose import DiagnoseOptions, diagnose

    opts = DiagnoseOptions(window=args.window, store=False, flames=False)
    if url is not None:
        return diagnose(Target(name="target", url=url), opts)
    assert prog is not None
    proc = GoProcess(binary(prog), ["-intensity", args.intensity, "-lifetime", "120s"])
    try:
        time.sleep(args.warmup)
        return diagnose(Target(name=prog["name"], url=proc.url), opts)
    finally:
        proc.close()


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("program", nargs="?")
    ap.add_argument("--url")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--window", type=float, default=3.0)
    ap.add_argument("--warmup", type=float, default=8.0)
    ap.add_argument("--intensity", default="medium")
    ap.add_argument("--show", default="", help="comma-separated feature names to print")
    args = ap.parse_args(argv)
    prog = next((p for p in PROGRAMS if p["name"] == args.program), None)
    if (prog is None) == (args.url is None):
        ap.error("name one scenario program or give --url")
    show = [s for s in args.show.split(",") if s]
    tops: dict[str, int] = {}
    for n in range(1, args.runs + 1):
        doc = once(args.url, prog, args)
        causes = doc["causes"]
        top: dict[str, Any] = causes[0] if causes else {"kind": "none", "location": None}
        tops[top["kind"]] = tops.get(top["kind"], 0) + 1
        ranked = ", ".join(f"{c['kind']} {c['probability']:.2f}" for c in causes[:3])
        loc = top.get("location")
        where = f"{loc['function']}:{loc['line']}" if loc else "-"
        extra = " ".join(f"{k}={doc['features'].get(k)}" for k in show)
        print(f"run {n}: {ranked} | {where} {extra}".rstrip(), flush=True)
    print("top kinds: " + ", ".join(f"{k} {v}/{args.runs}" for k, v in sorted(tops.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
