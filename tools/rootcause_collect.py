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
       python -m tools.rootcause_collect --corpus TEMPLATE ... [--runs 1 2] [--replay]

`--corpus` runs the independently written templates of go/corpus instead (`all`: every
one): each program is a template's variant, run once per run number in one of the exposure
/ load-shape / intensity configurations (a fixed rotation, so each template is seen through
every exposure and shape); the rows of a template go to data/diagnose/corpus/TEMPLATE.jsonl.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
import zlib
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


CORPUS = REPO / "go" / "corpus"
CORPUS_OUT = REPO / "data" / "diagnose" / "corpus"
EXPOSURES = ("pprof", "expvar", "prom", "otel")
SHAPES = ("steady", "ramping", "bursty")


def corpus_programs(templates: list[str]) -> list[dict[str, Any]]:
    """Every program of the named templates (all of them for `all`), as manifest entries
    with the template's name, directory and module."""
    out = []
    for manifest in sorted(CORPUS.glob("cmd/*/corpus.json")):
        doc = json.loads(manifest.read_text())
        name = doc["template"]
        if "all" not in templates and name not in templates:
            continue
        for p in doc["programs"]:
            out.append({**p, "name": f"{name}/{p['variant']}", "template": name,
                        "dir": str(manifest.parent.relative_to(CORPUS))})  # fmt: skip
    return out


def configuration(prog: dict[str, Any], run: int) -> dict[str, str]:
    """The exposure, load shape and intensity of one run of a corpus program: rotated by the
    variant's place and the run number, so runs of one program differ and every template
    is seen through every exposure and shape."""
    k = zlib.crc32(prog["name"].encode()) + run
    return {
        "expose": EXPOSURES[k % len(EXPOSURES)],
        "load": SHAPES[(k // len(EXPOSURES) + run) % len(SHAPES)],
        "intensity": ("medium", "high", "low")[(k + 2 * run) % 3],
    }


def observe(prog: dict[str, Any], intensity: str, window: float, warmup: float,
            extra: tuple[str, ...] = ()) -> Any:  # fmt: skip
    from godiag.collect.http import HttpClient
    from godiag.model.capture import CaptureMeta
    from godiag.pipeline.observe import Observer

    module = CORPUS if "template" in prog else SCENARIOS
    binary = build(prog["dir"], module_dir=module)
    proc = GoProcess(binary, ["-intensity", intensity, "-lifetime", "120s", *extra])
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
    file = str(loc["file"])
    for module in ("/go/corpus/", "/go/scenarios/"):  # a program's source, wherever built
        if module in file:
            file = "/build/godiag" + module + file.split(module, 1)[1]
            break
    else:
        file = file.replace(str(REPO), "/build/godiag", 1)
    return {**loc, "file": file}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--window", type=float, default=WINDOW)
    ap.add_argument("--warmup", type=float, default=WARMUP)
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--intensities", nargs="*", default=list(INTENSITIES))
    ap.add_argument("--runs", nargs="*", type=int, default=[1, 2], help="run numbers")
    ap.add_argument("--replay", action="store_true", help="re-derive from build/observations")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--corpus", nargs="+", default=None, metavar="TEMPLATE")
    ap.add_argument("--expose", nargs="*", default=None, help="corpus runs of these exposures only")
    args = ap.parse_args(argv)
    if args.corpus:
        return collect_corpus(args)
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


def write_template_rows(template: str, rows: list[dict[str, Any]]) -> None:
    """A template's rows into data/diagnose/corpus/TEMPLATE.jsonl, replacing the rows of the
    same program and run number only (a partial collection keeps the others)."""
    CORPUS_OUT.mkdir(parents=True, exist_ok=True)
    out = CORPUS_OUT / f"{template}.jsonl"
    done = {(r["program"], r["run"]) for r in rows}
    lines = out.read_text().splitlines() if out.exists() else []
    keep = [r for r in map(json.loads, filter(None, lines)) if (r["program"], r["run"]) not in done]
    rows = sorted(keep + rows, key=lambda r: (r["run"], r["program"]))
    out.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))
    print(f"wrote {len(rows)} rows to {out.relative_to(REPO)}")


def collect_corpus(args: argparse.Namespace) -> int:
    progs = corpus_programs(args.corpus)
    if not progs:
        print(f"no corpus template named {' '.join(args.corpus)}", file=sys.stderr)
        return 2
    CACHE.mkdir(parents=True, exist_ok=True)
    by_template: dict[str, list[dict[str, Any]]] = {}
    for n in args.runs:
        for p in progs:
            if args.only and p["name"] not in args.only:
                continue
            conf = configuration(p, n)
            if args.expose and conf["expose"] not in args.expose:
                continue
            cached = CACHE / f"{p['name'].replace('/', '--')}-{n}.pickle"
            if args.replay:
                obs, window = pickle.loads(cached.read_bytes())  # our own cache, see above
                _upgrade(obs)
            else:
                window = args.window
                extra = ("-variant", p["variant"], "-expose", conf["expose"], "-load", conf["load"])
                obs = observe(p, conf["intensity"], window, args.warmup, extra)
                cached.write_bytes(pickle.dumps((obs, window)))
            r = row(p, conf["intensity"], n, window, obs)
            r.update(template=p["template"], expose=conf["expose"], load=conf["load"])
            by_template.setdefault(p["template"], []).append(r)
            f = r["features"]
            print(f"{r['kind']:16} {r['program']:32} {conf['expose']:6} {conf['load']:7} "
                  f"{conf['intensity']:6} {n} g/min {f['goroutine_growth_per_min']} "
                  f"heap/s {f['heap_growth_bytes_per_s']} cpu {f['cpu_seconds_per_s']}",
                  flush=True)  # fmt: skip
    for template, rows in by_template.items():
        write_template_rows(template, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
