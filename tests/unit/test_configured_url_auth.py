"""A URL given to `goroutines`, `profile` or `check` that is a configured target's URL is read
with that target's auth, as `diagnose URL` does (Config.target_at: only that very URL)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from godiag.pipeline.profiles import resolve_service
from tests.servers import loopback, reply

DUMP = b"""goroutine 1 [running]:
main.main()
\t/src/app/main.go:10 +0x1d
"""
# sre:s3cret
BASIC = "Basic c3JlOnMzY3JldA=="


class _Guarded(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.headers.get("Authorization") != BASIC:
            reply(self, 401, b"")
        else:
            reply(self, 200, DUMP, "text/plain")

    def log_message(self, *a: object) -> None:
        pass


@pytest.fixture
def guarded() -> Iterator[str]:
    with loopback(_Guarded) as url:
        yield url


def _config(tmp_path: Path, url: str) -> Path:
    conf = tmp_path / "godiag.toml"
    conf.write_text(f'[[targets]]\nname = "app"\nurl = "{url}"\n'
                    f'auth = {{ username = "sre", password = "s3cret" }}\n')  # fmt: skip
    return conf


def _goroutines(url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "godiag", "goroutines", url, *extra],
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_goroutines_of_a_configured_url_sends_its_auth(guarded: str, tmp_path: Path) -> None:
    conf = _config(tmp_path, guarded)
    assert _goroutines(guarded, "--config", str(conf)).returncode == 0
    # not configured: nothing is sent, and the 401 says so
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    bare = _goroutines(guarded, "--config", str(empty))
    assert bare.returncode == 2 and "no credentials were sent" in bare.stderr, bare.stderr


def test_the_configured_auth_goes_to_that_url_only(guarded: str, tmp_path: Path) -> None:
    conf = str(_config(tmp_path, guarded))
    assert resolve_service(guarded, conf).client.headers.get("Authorization") == BASIC
    other = guarded.replace("127.0.0.1", "localhost")
    assert "Authorization" not in resolve_service(other, conf).client.headers
