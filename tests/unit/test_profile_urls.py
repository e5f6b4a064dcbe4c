"""Every URL asked of a service is its endpoint joined to the base URL's path, with the
base's query kept as query: a service behind a mount prefix and an access token."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from godiag.collect.goroutines import fetch_url, goroutine_url
from godiag.collect.http import HttpClient, endpoint_url, service_base, shown_url
from godiag.collect.pprof import (
    collect_cmdline,
    collect_goroutine_count,
    collect_metrics,
    collect_profile,
    collect_vars,
    profile_url,
    service_meta,
)
from godiag.pipeline.storing import base_of, service_metadata
from tests.servers import loopback, reply

HEAP = Path(__file__).parent.parent / "data/diagnose/healthy-kvstore/00-heap-start.pb.gz"
DUMP = b"goroutine 1 [running]:\nmain.main()\n\t/src/main.go:5 +0x1d\n"
METRICS = b'# TYPE go_info gauge\ngo_info{version="go1.26.0"} 1\n'


def test_the_endpoint_joins_the_base_path_and_keeps_its_query() -> None:
    base = "http://h:1/?token=abc"
    assert endpoint_url(base, "/metrics") == "http://h:1/metrics?token=abc"
    assert profile_url(base, "cpu", seconds=2) == (
        "http://h:1/debug/pprof/profile?token=abc&seconds=2"
    )
    assert profile_url("http://h:1/prefix/?token=a%2Bb", "heap", gc=True) == (
        "http://h:1/prefix/debug/pprof/heap?token=a%2Bb&gc=1"
    )
    assert profile_url("http://h:1/prefix", "mutex", debug=1) == (
        "http://h:1/prefix/debug/pprof/mutex?debug=1"
    )
    # the endpoint's own parameters win over the same names in the base
    assert goroutine_url("http://h:1/p/debug/pprof/goroutine?debug=1&token=t", 2) == (
        "http://h:1/p/debug/pprof/goroutine?token=t&debug=2"
    )
    assert endpoint_url("http://h:1", "/debug/vars") == "http://h:1/debug/vars"


def test_shown_urls_hide_credentials_in_the_query() -> None:
    assert shown_url("http://u:p@h:1/p/metrics?api_key=k1&debug=1&sig=s") == (
        "http://h:1/p/metrics?api_key=REDACTED&debug=1&sig=REDACTED"
    )
    assert shown_url("http://h:1/debug/pprof/heap?gc=1") == "http://h:1/debug/pprof/heap?gc=1"


def test_the_service_base_of_an_endpoint_url_keeps_prefix_and_token() -> None:
    assert service_base("http://h:1/p/debug/pprof/heap?gc=1&token=t") == "http://h:1/p?token=t"
    assert service_base("http://h:1/p/metrics") == "http://h:1/p"
    assert service_base("http://h:1/p/debug/vars/") == "http://h:1/p"
    assert service_base("http://h:1/p/debug/pprof/") == "http://h:1/p"
    assert service_base("http://h:1/") == "http://h:1"
    assert base_of("http://h:1/p/debug/pprof/profile?seconds=5") == "http://h:1/p"


Seen = list[tuple[str, dict[str, list[str]]]]


@pytest.fixture
def server() -> Iterator[tuple[str, Seen]]:
    """A service mounted at /prefix/ that answers only with its token, recording every
    path and query it was asked for."""
    seen: Seen = []

    class H(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            seen.append((parts.path, query))
            bodies: dict[str, Callable[[], bytes]] = {
                "/prefix/debug/pprof/heap": HEAP.read_bytes,
                "/prefix/debug/pprof/goroutine": lambda: DUMP,
                "/prefix/debug/pprof/cmdline": lambda: b"svc\x00-v",
                "/prefix/metrics": lambda: METRICS,
                "/prefix/debug/vars": lambda: b'{"memstats": {}}',
            }
            make = bodies.get(parts.path)
            body = make() if make is not None and query.get("token") == ["abc"] else b""
            reply(self, 200 if body else 404, body)

        def log_message(self, *args: object) -> None:
            pass

    with loopback(H) as url:
        yield f"{url}/prefix/?token=abc", seen


@pytest.mark.timeout(60)
def test_every_collector_asks_under_the_prefix_with_the_token(
    server: tuple[str, Seen],
) -> None:
    base, seen = server
    client = HttpClient()
    caps = [
        collect_profile(client, base, "heap", gc=True, timeout=5),
        collect_goroutine_count(client, base, 5),
        collect_metrics(client, base, 5),
        collect_vars(client, base, 5),
        fetch_url(base, client=client, timeout=5),
    ]
    # the token reaches the service, never a capture's source (reports, the store)
    assert all("token=REDACTED" in c.source and "abc" not in c.source for c in caps), caps
    assert collect_cmdline(client, base, 5) == ["svc", "-v"]
    assert service_meta(client, base).go_version == "go1.26.0"
    # metadata of a capture named by its endpoint URL comes from the same service's /metrics
    meta = service_metadata(
        profile_url(base, "heap", gc=True), client=client, configured=None, user=None
    )
    assert meta.go_version == "go1.26.0"
    asked = [(path, q) for path, q in seen]
    assert all(path.startswith("/prefix/") and q.get("token") == ["abc"] for path, q in asked), (
        asked
    )
    paths = {path for path, _ in asked}
    assert paths == {
        "/prefix/debug/pprof/heap",
        "/prefix/debug/pprof/goroutine",
        "/prefix/debug/pprof/cmdline",
        "/prefix/metrics",
        "/prefix/debug/vars",
    }
    assert ("/prefix/debug/pprof/heap", {"token": ["abc"], "gc": ["1"]}) in asked
    assert ("/prefix/debug/pprof/goroutine", {"token": ["abc"], "debug": ["2"]}) in asked
