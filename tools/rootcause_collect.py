"""`make collect`: run every scenario program at several intensities, observe it the way
`godiag diagnose` does, and write features, label and per-kind locations to
data/diagnose/dataset.jsonl (one JSON object per line, committed).

Each program first runs under load for a warm-up (an alert fires after a fault has been
building for a while, not at process start), then is observed for the window. Runs are
serial: CPU and GC rates measured next to another busy program are not the program's own.

Every raw observation is also kept under build/observations/ (a local cache of this
machine's own runs, never committed or shipped), so `--replay` re-derives features and
locations after a change to them without running the programs again.

Each program and intensity is observed `--runs` times (separate processes), so the
model sees how much one program's figures move from run to run; leave-one-program-out
evaluation holds out all runs of a program together.

Usage: python -m tools.rootcause_collect [--window 5] [--warmup 8] [--runs 2]
                                         [--only NAME ...] [--replay] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from pathlib import Path
from typing import Any

from tests.gohelpers import REPO, GoProcess, build

SCENARIOS = REPO / "go" / "scenarios"
MANIFEST: dict[str, Any] = json.loads((SCENARIOS / "scenarios.json").read_text())
INTENSITIES = ("low", "medium", "high")
OUT = REPO / "data" / "diagnose" / "dataset.jsonl"
CACHE = REPO / "build" / "observations"
WINDOW = 5.0  # diagnose's default window
WARMUP = 8.0


def observe(prog: dict[str, Any], intensity: str, window: float, warmup: float) -> Any:
    from godiag.collect.http import HttpClient
    from godiag.model.capture import CaptureMeta
    from godiag.pipeline.observe import Observer

    binary = build(prog["dir"], module_dir=SCENARIOS)
    proc = GoProcess(binary, ["-intensity", intensity, "-lifetime", "120s"])
    try:
        time.sleep(warmup)
        obs = Observer(proc.url, HttpClient(), window, None, CaptureMeta()).run()
    finally:
        proc.close()
    obs.captures = []  # raw bytes are not needed to re-derive features
    return obs


def row(prog: dict[str, Any], intensity: str, run: int, window: float, obs: Any) -> dict[str, Any]:
    from godiag.analysis.rootcause.derived import derive
    from godiag.analysis.rootcause.features import extract
    from godiag.analysis.rootcause.locate import locate_all

    derived = derive(obs)
    where = locate_all(obs, derived)
    locations = {k: _neutral(v[0]) for k, v in where.items()}
    return {
        "program": prog["name"],
        "kind": prog["kind"],
        "intensity": intensity,
        "run": run,
        "window_s": window,
        "fault": prog["fault"],
        "features": extract(obs, derived),
        "locations": locations,
        "missing": obs.missing,
        "cpu_profile": obs.cpu is not None,
    }


def _upgrade(obs: Any) -> None:
    """Fields added to Observation after the cache was written take their defaults."""
    from dataclasses import MISSING, fields

    for f in fields(obs):
        if not hasattr(obs, f.name):
            default = f.default_factory() if f.default_factory is not MISSING else f.default
            setattr(obs, f.name, default)


def _neutral(loc: dict[str, Any] | None) -> dict[str, Any] | None:
    """File paths under this checkout, as from a checkout at /build/godiag: the dataset
    does not depend on where it was collected (the manifest's paths are relative)."""
    if loc is None:
        return None
    return {**loc, "file": str(loc["file"]).replace(str(REPO), "/build/godiag", 1)}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--window", type=float, default=WINDOW)
    ap.add_argument("--warmup", type=float, default=WARMUP)
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--intensities", nargs="*", default=list(INTENSITIES))
    ap.add_argument("--runs", nargs="*", type=int, default=[1, 2], help="run numbers")
    ap.add_argument("--replay", action="store_true", help="re-derive from build/observations")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    progs = [p for p in MANIFEST["programs"] if not args.only or p["name"] in args.only]
    rows = []
    CACHE.mkdir(parents=True, exist_ok=True)
    jobs = [(p, i, n) for n in args.runs for p in progs for i in args.intensities]
    for p, i, n in jobs:
        cached = CACHE / f"{p['name']}-{i}-{n}.pickle"
        if args.replay:
            # our own cache, written below by this tool on this machine
            obs, window = pickle.loads(cached.read_bytes())
            _upgrade(obs)
        else:
            window = args.window
            obs = observe(p, i, window, args.warmup)
            cached.write_bytes(pickle.dumps((obs, window)))
        r = row(p, i, n, window, obs)
        rows.append(r)
        f = r["features"]
        print(
            f"{r['kind']:16} {r['program']:13} {i:6} {n} "
            f"g/min {f['goroutine_growth_per_min']} heap/s {f['heap_growth_bytes_per_s']} "
            f"cpu {f['cpu_seconds_per_s']} gc/s {f['gc_cycles_per_s']}",
            flush=True,
        )
    partial = args.only or args.runs != [1, 2] or args.intensities != list(INTENSITIES)
    if partial and args.out == OUT and OUT.exists():  # replace only this run's own rows
        keep = [json.loads(x) for x in OUT.read_text().splitlines() if x.strip()]
        done = {(r["program"], r["intensity"], r["run"]) for r in rows}
        rows = [r for r in keep if (r["program"], r["intensity"], r["run"]) not in done] + rows
    order = {p["name"]: n for n, p in enumerate(MANIFEST["programs"])}
    rows.sort(key=lambda r: (r["run"], order[r["program"]], INTENSITIES.index(r["intensity"])))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w") as fh:
        for r in rows:
            fh.write(json.dumps(r, sort_keys=True) + "\n")
    print(f"wrote {len(rows)} rows to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
