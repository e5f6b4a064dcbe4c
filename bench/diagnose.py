"""Wall time of `diagnose` with default options on a leaking service, start to report.

Target: the `quoteproxy` scenario program (a goroutine leak) at medium intensity.
godiag: `diagnose()` with the defaults of `godiag diagnose` (5 s window, automatic CPU
profile, every artifact stored in a temporary store with full metadata), then the HTML
report rendered. Anchor: the 92 s a manual-era alert pipeline is reported to take from
alert to a first root-cause guess (a reported figure, not measured here). Bar: < 10 s.
Prints the best and median of 3 runs, and the ratio to the anchor.
"""

from __future__ import annotations

import sys

# bench/inspect.py would shadow the standard library's inspect: run from the repo root
sys.path[0] = __file__.rsplit("/", 2)[0]

import os  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

ANCHOR_S = 92.0
RUNS = int(os.environ.get("BENCH_RUNS", "3"))


def once(url: str) -> tuple[float, str]:
    from godiag.config import Target
    from godiag.model.capture import CaptureMeta
    from godiag.pipeline.diagnose import DiagnoseOptions, diagnose
    from godiag.report import render

    meta = CaptureMeta(service_name="quoteproxy", go_version="go1.26", build_commit="bench")
    t = time.perf_counter()
    doc = diagnose(Target(name="quoteproxy", url=url), DiagnoseOptions(overrides=meta))
    render(doc, "html")
    return time.perf_counter() - t, doc["causes"][0]["kind"] if doc["causes"] else "none"


def main() -> int:
    from tests.gohelpers import GoProcess
    from tests.scenario_probe import PROGRAMS, binary

    prog = next(p for p in PROGRAMS if p["name"] == "quoteproxy")
    times: list[float] = []
    with tempfile.TemporaryDirectory() as home:
        os.environ["GODIAG_HOME"] = home
        for _ in range(RUNS):
            proc = GoProcess(binary(prog), ["-intensity", "medium", "-lifetime", "60s"])
            try:
                time.sleep(1.0)
                secs, kind = once(proc.url)
            finally:
                proc.close()
            times.append(secs)
            print(f"  run: {secs:.2f} s, top cause {kind}")
    best, med = min(times), statistics.median(times)
    print(f"anchor (reported manual pipeline): {ANCHOR_S:.0f} s")
    print(f"godiag diagnose (default 5 s window, store on, HTML): best {best:.2f} s, "
          f"median {med:.2f} s")  # fmt: skip
    print(
        f"ratio anchor/godiag: {ANCHOR_S / med:.1f}x; bar < 10 s: {'met' if med < 10 else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
