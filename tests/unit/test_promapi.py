"""Prometheus query_range answers: good, error, malformed and fuzzed bodies."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from godiag.collect.http import HttpClient, HttpResult
from godiag.collect.promapi import goroutine_history, instance_of, query_range
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


def test_history_is_the_first_series_and_the_query_names_the_instance() -> None:
    c = Canned(body=_matrix([[100, "10"], [115, "25"], [130, "NaN"]], [[100, "1"]]))
    pts = goroutine_history(c, "http://prom:9090/", "http://127.0.0.1:8080", now=400)
    assert pts == [(100.0, 10.0), (115.0, 25.0)]
    url = c.urls[-1]  # type: ignore[attr-defined]
    assert "query_range?" in url and "127.0.0.1%3A8080" in url
    assert "start=100.000" in url and "end=400.000" in url


def test_no_series_says_so() -> None:
    with pytest.raises(CollectError, match="has no go_goroutines"):
        goroutine_history(Canned(body=_matrix()), "http://prom", "http://a:1")


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
