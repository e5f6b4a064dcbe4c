"""Two `godiag serve` replicas on one fleet store (PostgreSQL + SeaweedFS S3): alerts posted
to either (and redelivered to both) are diagnosed exactly once, and both replicas work."""

from __future__ import annotations

import concurrent.futures

import httpx
import pytest

from tests.integration.serve.harness import ADMIN_H, alert, payload
from tests.integration.store.conftest import make_store_env

pytestmark = pytest.mark.integration


def test_two_replicas_split_jobs(serve_factory, leaky, tmp_path, request) -> None:  # type: ignore[no-untyped-def]
    env = make_store_env("fleet", tmp_path / "fleet", request)
    store = env.toml.read_text()
    extra = "concurrency = 1\nper_target = 2"
    a = serve_factory({"leaky": leaky.url}, extra, store_toml=store, name="a")
    b = serve_factory({"leaky": leaky.url}, extra, store_toml=store, name="b")
    bodies = [
        payload([alert(f"{i:016x}", {"alertname": "GoGoroutinesHigh", "job": "leaky"})])
        for i in range(1, 9)
    ]

    def send(args: tuple[str, bytes]) -> int:
        url, body = args
        r = httpx.post(f"{url}/api/v1/alerts", content=body, headers=ADMIN_H, timeout=20)
        return r.status_code

    work = [(sp.url, body) for body in bodies for sp in (a, b)]  # every alert to both
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert set(pool.map(send, work)) == {202}
    items = a.wait_state({"done"}, timeout=90)
    assert len(items) == 8 and {i["fingerprint"] for i in items} == {
        f"{i:016x}" for i in range(1, 9)
    }
    assert all(i["attempts"] == 1 for i in items)
    owners = {i["lease_owner"] for i in items}
    assert len(owners) == 2, "both replicas should have run jobs"
    assert [i["id"] for i in b.incidents()] == [i["id"] for i in items]  # one shared queue
    full = a.incident(items[0]["id"])
    assert all(x["stored"] for x in full["artifacts"])
    dump = next(x for x in full["artifacts"] if x["profile_type"] == "goroutine")
    r = httpx.get(
        f"{b.url}/incidents/{full['id']}/artifacts/{dump['id']}",
        auth=("viewer", "viewer-pw-77"), timeout=20,
    )  # fmt: skip
    assert r.status_code == 200 and b"goroutine " in r.content
