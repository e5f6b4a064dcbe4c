"""schemathesis against the served OpenAPI document: generated requests (valid and not)
never get a 5xx. Example count kept small for CI time; `make fuzz` raises it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from godiag.pipeline.openapi import SPEC
from tests.integration.serve.harness import ADMIN_H, ServeProc, write_config

pytestmark = pytest.mark.integration
schema = schemathesis.openapi.from_dict(SPEC)
EXAMPLES = 400 if os.environ.get("HYPOTHESIS_PROFILE") == "long" else 25


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProc]:
    tmp: Path = tmp_path_factory.mktemp("openapi")
    conf = write_config(
        tmp / "serve.toml",
        {"known": "http://127.0.0.1:9"},  # port 9 (discard): nothing listens, jobs fail fast
        f'[store]\npath = "{tmp / "store"}"',
    )
    sp = ServeProc(conf, tmp / "serve.log").start()
    yield sp
    sp.stop()


def test_served_document_is_the_spec(server: ServeProc) -> None:
    r = httpx.get(f"{server.url}/openapi.json", headers=ADMIN_H, timeout=10)
    assert r.json() == SPEC


@schema.parametrize()
@settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
def test_no_server_errors(case: schemathesis.Case, server: ServeProc) -> None:
    response = case.call(base_url=server.url, headers=ADMIN_H, timeout=20)
    case.validate_response(response, checks=[not_a_server_error])
