"""`make collect-slow`: slow faults watched for minutes, the way they happen in production.

Every go/corpus program whose kind unfolds over time (goroutine-leak, memory-leak,
connection-leak) and every healthy look-alike of the templates runs at a fraction of its
usual load (`-intensity`, default 0.3: leaks of tens of KB or a few goroutines a minute,
below what one short window tells from noise) for minutes. As a user with a godiag.toml
naming the service (and its build commit), a local store and, when the service has
/metrics, a real Prometheus scraping it, would do:

    godiag diagnose URL --as-baseline          # at --baseline-at (default 60 s)
    godiag diagnose URL --save-captures DIR    # at --diagnose-at (default 240 s)

Which history a run has rotates with the exposure: pprof-only and expvar services have the
stored baseline only; client_golang and OpenTelemetry services have the Prometheus history
alone or with the baseline. The bundle saved by the last command holds every capture the
diagnosis used (baseline references and Prometheus series included), so `make eval-slow`
replays it offline with a model fitted without the run's template.

Runs go in parallel (`--parallel`, default 6: the programs are at low load, but CPU and GC
rates of a busy machine are not the program's own, so keep it otherwise idle). Bundles are
written to data/diagnose/slow/TEMPLATE--VARIANT-RUN/ (gzip, committed: the evaluation needs
the raw captures, not only features) with run.json (program, kind, fault, configuration).

Usage: python -m tools.slow_collect [--only TEMPLATE/VARIANT ...] [--templates T ...]
                                    [--runs 1] [--parallel 6] [--intensity 0.3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.gohelpers import REPO, GoProcess, build
from tests.integration.serve import promstack

from tools.rootcause_collect import CORPUS, EXPOSURES, corpus_programs

SLOW_KINDS = ("goroutine-leak", "memory-leak", "connection-leak", "healthy")
OUT = REPO / "data" / "diagnose" / "slow"
GODIAG = Path(sys.executable).parent / "godiag"
SHAPES = ("steady", "bursty", "ramping")


def configuration(prog: dict[str, Any], run: int) -> dict[str, str]:
    """Exposure, load shape and history of one run: rotated by the program's name and the
    run number, so every template is seen through each exposure and history source."""
    k = zlib.crc32(prog["name"].encode()) + run
    expose = EXPOSURES[k % len(EXPOSURES)]
    history = "baseline"
    if expose in ("prom", "otel"):
        history = ("prometheus", "both")[(k // len(EXPOSURES)) % 2]
    return {"expose": expose, "load": SHAPES[(k // 8 + run) % len(SHAPES)], "history": history}


def _drain(proc: GoProcess) -> None:
    """Read the program's output so that a chatty one never blocks on a full pipe."""
    for f in (proc.proc.stdout, proc.proc.stderr):
        if f is not None:
            threading.Thread(target=_discard, args=(f,), daemon=True).start()


def _discard(f: Any) -> None:
    while f.read(65536):
        pass


def _config(work: Path, name: str, url: str, prom: str | None) -> Path:
    conf = work / "godiag.toml"
    text = (f'[[targets]]\nname = "{name}"\nurl = "{url}"\nservice_name = "{name}"\n'
            f'build_commit = "0000000"\ngo_version = "go1.26"\n\n'
            f'[store]\nbackend = "local"\npath = "{work / "store"}"\n')  # fmt: skip
    if prom:
        text += f'\n[prometheus]\nurl = "{prom}"\n'
    conf.write_text(text)
    return conf


def _godiag(conf: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "GODIAG_HOME"}
    return subprocess.run([str(GODIAG), "diagnose", *args, "--config", str(conf)],
                          capture_output=True, text=True, env=env, timeout=300)  # fmt: skip


