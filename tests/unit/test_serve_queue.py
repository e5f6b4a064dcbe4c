"""The job queue's claim rules on SQLite: per-target limit, lease expiry, attempts cap,
idempotent inserts, and the finish guard (a worker that lost its lease cannot finish)."""

from __future__ import annotations

import time
from pathlib import Path

from godiag.pipeline.queue import JobDb, NewRow, Queue, incident_id


def row(fp: str, target: str, state: str = "queued") -> NewRow:
    starts = "2026-11-26T21:00:00+00:00"
    return NewRow(
        incident_id(fp, starts), fp, starts, "A", "firing", {}, {}, target, None, {}, state
    )


def test_claim_rules(tmp_path: Path) -> None:
    db = JobDb(sqlite_path=tmp_path / "q.sqlite3")
    q = Queue(db)
    rows = [row("01", "a"), row("02", "a"), row("03", "b"), row("04", "c", "skipped")]
    assert len(q.insert(rows)) == 4
    assert q.insert(rows) == []  # idempotent
    first = q.claim("w1", lease=60, per_target=1, max_attempts=3)
    second = q.claim("w1", lease=60, per_target=1, max_attempts=3)
    assert first is not None and second is not None
    assert {first.target, second.target} == {"a", "b"}  # the second "a" waits for the first
    assert q.claim("w2", lease=60, per_target=1, max_attempts=3) is None  # skipped never runs
    assert q.finish(first.id, "w2", {"ok": True}, None) is False  # not the lease holder
    assert q.finish(first.id, "w1", {"ok": True}, None) is True
    third = q.claim("w2", lease=0.2, per_target=1, max_attempts=2)
    assert third is not None and third.target == "a" and third.attempts == 1
    time.sleep(0.3)  # the holder "crashed": its lease lapses, the job is claimed again
    again = q.claim("w3", lease=0.2, per_target=1, max_attempts=2)
    assert again is not None and again.id == third.id and again.attempts == 2
    assert q.finish(third.id, "w2", {}, None) is False  # the old holder lost it
    time.sleep(0.3)
    assert q.claim("w4", lease=60, per_target=1, max_attempts=2) is None  # gave up
    failed = q.get(third.id)
    assert failed is not None and failed.state == "failed" and "interrupted" in (failed.error or "")
    assert q.counts() == {"done": 1, "running": 1, "failed": 1, "skipped": 1}
    db.close()


def test_a_stop_gives_the_running_job_back_without_counting_it(tmp_path: Path) -> None:
    import threading

    from godiag import config as cfg
    from godiag.pipeline.jobs import Workers
    from godiag.pipeline.settings import ServeSettings

    conf = cfg.parse({"targets": [{"name": "svc", "url": "http://127.0.0.1:9"}]})
    started, gate = threading.Event(), threading.Event()

    def slow(*_: object) -> dict[str, object]:
        started.set()
        gate.wait(30)  # a diagnosis still observing when SIGTERM arrives
        return {}

    def open_db() -> JobDb:
        return JobDb(sqlite_path=tmp_path / "q.sqlite3")

    db = open_db()
    q = Queue(db)
    (jid,) = q.insert([row("01", "svc")])
    w = Workers(open_db, conf, ServeSettings(concurrency=1, lease_seconds=30), slow, poll=0.05)
    w.start()
    assert started.wait(20)
    w.stop(timeout=0.2)
    inc = q.get(jid)
    assert inc is not None and inc.state == "queued" and inc.attempts == 0
    assert inc.lease_owner is None
    gate.set()  # the abandoned diagnosis ends: it no longer holds the job, nothing is recorded
    w.threads[0].join(20)
    again = q.get(jid)
    assert again is not None and again.state == "queued" and again.report is None
    db.close()
