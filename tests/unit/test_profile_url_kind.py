"""A URL that names one profile's endpoint fetches that profile, not a CPU profile."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from godiag.errors import UsageError
from godiag.pipeline.profiles import kind_of_url, load_profile
from tests.servers import loopback, reply

HEAP = Path(__file__).parent.parent / "data/diagnose/healthy-kvstore/00-heap-start.pb.gz"


def test_the_endpoint_names_the_type() -> None:
    assert kind_of_url("http://h:1/debug/pprof/heap", None) == "heap"
    assert kind_of_url("http://h:1/debug/pprof/profile", None) == "cpu"
    assert kind_of_url("http://h:1/debug/pprof/allocs/", "allocs") == "allocs"
    # a base URL, a query (used as given) and a file keep what was asked
    assert kind_of_url("http://h:1", None) is None
    assert kind_of_url("http://h:1/debug/pprof/heap?gc=1", None) is None
    assert kind_of_url("heap.pb.gz", "heap") == "heap"
    with pytest.raises(UsageError, match="heap profile's endpoint but --type is cpu"):
        kind_of_url("http://h:1/debug/pprof/heap", "cpu")


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []

    class H(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            body = HEAP.read_bytes() if self.path.startswith("/debug/pprof/heap") else b""
            reply(self, 200 if body else 404, body)

        def log_message(self, *args: object) -> None:
            pass

    with loopback(H) as url:
        yield url, seen


@pytest.mark.timeout(30)
def test_a_heap_url_fetches_the_heap_profile(server: tuple[str, list[str]]) -> None:
    url, seen = server
    prof, cap = load_profile(url + "/debug/pprof/heap", timeout=5)
    assert cap is not None
    assert [s for s in seen if s.startswith("/debug/pprof/")] == ["/debug/pprof/heap"]
    assert "inuse_space" in [t.type for t in prof.sample_types]
