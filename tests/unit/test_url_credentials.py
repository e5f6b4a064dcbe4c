"""Credentials written into a target URL (http://user:pass@host) are sent as Basic auth to
that target and shown nowhere: not in `config check`, the diagnosis document, the serve
API (report, missing, error) or its pages. The serve queue file is private (0600)."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from godiag import config as cfg
from godiag.pipeline.diagnose import DiagnoseOptions, diagnose
from godiag.pipeline.diagnosers import default_diagnoser
from godiag.pipeline.queue import JobDb
from godiag.pipeline.web.app import create_app
from tests.hostile import HostileServer

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SECRET = "s3cr3t-pw-19"
BASIC = "Basic " + base64.b64encode(f"bob:{SECRET}".encode()).decode()


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    srv = HostileServer().start()
    yield srv
    srv.stop()


def test_config_moves_url_credentials_into_auth(tmp_path: Path) -> None:
    conf_file = tmp_path / "godiag.toml"
    conf_file.write_text(
        f'[[targets]]\nname = "a"\nurl = "http://bob:{SECRET}@127.0.0.1:1/"\n'
        f'[prometheus]\nurl = "http://prom:{SECRET}@127.0.0.1:2"\n'
    )
    conf = cfg.load(conf_file)
    assert conf.targets[0].url == "http://127.0.0.1:1"
    assert conf.targets[0].auth.header() == {"Authorization": BASIC}
    assert conf.prometheus_url == "http://127.0.0.1:2" and conf.prometheus_auth.username == "prom"
    for fmt in ("json", "text"):
        out = subprocess.run(
            [sys.executable, "-m", "godiag", "config", "check", "--config", str(conf_file),
             "--format", fmt],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        assert SECRET not in out.stdout + out.stderr and "127.0.0.1:1" in out.stdout


@pytest.mark.timeout(60)
def test_diagnosis_sends_them_and_shows_them_nowhere(hostile: HostileServer) -> None:
    url = hostile.url("ok").replace("http://", f"http://bob:{SECRET}@")
    doc = diagnose(cfg.target_from_url(url), DiagnoseOptions(window=1.0, cpu=0, store=False))
    assert doc["missing"]  # "ok" is no profile, dump or metrics: every URL is in a sentence
    assert SECRET not in json.dumps(doc)
    assert hostile.seen and all(s.authorization == BASIC for s in hostile.seen)


@pytest.mark.timeout(90)
def test_serve_api_and_pages_never_show_them(tmp_path: Path, hostile: HostileServer) -> None:
    url = hostile.url("ok").replace("http://", f"http://bob:{SECRET}@")
    conf = cfg.parse(
        {
            "targets": [{"name": "svc", "url": url, "service_name": "svc",
                         "go_version": "go1.26.0", "build_commit": "abc"}],
            "store": {"path": str(tmp_path / "store")},
            "serve": {
                "window_seconds": 1,
                "credentials": [{"role": "admin", "bearer": "adm"},
                                {"role": "read", "username": "r", "password": "rpw"}],
            },
        }
    )  # fmt: skip
    alert = {"status": "firing", "labels": {"alertname": "A", "job": "svc"}, "annotations": {},
             "startsAt": "2026-11-26T21:00:00Z", "fingerprint": "0a"}  # fmt: skip
    note = json.dumps({"version": "4", "status": "firing", "alerts": [alert]})
    with TestClient(create_app(conf, default_diagnoser(conf))) as c:
        h = {"Authorization": "Bearer adm", "Content-Type": "application/json"}
        r = c.post("/api/v1/alerts", content=note, headers=h)
        assert r.status_code == 202
        for _ in range(300):  # bounded: the diagnosis takes its 1 s window and the captures
            (inc,) = c.get("/api/v1/incidents", auth=("r", "rpw")).json()["incidents"]
            if inc["state"] in ("done", "failed"):
                break
            time.sleep(0.1)
        assert inc["state"] == "done", inc
        shown = [c.get(p, auth=("r", "rpw")).text for p in (
            f"/api/v1/incidents/{inc['id']}", "/api/v1/incidents", "/",
            f"/incidents/{inc['id']}", f"/incidents/{inc['id']}/report")]  # fmt: skip
    assert "127.0.0.1" in shown[0]  # the URL is there, without what came before the @
    assert not any(SECRET in page or "bob:" in page for page in shown)


def test_queue_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "serve.sqlite3"
    JobDb(sqlite_path=path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for side in ("-wal", "-shm"):
        p = Path(str(path) + side)
        if p.exists():
            assert stat.S_IMODE(p.stat().st_mode) == 0o600, side
    os.chmod(path, 0o644)  # left readable by an earlier version: narrowed when opened
    JobDb(sqlite_path=path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    link = tmp_path / "link.sqlite3"
    link.symlink_to(tmp_path / "elsewhere.sqlite3")
    with pytest.raises(Exception, match="cannot open the job queue"):
        JobDb(sqlite_path=link)


_part = st.text(st.characters(blacklist_characters="/?#[]", blacklist_categories=("Cs",)),
                max_size=8)  # fmt: skip


@given(_part, _part, st.sampled_from(["127.0.0.1:8080", "svc.internal", "[::1]:9"]))
def test_fuzz_split_userinfo(user: str, password: str, host: str) -> None:
    url = f"http://{quote(user, safe='')}:{quote(password, safe='')}@{host}/base"
    clean, auth = cfg.split_userinfo(url)
    assert clean == f"http://{host}/base" and "@" not in clean
    assert auth is not None and (auth.username, auth.password) == (user, password)
    assert cfg.split_userinfo(clean) == (clean, None)


def test_the_stored_host_keeps_the_base_path_and_drops_credentials_and_query() -> None:
    """A base URL that carries a token in its query (sent to every endpoint) or a
    user:password@ must not leave them in the host stored with the captures and shown in
    the report; the base path stays (services behind one proxy differ by it)."""
    from godiag.pipeline.diagnose import _service_name
    from godiag.pipeline.storing import service_host as _host

    assert _host("http://u:secret@10.0.0.1:6060/svc/?token=abc") == "10.0.0.1:6060/svc"
    assert _host("http://127.0.0.1:6060") == "127.0.0.1:6060"
    from godiag.model.observation import Observation
    from godiag.pipeline.diagnose import _service_meta

    t = cfg.target_from_url("http://127.0.0.1:6060/svc?token=abc")
    meta = _service_meta(Observation(url=t.url), t)
    assert meta.host == "127.0.0.1:6060/svc" and "abc" not in _service_name(t)
