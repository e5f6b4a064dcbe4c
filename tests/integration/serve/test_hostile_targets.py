"""`godiag serve` diagnosing hostile targets (tests/hostile.py) with the default budgets: a
multi-member gzip bomb, a 10 GB Content-Length, endless chunked streams and a trickling
body on every endpoint. Every job ends (the deadline), reports which captures hit which
budget, and the process's memory stays bounded (it reached 4.26 GB before the budgets)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.hostile import HostileServer
from tests.integration.serve.harness import ADMIN_H, READER, alert, payload

pytestmark = pytest.mark.integration
MODES = ("bomb", "huge", "chunked", "trickle")
BOUND_MB = 400  # the goal is 300 MB (docs/performance.md); a regression is gigabytes


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    srv = HostileServer().start()
    yield srv
    srv.stop()


def vm_hwm_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def test_hostile_targets_are_bounded_and_reported(serve_factory, hostile) -> None:  # type: ignore[no-untyped-def]
    sp = serve_factory(
        {mode: hostile.url(mode) for mode in MODES},
        "window_seconds = 1",
        tail="[[serve.routes]]\noptions = { deadline_seconds = 5 }",
    )
    alerts = [alert(f"{i + 1:016x}", {"alertname": "GoGoroutinesHigh", "job": m})
              for i, m in enumerate(MODES)]  # fmt: skip
    r = httpx.post(f"{sp.url}/api/v1/alerts", content=payload(alerts), headers=ADMIN_H, timeout=20)
    assert r.status_code == 202, r.text
    items = sp.wait_state({"done", "failed"}, timeout=120)
    assert sp.proc is not None
    peak = vm_hwm_mb(sp.proc.pid)
    assert peak < BOUND_MB, f"serve peaked at {peak:.0f} MB"
    kinds: dict[str, set[str]] = {}
    for item in items:
        assert item["state"] == "done", item
        doc = httpx.get(f"{sp.url}/api/v1/incidents/{item['id']}", auth=READER, timeout=10).json()
        hits = doc["report"]["document"]["budgets"]["hits"]
        kinds[item["target"]] = {h["budget"] for h in hits}
    assert kinds["bomb"] & {"bytes", "memory"} and kinds["chunked"] & {"bytes", "memory"}
    assert "bytes" in kinds["huge"] and kinds["trickle"] & {"time", "deadline"}
