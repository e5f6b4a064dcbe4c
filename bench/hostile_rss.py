"""Peak RSS of `godiag diagnose` and of `godiag serve` while they diagnose hostile targets.

The hostile target is tests/hostile.py on loopback, one base URL per behaviour: a
multi-member gzip bomb (~2 MB on the wire, 2 GiB decompressed) on every endpoint, a
10 GB Content-Length, endless chunked streams, a body trickling one byte every 4 s, and a
service whose heap profile is the bomb while the rest is fine. Budgets are the defaults
(64 MB per capture, 10 s per capture, the in-flight pool of 160 MB, deadline window + 60 s).

- diagnose: one `godiag diagnose URL --window 2s --no-store --format json` process per
  behaviour, and one more for all of them at once (five processes side by side is not the
  point: each is measured alone, by os.wait4's ru_maxrss);
- serve: one `godiag serve` with the five targets, one alert each posted at once
  (concurrency 4: four diagnoses in parallel, then the fifth), VmHWM of the process read
  from /proc when every incident is done or failed.

Goal (issue 21): under 300 MB for each. Run: `.venv/bin/python bench/hostile_rss.py`
(about 3 minutes: the trickling target is only let go at its budgets).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# bench/inspect.py would shadow the standard library's inspect (httpx imports it):
# drop the script's own directory from the path, add the repository root for tests/.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import httpx  # noqa: E402
from tests.hostile import HostileServer  # noqa: E402
from tests.integration.serve.harness import (  # noqa: E402
    ADMIN_H,
    ServeProc,
    alert,
    payload,
    write_config,
)

MODES = ("bomb", "huge", "chunked", "trickle", "mixed")
GOAL_MB = 300


def run_measured(cmd: list[str]) -> tuple[int, bytes, bytes, float, float]:
    """(exit code, stdout, stderr, peak RSS MB, wall s) of one child, via os.wait4."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe:
        proc = subprocess.Popen(cmd, stdout=fo, stderr=fe)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        fo.seek(0)
        fe.seek(0)
        return proc.returncode, fo.read(), fe.read(), usage.ru_maxrss / 1024, wall


def raise_if(cond: bool, err: bytes) -> None:
    if cond:
        raise SystemExit(f"godiag failed: {err.decode(errors='replace')[-2000:]}")


def measure_diagnose(srv: HostileServer) -> list[tuple[str, float, float, dict[str, int]]]:
    rows = []
    for mode in MODES:
        cmd = [sys.executable, "-m", "godiag", "diagnose", srv.url(mode), "--window", "2s",
               "--no-store", "--format", "json", "-q"]  # fmt: skip
        code, out, err, rss, wall = run_measured(cmd)
        raise_if(code not in (0, 1), err)
        hits: dict[str, int] = {}
        for h in json.loads(out)["budgets"]["hits"]:
            hits[h["budget"]] = hits.get(h["budget"], 0) + 1
        rows.append((mode, rss, wall, hits))
        print(f"diagnose {mode:8s} peak RSS {rss:6.1f} MB  wall {wall:5.1f} s  hits {hits}")
    return rows


def vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure_serve(srv: HostileServer) -> tuple[float, float, dict[str, str]]:
    with tempfile.TemporaryDirectory(prefix="godiag-bench-hostile-") as tmp:
        t = Path(tmp)
        conf = write_config(
            t / "serve.toml",
            {mode: srv.url(mode) for mode in MODES},
            f'[store]\npath = "{t / "store"}"',
            "window_seconds = 2\nlease_seconds = 30",
        )
        sp = ServeProc(conf, t / "serve.log").start()
        assert sp.proc is not None
        try:
            start = time.perf_counter()
            alerts = [alert(f"{i + 1:016x}", {"alertname": "GoGoroutinesHigh", "job": mode})
                      for i, mode in enumerate(MODES)]  # fmt: skip
            r = httpx.post(f"{sp.url}/api/v1/alerts", content=payload(alerts), headers=ADMIN_H,
                           timeout=30)  # fmt: skip
            r.raise_for_status()
            items = sp.wait_state({"done", "failed"}, timeout=600)
            wall = time.perf_counter() - start
            peak = vm_hwm_mb(sp.proc.pid)
        finally:
            sp.stop()
    states = {i["target"]: i["state"] for i in items}
    print(f"serve    5 targets peak RSS {peak:6.1f} MB  wall {wall:5.1f} s  states {states}")
    return peak, wall, states


def main() -> None:
    srv = HostileServer(trickle_s=4.0, trickle_bytes=1000).start()
    try:
        rows = measure_diagnose(srv)
        peak, _, _ = measure_serve(srv)
    finally:
        srv.stop()
    worst = max(r[1] for r in rows)
    print(f"goal < {GOAL_MB} MB: diagnose worst {worst:.1f} MB, serve {peak:.1f} MB:",
          "met" if worst < GOAL_MB and peak < GOAL_MB else "NOT met")  # fmt: skip


if __name__ == "__main__":
    main()
