"""`make collect`: run every scenario program at several intensities, observe it the way
`godiag diagnose` does (short window), and write features, label and per-kind locations
to data/diagnose/dataset.jsonl (one JSON object per line, committed).

Usage: python -m tools.rootcause_collect [--window 3] [--only NAME ...] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.gohelpers import REPO, GoProcess, build

SCENARIOS = REPO / "go" / "scenarios"
MANIFEST: dict[str, Any] = json.loads((SCENARIOS / "scenarios.json").read_text())
INTENSITIES = ("low", "medium", "high")
OUT = REPO / "data" / "diagnose" / "dataset.jsonl"


def observe_program(
    prog: dict[str, Any], intensity: str, window: float, warmup: float = 1.0
) -> dict[str, Any]:
    from godiag.analysis.rootcause.features import extract
    from godiag.analysis.rootcause.locate import locate_all
    from godiag.collect.http import HttpClient
    from godiag.model.capture import CaptureMeta
    from godiag.pipeline.observe import Observer

    binary = build(prog["dir"], module_dir=SCENARIOS)
    proc = GoProcess(binary, ["-intensity", intensity, "-lifetime", "90s"])
    try:
        time.sleep(warmup)
        obs = Observer(proc.url, HttpClient(), window, None, CaptureMeta()).run()
    finally:
        proc.close()
    where = locate_all(obs)
    return {
        "program": prog["name"],
        "kind": prog["kind"],
        "intensity": intensity,
        "window_s": window,
        "fault": prog["fault"],
        "features": extract(obs),
        "locations": {k: v[0] for k, v in where.items()},
        "missing": obs.missing,
        "cpu_profile": obs.cpu is not None,
    }


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--window", type=float, default=3.0)
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--intensities", nargs="*", default=list(INTENSITIES))
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    progs = [p for p in MANIFEST["programs"] if not args.only or p["name"] in args.only]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda p: build(p["dir"], module_dir=SCENARIOS), progs))
        jobs = [(p, i) for p in progs for i in args.intensities]
        rows = list(pool.map(lambda j: observe_program(j[0], j[1], args.window), jobs))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w") as fh:
        for r in rows:
            fh.write(json.dumps(r, sort_keys=True) + "\n")
    for r in rows:
        f = r["features"]
        print(
            f"{r['kind']:16} {r['program']:13} {r['intensity']:6} "
            f"g/min {f['goroutine_growth_per_min']} heap/s {f['heap_growth_bytes_per_s']} "
            f"cpu {f['cpu_seconds_per_s']} gc/s {f['gc_cycles_per_s']}"
        )
    print(f"wrote {len(rows)} rows to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
