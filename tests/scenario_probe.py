"""Observe a running scenario program through its raw endpoints, with no godiag analysis.

The scenario tests use this to check that each planted fault is visible in the data a
diagnosis will see: Prometheus metrics, expvar memstats, goroutine dumps and the
heap/allocs/mutex profiles in their debug=1 text form.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.gohelpers import REPO, GoProcess, build

SCENARIOS = REPO / "go" / "scenarios"
MANIFEST: dict[str, Any] = json.loads((SCENARIOS / "scenarios.json").read_text())
PROGRAMS: list[dict[str, Any]] = MANIFEST["programs"]

_METRIC = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)")
_PROFILE_FRAME = re.compile(r"^#\s+0x[0-9a-f]+\s+(\S+?)\+0x[0-9a-f]+\s+(\S+)\s*$")
LOCK_WAITS = ("sync.Mutex.Lock", "sync.RWMutex.RLock", "sync.RWMutex.Lock")


def fetch(url: str, timeout: float = 10.0) -> tuple[int, str, str]:
    """GET url -> (status, content type, body as text)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode("utf-8", "replace")


def parse_metrics(text: str) -> dict[str, float]:
    """Prometheus text format -> {name: value}, summing series of the same name."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        m = _METRIC.match(line)
        if m and not line.startswith("#"):
            out[m.group(1)] = out.get(m.group(1), 0.0) + float(m.group(3))
    return out


@dataclass
class Sample:
    at: float
    metrics: dict[str, float]
    memstats: dict[str, Any]
    heap_profile: str  # debug=1 text, right after a forced GC


def sample(url: str) -> Sample:
    # heap?gc=1 forces a collection first, so heap_inuse below is live data, not garbage.
    _, _, heap = fetch(url + "/debug/pprof/heap?gc=1&debug=1")
    _, _, metrics = fetch(url + "/metrics")
    _, _, expvars = fetch(url + "/debug/vars")
    return Sample(time.monotonic(), parse_metrics(metrics), json.loads(expvars)["memstats"], heap)


@dataclass
class Goroutine:
    state: str
    frames: list[tuple[str, str]]  # (function, "file:line")


def parse_dump(text: str) -> list[Goroutine]:
    """A debug=2 goroutine dump -> goroutines with their wait state and frames."""
    out: list[Goroutine] = []
    for block in text.strip().split("\n\n"):
        lines = block.splitlines()
        m = re.match(r"goroutine \d+ \[([^\],]+)", lines[0]) if lines else None
        if not m:
            continue
        frames: list[tuple[str, str]] = []
        func = ""
        for row in lines[1:]:
            if row.startswith("created by "):
                break
            if row.startswith("\t") and func:
                frames.append((func, row.strip().split(" ")[0]))
                func = ""
            elif row.endswith(")"):
                func = row[: row.rfind("(")]  # drop the argument list
        out.append(Goroutine(m.group(1), frames))
    return out


@dataclass
class Observation:
    name: str
    url: str = ""
    status: dict[str, int] = field(default_factory=dict)
    bodies: dict[str, str] = field(default_factory=dict)
    a: Sample | None = None
    b: Sample | None = None
    dumps: list[list[Goroutine]] = field(default_factory=list)
    profiles: dict[str, str] = field(default_factory=dict)
    alive: bool = False
    stderr: str = ""
    error: str = ""

    def delta(self, name: str) -> float:
        assert self.a and self.b
        return self.b.metrics.get(name, 0.0) - self.a.metrics.get(name, 0.0)

    def rate(self, name: str) -> float:
        assert self.a and self.b
        return self.delta(name) / (self.b.at - self.a.at)

    def gc_per_s(self) -> float:
        """GC cycles per second, leaving out the collection the B sample forced."""
        assert self.a and self.b
        n = self.b.memstats["NumGC"] - self.a.memstats["NumGC"] - 1
        return float(n) / (self.b.at - self.a.at)


def binary(prog: dict[str, Any]) -> Path:
    return build(prog["dir"], module_dir=SCENARIOS)


def observe(prog: dict[str, Any], warmup: float = 0.7, dumps: int = 5) -> Observation:
    """Run one program at medium intensity for about two seconds and record raw data."""
    obs = Observation(prog["name"])
    try:
        proc = GoProcess(binary(prog), ["-intensity", "medium", "-lifetime", "60s"])
    except RuntimeError as e:
        obs.error = str(e)
        return obs
    try:
        obs.url = proc.url
        time.sleep(warmup)
        obs.a = sample(obs.url)
        for i in range(dumps):
            if i:
                time.sleep(0.25)
            _, _, d = fetch(obs.url + "/debug/pprof/goroutine?debug=2")
            obs.dumps.append(parse_dump(d))
        obs.b = sample(obs.url)
        for path in ("/debug/pprof/goroutine?debug=1", "/metrics", "/debug/vars", "/healthz"):
            code, _, body = fetch(obs.url + path)
            obs.status[path], obs.bodies[path] = code, body
        for kind in ("allocs", "mutex", "block"):
            obs.profiles[kind] = fetch(obs.url + f"/debug/pprof/{kind}?debug=1")[2]
        obs.alive = proc.proc.poll() is None
    except Exception as e:  # recorded, so one broken program fails only its own test
        obs.error = f"{type(e).__name__}: {e}"
    finally:
        proc.close()
        if proc.proc.stderr is not None and not proc.proc.stderr.closed:
            obs.stderr = proc.proc.stderr.read().decode("utf-8", "replace")
    return obs


def at_site(g: Goroutine, function: str, file: str, line: int | None = None) -> bool:
    """Whether the goroutine has a frame of function in file (at line, if given)."""
    for fn, loc in g.frames:
        path, _, ln = loc.rpartition(":")
        if fn == function and path.endswith("/" + file) and (line is None or ln == str(line)):
            return True
    return False


def profile_has(text: str, function: str, file: str, line: int | None = None) -> bool:
    """Whether a debug=1 pprof text profile has a frame of function at file[:line]."""
    for row in text.splitlines():
        m = _PROFILE_FRAME.match(row)
        if not m or m.group(1) != function:
            continue
        path, _, ln = m.group(2).rpartition(":")
        if path.endswith("/" + file) and (line is None or ln == str(line)):
            return True
    return False


def _summary(obs: Observation) -> str:
    if obs.error or not obs.a or not obs.b:
        return f"{obs.name:14} ERROR {obs.error}"
    waiters = max(sum(g.state in LOCK_WAITS for g in d) for d in obs.dumps)
    return (
        f"{obs.name:14} goroutines {obs.delta('go_goroutines'):+6.0f}"
        f"  live heap {obs.delta('go_memstats_heap_inuse_bytes') / 1e6:+6.2f} MB"
        f"  cpu {obs.rate('process_cpu_seconds_total'):5.2f} s/s"
        f"  gc {obs.gc_per_s():5.1f}/s"
        f"  alloc {obs.rate('go_memstats_alloc_bytes_total') / 1e6:6.1f} MB/s"
        f"  fds {obs.delta('process_open_fds'):+5.0f}  lock waiters {waiters}"
    )


def main(argv: list[str]) -> int:
    """Print the raw signals of the named programs (all by default), two at a time."""
    from concurrent.futures import ThreadPoolExecutor

    progs = [p for p in PROGRAMS if not argv or p["name"] in argv]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(binary, progs))
        for prog, obs in zip(progs, pool.map(observe, progs), strict=True):
            print(f"{prog['kind']:16} {_summary(obs)}", flush=True)
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
