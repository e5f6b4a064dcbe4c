"""`diagnose` on every scenario program, with the committed model: kind and location.

The programs run one at a time, as the dataset was collected (CPU and GC rates measured
next to another busy program are not the program's own), after a warm-up under load and
with a 3 s window (about 6 minutes for all 37); the sweep at three intensities with the
default 5 s window and leave-one-program-out scoring is `make eval`. This test scores
the shipped model on programs it was trained on, so it checks the pipeline end to end
(collection, features, model file, locators), not the model's generalisation:
docs/evaluation.md is where that is measured.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from godiag import schemas
from godiag.config import Target
from godiag.pipeline.diagnose import DiagnoseOptions, diagnose
from tests.gohelpers import GoProcess
from tests.scenario_probe import PROGRAMS, binary

pytestmark = pytest.mark.integration
WINDOW = 3.0  # short, as QUALITY.md asks of tests; the dataset uses diagnose's default 5 s
WARMUP = 8.0  # the fault builds up under load first, as before an alert fires (the dataset's)
# Known weaknesses, measured in docs/evaluation.md (leave-one-program-out). When one of
# them shows up the test is marked xfail with the reason, not passed; anything else that
# goes wrong fails.
KNOWN_KIND = {
    "statsagg": "lock contention with profiling off and the lock held in bursts: a dump may "
    "catch no waiter, and then nothing tells it from CPU or GC load",
    "geoindex": "the only program with GOGC lowered: at low and medium load its GC rate is "
    "one that busy healthy services also show",
    "fxrates": "at low load the waits on its mutex are short and the service can read healthy",
}
KNOWN_LOCATION = {
    "featureflags": "the writer holding the RWMutex is found only if a dump catches it inside "
    "its critical section",
    "webhooks": "at low load its client allocations are below the heap sampler's reach",
    "statsagg": "profiling off: the location comes from lock waiters in the dumps only, and a "
    "dump between its bursts holds none in its code",
    "pricefeed": "at seconds of uptime few heap samples and in-flight client calls fall "
    "under its client call; the in-process load generator's own client calls are more",
    "inventorydb": "its leaked connections hold about 4 KB each: after seconds of uptime "
    "they can be under one 512 KiB heap sample, and another site is named",
}
FALSE_ALARM = 0.6  # a healthy program's top fault below this is a known low-confidence miss


def _run(prog: dict[str, Any]) -> dict[str, Any]:
    proc = GoProcess(binary(prog), ["-intensity", "medium", "-lifetime", "60s"])
    try:
        time.sleep(WARMUP)
        opts = DiagnoseOptions(window=WINDOW, store=False, flames=False)
        return diagnose(Target(name=prog["name"], url=proc.url), opts)
    finally:
        proc.close()


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, Any]]:
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(binary, PROGRAMS))
    docs = [_run(p) for p in PROGRAMS]
    return {p["name"]: d for p, d in zip(PROGRAMS, docs, strict=True)}


def located(loc: dict[str, Any] | None, fault: dict[str, Any]) -> bool:
    if not loc:
        return False
    if loc["function"] == fault["function"]:
        return True
    return str(loc["file"]).endswith("/" + fault["file"]) and abs(loc["line"] - fault["line"]) <= 3


@pytest.mark.parametrize("prog", PROGRAMS, ids=[p["name"] for p in PROGRAMS])
def test_scenario_diagnosed(prog: dict[str, Any], results: dict[str, dict[str, Any]]) -> None:
    name = prog["name"]
    doc = results[name]
    schemas.validate(doc)
    assert doc["causes"], doc["missing"]
    top = doc["causes"][0]
    if top["kind"] != prog["kind"]:
        if not doc["confident"] and "but this machine's" in doc["verdict"]:
            # The machine was saturated by other work (a loaded CI host): the scenario ran
            # below its intensity, and godiag said it could not tell instead of guessing.
            pytest.xfail(doc["verdict"])
        if name in KNOWN_KIND:
            pytest.xfail(f"kind: {KNOWN_KIND[name]}")
        # the leads of the long-term rules put their kind first at exactly FALSE_ALARM
        # (rules.LEAD), always "not sure": low confidence too
        low = top["probability"] < FALSE_ALARM or (
            not doc["confident"] and top["probability"] <= FALSE_ALARM
        )
        if prog["kind"] == "healthy" and low:
            pytest.xfail(f"low-confidence false alarm: {top['kind']} {top['probability']:.2f}")
        raise AssertionError((top["kind"], top["probability"], doc["features"]))
    if prog["fault"] is not None and not located(top["location"], prog["fault"]):
        if name in KNOWN_LOCATION:
            pytest.xfail(f"location: {KNOWN_LOCATION[name]}")
        raise AssertionError((top["location"], prog["fault"]))


def test_a_saturated_machine_gives_no_confident_wrong_answer() -> None:
    """A CPU-bound service on a machine that other processes keep busy gets what is left:
    its CPU rate reads low, and a confident "healthy" would be a guess. godiag either still
    sees the fault (the service kept a large share) or says it is not sure, and why; a
    wrong kind first is not sure because of the machine."""
    import os
    import subprocess
    import sys

    prog = next(p for p in PROGRAMS if p["kind"] == "cpu-saturation")
    spin = "import time\nend = time.monotonic() + 60\nwhile time.monotonic() < end: pass\n"
    hogs = [
        subprocess.Popen([sys.executable, "-c", spin]) for _ in range(8 * (os.cpu_count() or 1))
    ]
    try:
        doc = _run(prog)
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    schemas.validate(doc)
    top = doc["causes"][0]
    if doc["confident"]:
        assert top["kind"] == prog["kind"], (doc["verdict"], doc["features"])
    else:
        assert doc["verdict"].startswith(f"not sure: {top['kind']} ranks first"), doc["verdict"]
        # the right kind may be not sure for a reason of its own (its hot path runs under
        # request handlers: cpu-saturation's doubt); a wrong one only for the machine's
        if top["kind"] != prog["kind"]:
            assert "but this machine's" in doc["verdict"], doc["verdict"]
            assert any(n.startswith("this machine's") for n in doc["notes"])
