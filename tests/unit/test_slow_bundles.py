"""Slow faults watched for minutes, replayed from data/diagnose/slow/ (`make collect-slow`:
go/corpus programs at a fraction of their load, a stored baseline three minutes old and,
for services with /metrics, a real Prometheus). Each case is a class of the history rules
on a recorded run; `make eval-slow` scores all of them with held-out models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tools.slow_eval import SLOW, replace_section

from godiag.analysis import history
from godiag.analysis.rootcause import longterm
from godiag.analysis.rootcause.derived import derive
from godiag.collect.sources import BundleSource
from godiag.formats.observation import build
from godiag.model.observation import Observation
from godiag.pipeline.diagnose import IN_FLIGHT, MB, DiagnoseOptions, replay

pytestmark = pytest.mark.skipif(
    not SLOW.is_dir(), reason="no data/diagnose/slow (make collect-slow)"
)


def _doc(name: str) -> dict[str, Any]:
    return replay(SLOW / name / "captures", DiagnoseOptions(store=False, flames=False))


def _observed(name: str) -> Observation:
    src = BundleSource(SLOW / name / "captures", 512 * MB)
    return build(src.record(), limit=512 * MB, pool=IN_FLIGHT, decoded=src.decoded)


def _ev(cause: dict[str, Any]) -> str:
    return " | ".join(cause["evidence"])


def test_response_bodies_never_closed_are_a_connection_leak() -> None:
    """+6,800 goroutines, all net/http transports' read/write loops with no caller: the
    connections, not the goroutines, are what leaks (etlpipe registry-body)."""
    doc = _doc("etlpipe--registry-body-1")
    top = doc["causes"][0]
    assert top["kind"] == "connection-leak", doc["verdict"]
    assert top["location"]["function"] == "main.(*registryClient).fetch"
    assert "connections left open" in _ev(top)


def test_grpc_clients_never_closed_are_a_connection_leak() -> None:
    """A gRPC ClientConn per call: one transport reader among eight goroutines per leak."""
    doc = _doc("grpcinventory--client-per-call-1")
    assert doc["causes"][0]["kind"] == "connection-leak", doc["verdict"]


def test_a_burst_of_calls_in_flight_is_not_a_leak() -> None:
    """Every 5 s a backup job sends 300 blobs at once: caught mid-burst, 283 calls and
    their connections are young, and the heap's bufio buffers swing within the window by
    more than they differ from the baseline."""
    doc = _doc("blobstore--backup-burst-1")
    assert doc["causes"][0]["kind"] == "healthy", doc["verdict"]
    assert doc["features"]["baseline_site_consistency"] == "swings"
    assert "what was compared before the window did not accumulate" in _ev(doc["causes"][0])


def test_looping_selects_stay_whatever_their_wait() -> None:
    """Abandoned sessions loop in a select with a timer: every wait under a minute, yet
    164 more since the baseline; goroutine-leak is not cleared."""
    doc = _doc("fanout--abandoned-session-1")
    leak = next(c for c in doc["causes"] if c["kind"] == "goroutine-leak")
    # which kind ranks first is the model's call on the window; the rule's part is that
    # the growth since the baseline stays evidence and nothing long-term speaks against it
    assert "+164 goroutines blocked on select" in _ev(leak)
    assert "long-term evidence against" not in _ev(leak)
    assert leak["location"]["function"] == "main.(*subscription).consume"
    # 100 of the group's goroutines in the baseline are the same goroutines at the end:
    # alive for those 3 minutes whatever their waits say, which decides
    assert "100 of them the same goroutines as in the baseline" in _ev(leak)
    assert "its goroutines of then still there" in _ev(leak)


def test_the_evaluation_replaces_its_own_section_only() -> None:
    text = "# E\n\n## A\n\nold a\n\n## B\n\nold b\n"
    assert replace_section(text, "## A", "new a") == "# E\n\n## A\n\nnew a\n\n## B\n\nold b\n"
    assert replace_section(text, "## B", "new b").endswith("## B\n\nnew b\n")
    assert replace_section(text, "## C", "c").endswith("old b\n\n## C\n\nc\n")


def test_every_run_is_labelled() -> None:
    import json

    runs = [json.loads((d / "run.json").read_text()) for d in SLOW.iterdir() if d.is_dir()]
    assert runs and all(r["kind"] in ("goroutine-leak", "memory-leak", "connection-leak",
                                      "healthy") for r in runs)  # fmt: skip
    assert all(Path(SLOW / f"{r['template']}--{r['program'].split('/')[1]}-{r['run']}").is_dir()
               for r in runs)  # fmt: skip


def test_goroutines_waiting_for_a_pooled_connection_are_a_connection_leak() -> None:
    """sql.Rows left open on one path: the pool runs dry and handlers pile up in
    database/sql.(*DB).conn waiting for a connection (sqlorders disputed-cursor)."""
    doc = _doc("sqlorders--disputed-cursor-1")
    top = doc["causes"][0]
    assert top["kind"] == "connection-leak", doc["verdict"]
    assert "for a pooled connection: the pool is exhausted" in _ev(top)
    # the waiters name the query that runs most (here the one that leaks), not live memory
    assert top["location"]["function"] == "main.(*store).recentOrdersPaged"
    assert "goroutines waiting for a connection" in _ev(top)


def test_connections_handed_to_goroutines_are_located_where_they_were_started() -> None:
    """A connection dialled per batch, its ack reader started on it and never stopped:
    the reader goroutines name the code that started them, not the heap's largest site
    (a response buffer of the HTTP API) (notesapi ship-per-batch)."""
    doc = _doc("notesapi--ship-per-batch-1")
    cause = next(c for c in doc["causes"] if c["kind"] == "connection-leak")
    assert cause["location"]["function"] == "main.(*shipper).send"
    assert "goroutines on client connections" in _ev(cause)


def test_open_response_bodies_are_located_at_the_request() -> None:
    """Webhook responses never closed keep their requests alive: live memory under the
    HTTP client call names the code that made it (jobconsumer webhook-body)."""
    doc = _doc("jobconsumer--webhook-body-1")
    cause = next(c for c in doc["causes"] if c["kind"] == "connection-leak")
    assert cause["location"]["function"] == "main.(*consumer).notify"
    assert "live objects under HTTP client calls" in _ev(cause)


def test_goroutines_that_loop_are_not_stuck() -> None:
    """streamhub's 600 long-poll clients sit in one select at both ends of the window, and
    read as stuck; the same goroutines were there in the baseline three minutes before
    too, and have waited a minute or two: they woke and came back (their polls time out),
    so deadlock keeps a fifth of its probability and is not ranked first."""
    from godiag.analysis.rootcause.kinds import deadlock

    obs = _observed("streamhub--parked-polls-1")
    derived = derive(obs)
    lt = longterm.gather(obs, derived)
    assert deadlock.KIND.locate is not None
    at, _ = deadlock.KIND.locate(obs, derived)
    assert at is not None and at["function"] == "main.poller"
    # as the held-out model ranked it: deadlock 48%, healthy 44%
    ranked, notes = longterm.adjust([("deadlock", 0.48), ("healthy", 0.44), ("memory-leak", 0.08)],
                                    lt, at)  # fmt: skip
    assert ranked[0][0] == "healthy" and dict(ranked)["deadlock"] < 0.2
    assert "they woke and came back in between (a loop)" in notes["deadlock"]
    assert "healthy" not in notes or "poller" not in notes["healthy"]
    doc = _doc("streamhub--parked-polls-1")
    assert doc["causes"][0]["kind"] != "deadlock", doc["verdict"]


def test_a_site_that_kept_all_it_allocated_points_to_a_leak_without_deciding() -> None:
    """Prometheus only, under 4 minutes of it: the live heap grew 15.6 MiB linearly, the
    window's few seconds saw nothing, and the end heap profile has a site of the service
    that holds all it ever allocated (rule 9). memory-leak ranks first at rule 9's
    probability, and the verdict is not sure: a cache still filling looks the same, and
    says what would decide. The site keeps JSON documents made by `priceBook`; the
    location is the slice that keeps them, `topic.add`'s append, which the traffic loop
    reaches with the document in hand (keeper.py), and the evidence names both."""
    doc = _doc("streamhub--unbounded-history-1")
    top = doc["causes"][0]
    assert top["kind"] == "memory-leak", doc["verdict"]
    assert top["probability"] == pytest.approx(0.6)
    assert not doc["confident"]
    assert (top["location"]["function"], top["location"]["line"]) == ("main.(*topic).add", 35)
    assert "of all it allocated since the process started" in _ev(top)
    assert "main.priceBook" in _ev(top) and "kept by the slice or map grown at" in _ev(top)
    assert "cache still filling" in doc["verdict"] and "--as-baseline" in doc["verdict"]
    assert doc["features"]["history_kept_bytes"] >= 4 << 20


def test_garbage_that_grows_the_heap_in_use_is_not_kept() -> None:
    """600 parked long polls: go_memstats_heap_inuse_bytes grew 30 MiB linearly (garbage
    between collections counts there), but no site of the service keeps what it
    allocates: the frames and buffers turn over. Rule 9 does not point anywhere."""
    doc = _doc("streamhub--parked-polls-2")
    assert doc["features"]["history_heap_shape"] == "linear"
    assert doc["features"]["history_kept_bytes"] is None
    assert doc["causes"][0]["kind"] == "healthy", doc["verdict"]


def test_heap_that_grows_with_the_goroutines_is_theirs() -> None:
    """The same recording with go_goroutines growing linearly by hundreds alongside: the
    heap that grew is the goroutines' own (stacks, what each holds), and rule 9 leaves it to
    the goroutine rules."""
    obs = _observed("streamhub--unbounded-history-1")
    trends = {n: t for n, pts in obs.trends.items() if (t := history.trend(pts)) is not None}
    prefix = derive(obs).prefix
    assert longterm.retained(obs, trends, prefix) is not None
    pts = obs.trends["go_goroutines"]
    growing = history.trend([(t, 600 + 2 * i) for i, (t, _) in enumerate(pts)])
    assert growing is not None and growing.shape == "linear"
    assert longterm.retained(obs, {**trends, "go_goroutines": growing}, prefix) is None
