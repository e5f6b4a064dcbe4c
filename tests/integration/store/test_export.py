"""`godiag export`: filters by tags (all must match) and never shows a secret, on both
backends and in every format. The fleet configuration carries real secrets (the S3
secret key, a password in the PostgreSQL DSN) that must not leak into any export."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from godiag import schemas
from godiag.store import open_store
from tests.integration.store.conftest import StoreEnv, _toml

pytestmark = pytest.mark.integration
T0 = datetime(2026, 4, 1, tzinfo=UTC)
SECRETS = ["hunter2-url-password", "tok-9f8e7d", "sk-live-abcdef", "pg-pass-4242"]


def export(env: StoreEnv, fmt: str, *args: str) -> str:
    r = subprocess.run(
        [sys.executable, "-m", "godiag", "export", "--format", fmt, *args],
        env=env.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    for secret in SECRETS:
        assert secret not in r.stdout and secret not in r.stderr, (fmt, args, secret)
    if env.backend == "fleet":
        assert env.conf.s3["secret_key"] not in r.stdout
    return r.stdout


def test_export_filters_and_redacts(store_env: StoreEnv) -> None:
    env = store_env
    if env.backend == "fleet":  # the same store, reached through a DSN with a password
        assert env.conf.postgres_dsn is not None
        dsn = env.conf.postgres_dsn.replace("godiag@", "godiag:pg-pass-4242@")
        env.conf = type(env.conf)(**{**env.conf.__dict__, "postgres_dsn": dsn})
        _toml(env.conf, env.toml)
    rows: list[tuple[dict[str, str], str | None]] = [
        ({"env": "prod", "team": "finance"}, f"http://ops:{SECRETS[0]}@10.0.0.1:6060/debug"),
        ({"env": "prod", "team": "search", "api-token": SECRETS[1]}, None),
        ({"env": "dev", "team": "finance"}, f"http://10.0.0.2:6060/x?token={SECRETS[1]}"),
    ]
    with open_store(env.conf) as st:
        for i, (tags, url) in enumerate(rows):
            st.put(
                f"profile {i}".encode(),
                {
                    "service_name": "billing" if i < 2 else "search",
                    "go_version": "go1.26.0",
                    "build_commit": f"c{i}",
                    "profile_type": "heap",
                    "captured_at": T0 + timedelta(hours=i),
                    "tags": tags,
                    "source_url": url,
                },
            )
    doc: dict[str, Any] = json.loads(export(env, "json", "--tag", "env=prod"))
    schemas.validate(doc)
    assert sorted(a["build_commit"] for a in doc["artifacts"]) == ["c0", "c1"]
    assert doc["artifacts"][0]["tags"]["api-token"] == "REDACTED"
    both = json.loads(export(env, "json", "--tag", "env=prod", "--tag", "team=finance"))
    assert [a["build_commit"] for a in both["artifacts"]] == ["c0"]
    assert both["artifacts"][0]["source_url"] == "http://ops:REDACTED@10.0.0.1:6060/debug"
    svc = json.loads(export(env, "json", "--service", "search", "--since", "2026-04-01T01:30Z"))
    assert [a["build_commit"] for a in svc["artifacts"]] == ["c2"]
    assert "token=REDACTED" in svc["artifacts"][0]["source_url"]

    lines = export(env, "ndjson", "--tag", "team=finance").splitlines()
    assert sorted(json.loads(x)["build_commit"] for x in lines) == ["c0", "c2"]

    table = list(csv.DictReader(io.StringIO(export(env, "csv", "--tag", "team=finance"))))
    assert {r["build_commit"] for r in table} == {"c0", "c2"}
    assert all(r["tag.team"] == "finance" and r["link.object"] for r in table)

    otel = json.loads(export(env, "json", "--otel", "--tag", "env=prod"))
    schemas.validate(otel)
    attrs = otel["artifacts"][0]["attributes"]
    assert attrs["service.name"] == "billing"
    assert attrs["process.runtime.version"] == "go1.26.0"
    assert attrs["vcs.ref.head.revision"] == "c1"
    assert attrs["godiag.tag.api-token"] == "REDACTED"
    assert "billing" in export(env, "text")
