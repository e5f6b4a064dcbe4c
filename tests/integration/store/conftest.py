"""Store fixtures: one PostgreSQL and one SeaweedFS per session, a fresh database and
bucket per test, and `backend` parametrized so every store test runs on both stores."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from godiag.config import StoreConfig
from tests.servers import Server, start_postgres, start_seaweedfs

_seq = itertools.count()


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


@dataclass
class StoreEnv:
    """A store configuration plus what a `godiag` subprocess needs to use it."""

    backend: str
    conf: StoreConfig
    toml: Path
    env: dict[str, str]


def _toml(conf: StoreConfig, path: Path, extra_s3: dict[str, str] | None = None) -> Path:
    lines = ["[store]", f'backend = "{conf.backend}"', f"max_artifact_mb = {conf.max_artifact_mb}"]
    if conf.path:
        lines.append(f'path = "{conf.path}"')
    if conf.backend == "fleet":
        lines += [f'postgres = {{dsn = "{conf.postgres_dsn}"}}', "[store.s3]"]
        lines += [f'{k} = "{v}"' for k, v in {**conf.s3, **(extra_s3 or {})}.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def make_store_env(
    backend: str, tmp: Path, request: pytest.FixtureRequest, max_mb: int = 256
) -> StoreEnv:
    n = next(_seq)
    tmp.mkdir(parents=True, exist_ok=True)
    if backend == "local":
        conf = StoreConfig(backend="local", path=str(tmp / "store"), max_artifact_mb=max_mb)
    else:
        import boto3
        import psycopg

        pg: Server = request.getfixturevalue("pg_server")
        s3: Server = request.getfixturevalue("s3_server")
        db = f"t{os.getpid()}_{n}"
        with psycopg.connect(pg.info["dsn"], autocommit=True) as c:
            c.execute(f"CREATE DATABASE {db}")
        bucket = f"t{os.getpid()}-{n}"
        boto3.client(
            "s3",
            endpoint_url=s3.info["endpoint"],
            aws_access_key_id=s3.info["access_key"],
            aws_secret_access_key=s3.info["secret_key"],
            region_name=s3.info["region"],
        ).create_bucket(Bucket=bucket)
        conf = StoreConfig(
            backend="fleet",
            max_artifact_mb=max_mb,
            s3={
                "endpoint": s3.info["endpoint"],
                "bucket": bucket,
                "region": s3.info["region"],
                "access_key": s3.info["access_key"],
                "secret_key": s3.info["secret_key"],
            },
            postgres_dsn=pg.info["dsn"].rsplit("/", 1)[0] + "/" + db,
        )
    toml = _toml(conf, tmp / f"godiag-{n}.toml")
    env = {k: v for k, v in os.environ.items() if k not in ("GODIAG_HOME", "GODIAG_CONFIG")}
    env["GODIAG_CONFIG"] = str(toml)
    return StoreEnv(backend, conf, toml, env)


@pytest.fixture(params=["local", "fleet"])
def store_env(request: pytest.FixtureRequest, tmp_path: Path) -> StoreEnv:
    return make_store_env(request.param, tmp_path, request)
