"""Prometheus query_range answers: good, error, malformed and fuzzed bodies."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from godiag.collect.http import HttpClient, HttpResult
from godiag.collect.promapi import (
    HISTORY_QUERIES,
    history,
    instance_of,
    query_range,
    selector,
)
from godiag.errors import CollectError, GodiagError, ParseError


class Canned(HttpClient):
    """Answers every GET with one body (the parser's input under test)."""

    def __init__(self, body: bytes = b"", status: int = 200) -> None:
        super().__init__()
        object.__setattr__(self, "answer", (body, status))
        object.__setattr__(self, "urls", [])

    def get(self, url: str, timeout: float, *, allow_error: bool = False) -> HttpResult:
        self.urls.append(url)  # type: ignore[attr-defined]
        body, status = self.answer  # type: ignore[attr-defined]
        return HttpResult(url, status, body, "application/json")


def _matrix(*series: list[list[object]]) -> bytes:
    result = [{"metric": {"instance": "127.0.0.1:8080"}, "values": v} for v in series]
    return json.dumps({"status": "success",
                       "data": {"resultType": "matrix", "result": result}}).encode()  # fmt: skip


def test_instance_label() -> None:
    assert instance_of("http://127.0.0.1:8080/") == "127.0.0.1:8080"
    assert instance_of("https://svc.internal") == "svc.internal:443"
    assert instance_of("http://svc") == "svc:80"
    assert instance_of("http://[::1]:6060") == "[::1]:6060"


def test_a_loopback_target_matches_any_loopback_instance() -> None:
    """Scraped as 127.0.0.1:PORT, given as localhost:PORT (or the other way round): the
    same process; any other host is matched literally."""
    assert selector("http://svc:6060") == '{instance="svc:6060"}'
    sel = selector("http://localhost:18113")
    assert sel == '{instance=~"(localhost|127\\\\.0\\\\.0\\\\.1|\\\\[::1\\\\]):18113"}'
    assert selector("http://127.0.0.1:18113") == sel


def test_history_is_the_first_series_and_the_query_names_the_instance() -> None:
    c = Canned(body=_matrix([[100, "10"], [115, "25"], [130, "NaN"]], [[100, "1"]]))
    found, absent = history(c, "http://prom:9090/", "http://127.0.0.1:8080", 300.0, now=400)
    assert found["go_goroutines"] == [(100.0, 10.0), (115.0, 25.0)] and absent == []
    assert set(found) == set(HISTORY_QUERIES)  # one answer per series, its first query
    assert len(c.urls) == len(HISTORY_QUERIES)  # type: ignore[attr-defined]
    url = c.urls[0]  # type: ignore[attr-defined]
    assert "query_range?" in url and "%3A8080" in url and "localhost" in url
    assert "start=100.000" in url and "end=400.000" in url and "step=1" in url


class Only(Canned):
    """Answers the queries that mention one metric name; no series for the others."""

    def __init__(self, name: str) -> None:
        super().__init__(body=_matrix([[100, "5"], [160, "7"]]))
        object.__setattr__(self, "name", name)

    def get(self, url: str, timeout: float, *, allow_error: bool = False) -> HttpResult:
        res = super().get(url, timeout, allow_error=allow_error)
        if self.name not in url:  # type: ignore[attr-defined]
            return HttpResult(url, 200, _matrix(), "application/json")
        return res


def test_a_series_falls_back_and_the_absent_ones_are_named() -> None:
    c = Only("go_memory_classes_heap_objects_bytes")
    found, absent = history(c, "http://prom", "http://a:1", 1800.0, now=2000)
    assert list(found) == ["heap_live_bytes"]  # third of its queries
    assert len(absent) == len(HISTORY_QUERIES) - 1
    assert absent[0] == ('go_goroutines (max(go_goroutines{instance="a:1"}) or '
                         'max(go_goroutine_count{instance="a:1"}))')  # fmt: skip
    assert "step=8" in c.urls[0]  # type: ignore[attr-defined]  # 1800 s / 240 points


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"<html>login</html>", 200, "not JSON"),
        (b'{"status":"error","errorType":"bad_data","error":"parse error"}', 400, "parse error"),
        (b'{"status":"success","data":{"resultType":"vector","result":[]}}', 200, "not a matrix"),
        (b'{"status":"success","data":{"resultType":"matrix","result":[{"values":1}]}}', 200,
         "malformed"),
        (b'{"status":"success","data":{"resultType":"matrix","result":5}}', 200, "no list"),
    ],
)  # fmt: skip
def test_bad_answers_are_one_clear_error(body: bytes, status: int, message: str) -> None:
    with pytest.raises((CollectError, ParseError), match=message):
        query_range(Canned(body=body, status=status), "http://p", "up", 0, 1, 1, 1)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
            lambda c: (
                st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=10), c, max_size=4)
            ),
            max_leaves=20,
        ).map(lambda v: json.dumps({"status": "success", "data": v}).encode()),
    )
)
def test_fuzz_never_crashes(body: bytes) -> None:
    with contextlib.suppress(GodiagError):
        query_range(Canned(body=body), "http://p", "up", 0, 1, 1, 1)
