"""Serve fixtures: the leaking Go service with /metrics, a store, a `godiag serve` factory,
and (session-wide) PostgreSQL + SeaweedFS for the replica test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.serve.harness import ServeProc, write_config
from tests.servers import Server, start_postgres, start_seaweedfs


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    srv = start_postgres()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[Server]:
    srv = start_seaweedfs()
    yield srv
    srv.stop()


@pytest.fixture
def leaky(goprog):  # type: ignore[no-untyped-def]
    """A real Go service leaking ~50 goroutines/s, with /metrics and /debug/pprof."""
    return goprog("cmd/leakymetrics")


@pytest.fixture
def serve_factory(tmp_path: Path) -> Iterator[Callable[..., ServeProc]]:
    started: list[ServeProc] = []

    def make(
        targets: dict[str, str],
        serve_extra: str = "",
        store_toml: str | None = None,
        name: str = "serve",
        start: bool = True,
        tail: str = "",
    ) -> ServeProc:
        store = store_toml or f'[store]\npath = "{tmp_path / "store"}"'
        conf = write_config(tmp_path / f"{name}.toml", targets, store, serve_extra, tail)
        sp = ServeProc(conf, tmp_path / f"{name}.log")
        started.append(sp)
        return sp.start() if start else sp

    yield make
    for sp in started:
        sp.stop()
