"""`diagnose` on every scenario program, with the committed model: kind and location.

The programs run two at a time with a 2.5 s window (about 100 s for all 36 on two
cores); the full sweep at three intensities with leave-one-program-out scoring is
`make eval`. This test scores the shipped model on programs it was trained on, so it
checks the pipeline end to end (collection, features, model file, locators), not the
model's generalisation: docs/evaluation.md is where that is measured.
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
WINDOW = 2.5
# Known weaknesses, measured in docs/evaluation.md: they may pass on a given run, and a
# pass is not an error (non-strict xfail), but a failure here is not a regression.
KNOWN = {
    "featureflags": "location: the block profile records the readers waiting, not the "
    "writer holding the RWMutex",
    "metricfmt": "kind: its CPU and garbage profile matches loggrep's (labelled cpu-saturation)",
    "loggrep": "kind: compiling a regexp per line is as much garbage as CPU",
    "memclient": "location: dial allocations are too small for the heap sampler in 2.5 s",
    "inventorydb": "location: dial allocations are too small for the heap sampler in 2.5 s",
    "statsagg": "location: profiling is off and the lock is held in bursts, so the two dumps "
    "may catch no waiter",
}


def _param(p: dict[str, Any]) -> Any:
    marks = [pytest.mark.xfail(reason=KNOWN[p["name"]], strict=False)] if p["name"] in KNOWN else []
    return pytest.param(p, id=p["name"], marks=marks)


def _run(prog: dict[str, Any]) -> dict[str, Any]:
    proc = GoProcess(binary(prog), ["-intensity", "medium", "-lifetime", "60s"])
    try:
        time.sleep(1.0)
        opts = DiagnoseOptions(window=WINDOW, store=False, flames=False)
        return diagnose(Target(name=prog["name"], url=proc.url), opts)
    finally:
        proc.close()


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, Any]]:
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(binary, PROGRAMS))
        docs = list(pool.map(_run, PROGRAMS))
    return {p["name"]: d for p, d in zip(PROGRAMS, docs, strict=True)}


def located(loc: dict[str, Any] | None, fault: dict[str, Any]) -> bool:
    if not loc:
        return False
    if loc["function"] == fault["function"]:
        return True
    return str(loc["file"]).endswith("/" + fault["file"]) and abs(loc["line"] - fault["line"]) <= 3


@pytest.mark.parametrize("prog", [_param(p) for p in PROGRAMS])
def test_scenario_diagnosed(prog: dict[str, Any], results: dict[str, dict[str, Any]]) -> None:
    doc = results[prog["name"]]
    schemas.validate(doc)
    assert doc["causes"], doc["missing"]
    kinds = [c["kind"] for c in doc["causes"]]
    assert kinds[0] == prog["kind"], (kinds, doc["causes"][0]["probability"], doc["features"])
    if prog["fault"] is not None:
        cause = doc["causes"][0]
        assert located(cause["location"], prog["fault"]), (cause["location"], prog["fault"])
