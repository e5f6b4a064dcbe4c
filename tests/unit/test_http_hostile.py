"""The HTTP collector against a hostile loopback target (tests/hostile.py): redirects stay
on the target's origin with its credentials, and every answer is bounded in bytes, in
wall time and in the memory captures hold together."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from godiag.collect.http import HttpClient
from godiag.errors import CaptureBudgetError, CollectError
from godiag.limits import MB, Budget, InFlight
from tests.hostile import HostileServer, pair

TOKEN = {"Authorization": "Bearer target-secret-7f"}
Pair = tuple[HostileServer, HostileServer]


@pytest.fixture(scope="module")
def started() -> Iterator[Pair]:
    target, other = pair()
    yield target, other
    target.stop()
    other.stop()


@pytest.fixture
def servers(started: Pair) -> Pair:
    for srv in started:
        srv.seen.clear()  # each test sees its own requests only
    return started


@pytest.mark.timeout(30)
def test_cross_origin_redirect_is_not_followed(servers: Pair) -> None:
    target, other = servers
    client = HttpClient(headers=TOKEN)
    with pytest.raises(CollectError, match="another origin"):
        client.get(target.url("xredirect") + "/debug/pprof/heap", 5)
    assert other.seen == []  # the other port was never asked, so it never saw the token
    with pytest.raises(CollectError, match="another origin"):
        client.get(target.url("ftpredirect") + "/x", 5)
    with pytest.raises(CollectError, match="only http and https"):
        client.get("ftp://127.0.0.1:1/x", 5)


@pytest.mark.timeout(30)
def test_same_origin_redirect_is_followed_with_credentials(
    servers: Pair,
) -> None:
    target, _ = servers
    res = HttpClient(headers=TOKEN).get(target.url("sameredirect") + "/debug/pprof/", 5)
    assert res.status == 200 and res.body == b"ok\n"
    assert [s.authorization for s in target.seen] == [TOKEN["Authorization"]] * 2


@pytest.mark.timeout(60)
def test_huge_content_length_is_refused_unread(servers: Pair) -> None:
    target, _ = servers
    with pytest.raises(CaptureBudgetError, match="declared") as err:
        HttpClient(budget=Budget(4 * MB)).get(target.url("huge") + "/debug/pprof/heap", 10)
    assert err.value.budget == "bytes"


@pytest.mark.timeout(60)
def test_endless_chunked_stream_is_cut_at_the_cap(
    servers: Pair,
) -> None:
    target, _ = servers
    with pytest.raises(CaptureBudgetError, match="4 MB capture budget") as err:
        HttpClient(budget=Budget(4 * MB)).get(target.url("chunked") + "/metrics", 10)
    assert err.value.budget == "bytes"


@pytest.mark.timeout(30)
def test_trickling_body_hits_the_time_budget(servers: tuple[HostileServer, HostileServer]) -> None:
    target, _ = servers  # 40 bytes, one every 0.25 s: every read is quick, the answer is not
    with pytest.raises(CaptureBudgetError, match="within 1s") as err:
        HttpClient().get(target.url("trickle") + "/metrics", 1.0)
    assert err.value.budget == "time"


@pytest.mark.timeout(30)
def test_trickling_body_stops_at_the_diagnosis_deadline(
    servers: Pair,
) -> None:
    target, _ = servers
    client = HttpClient(budget=Budget(deadline=time.monotonic() + 1.0))
    with pytest.raises(CaptureBudgetError, match="deadline") as err:
        client.get(target.url("trickle") + "/metrics", 30.0)
    assert err.value.budget == "deadline"
    with pytest.raises(CaptureBudgetError, match="deadline has passed"):
        client.get(target.url("ok") + "/metrics", 30.0)  # later captures are not even asked


@pytest.mark.timeout(60)
def test_captures_in_flight_share_one_pool(servers: tuple[HostileServer, HostileServer]) -> None:
    target, _ = servers
    pool = InFlight(2 * MB)
    with pytest.raises(CaptureBudgetError, match="in flight") as err:
        HttpClient(budget=Budget(64 * MB), pool=pool).get(target.url("chunked") + "/x", 10)
    assert err.value.budget == "memory"
    assert pool.used == 0  # what the failed capture held is given back


def test_error_pages_are_read_only_in_part() -> None:
    from godiag.collect.http import describe_http_error

    assert describe_http_error("http://u:p@h:1/debug/vars", 500, b"boom") == (
        "http://h:1/debug/vars: HTTP 500: boom"
    )


def test_an_error_status_is_kept_on_the_error() -> None:
    """A 404 says an endpoint is not there (observe._absent): the status travels with it."""
    from godiag.errors import HttpStatusError
    from godiag.pipeline.observe import _absent

    assert _absent(HttpStatusError("http://h:1/metrics: HTTP 404", 404))
    assert not _absent(HttpStatusError("http://h:1/metrics: HTTP 500: boom", 500))
    assert not _absent(CollectError("http://h:1/metrics: cannot connect"))
    assert not _absent(None)