def watch(prog: dict[str, Any], run: int, args: argparse.Namespace) -> str:
    conf = configuration(prog, run)
    name = f"{prog['template']}-{prog['variant']}"
    dest = OUT / f"{prog['template']}--{prog['variant']}-{run}"
    binary = build(prog["dir"], module_dir=CORPUS)
    work = Path(tempfile.mkdtemp(prefix="godiag-slow-"))
    lifetime = f"{int(args.diagnose_at + 120)}s"
    svc = GoProcess(binary, ["-variant", prog["variant"], "-expose", conf["expose"],
                             "-load", conf["load"], "-intensity", str(args.intensity),
                             "-lifetime", lifetime])  # fmt: skip
    _drain(svc)
    prom = None
    started = time.monotonic()
    try:
        if conf["history"] != "baseline":
            prom = promstack.start_prometheus(svc.url.removeprefix("http://"),
                                              scrape_interval=args.scrape)  # fmt: skip
        godiag_conf = _config(work, name, svc.url, prom.info["url"] if prom else None)
        if conf["history"] != "prometheus":
            time.sleep(max(0.0, args.baseline_at - (time.monotonic() - started)))
            base = _godiag(godiag_conf, svc.url, "--as-baseline", "--format", "json")
            if base.returncode not in (0, 1):
                return f"{name}: baseline failed ({base.returncode}): {base.stderr.strip()[-300:]}"
        time.sleep(max(0.0, args.diagnose_at - (time.monotonic() - started)))
        shutil.rmtree(dest, ignore_errors=True)
        dest.parent.mkdir(parents=True, exist_ok=True)
        final = _godiag(godiag_conf, svc.url, "--save-captures", str(dest / "captures"),
                        "--no-store", "--format", "json")  # fmt: skip
        if final.returncode not in (0, 1):
            return f"{name}: diagnosis failed ({final.returncode}): {final.stderr.strip()[-300:]}"
        doc = json.loads(final.stdout)
        (dest / "run.json").write_text(json.dumps({
            "program": prog["name"], "template": prog["template"], "kind": prog["kind"],
            "fault": prog["fault"], "run": run, "intensity": args.intensity,
            "watched_s": args.diagnose_at, "baseline_at_s": args.baseline_at,
            "scrape_interval": args.scrape, **conf,
        }, indent=1, sort_keys=True) + "\n")  # fmt: skip
        top = doc["causes"][0] if doc.get("causes") else {"kind": "?", "probability": 0}
        return (f"{prog['kind']:15} {prog['name']:36} {conf['expose']:6} {conf['load']:7} "
                f"{conf['history']:10} -> {top['kind']} {top['probability']:.2f} "
                f"{'' if doc.get('confident') else '(not sure)'}")  # fmt: skip
    finally:
        if prom is not None:
            prom.stop()
        svc.close()
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--templates", nargs="*", default=["all"])
    ap.add_argument("--only", nargs="*", default=None, metavar="TEMPLATE/VARIANT")
    ap.add_argument("--runs", nargs="*", type=int, default=[1])
    ap.add_argument("--parallel", type=int, default=6)
    ap.add_argument("--intensity", type=float, default=0.3)
    ap.add_argument("--baseline-at", type=float, default=60.0)
    ap.add_argument("--diagnose-at", type=float, default=240.0)
    ap.add_argument("--scrape", default="5s", help="Prometheus scrape interval")
    args = ap.parse_args(argv)
    progs = [p for p in corpus_programs(args.templates) if p["kind"] in SLOW_KINDS
             and (not args.only or p["name"] in args.only)]  # fmt: skip
    if not progs:
        print("no slow-fault program matches", file=sys.stderr)
        return 2
    for p in {p["dir"]: p for p in progs}.values():  # build once, before the clocks start
        build(p["dir"], module_dir=CORPUS)
    jobs = [(p, n) for n in args.runs for p in progs]
    print(f"{len(jobs)} runs, {args.parallel} at a time, {args.diagnose_at:.0f} s each", flush=True)
    with ThreadPoolExecutor(args.parallel) as pool:
        for line in pool.map(lambda j: _safe(watch, *j, args), jobs):
            print(line, flush=True)
    return 0


def _safe(fn: Any, prog: dict[str, Any], run: int, args: argparse.Namespace) -> str:
    try:
        return str(fn(prog, run, args))
    except Exception as e:  # one failed run must not lose the others
        return f"{prog['name']}: {type(e).__name__}: {e}"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
