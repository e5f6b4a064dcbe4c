"""`godiag serve` as a real subprocess, its configuration, and Alertmanager-shaped payloads."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.servers import free_ports

ADMIN = "admin-token-1f3a9c"
READER = ("viewer", "viewer-pw-77")
# Alertmanager always posts JSON; serve refuses other types (a cross-site form could send them)
ADMIN_H = {"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"}


def write_config(
    path: Path,
    targets: dict[str, str],
    store_toml: str,
    serve_extra: str = "",
    tail: str = "",
) -> Path:
    lines: list[str] = []
    for name, url in targets.items():
        lines += [
            "[[targets]]",
            f'name = "{name}"',
            f'url = "{url}"',
            f'service_name = "{name}"',
            'go_version = "go1.26.0"',
            'build_commit = "0123abc"',
        ]
    lines.append(store_toml)
    lines += [
        "[serve]",
        serve_extra,
        *[
            f"{k} = {v}"
            for k, v in (("window_seconds", 1), ("lease_seconds", 3))
            if k not in serve_extra
        ],
        "[[serve.credentials]]",
        'role = "admin"',
        'bearer = "env:GODIAG_TEST_ADMIN"',
        "[[serve.credentials]]",
        'role = "read"',
        f'username = "{READER[0]}"',
        f'password = "{READER[1]}"',
        tail,
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass
class ServeProc:
    config: Path
    log: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> ServeProc:
        if not self.port:
            (self.port,) = free_ports(1)
        env = {k: v for k, v in os.environ.items() if k not in ("GODIAG_HOME", "GODIAG_CONFIG")}
        env.update(GODIAG_TEST_ADMIN=ADMIN, **self.extra_env)
        fh = open(self.log, "ab")  # noqa: SIM115 - kept open for the child's lifetime
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "godiag", "serve", "--config", str(self.config),
             "--listen", f"127.0.0.1:{self.port}"],
            stdout=fh, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"godiag serve exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"godiag serve did not start: {self.log.read_text()[-2000:]}")

    def kill9(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)

    def incidents(self, state: str | None = None) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while True:  # pages of 1000 (the API's maximum)
            q = f"?limit=1000&offset={len(out)}" + (f"&state={state}" if state else "")
            r = httpx.get(f"{self.url}/api/v1/incidents{q}", auth=READER, timeout=10)
            r.raise_for_status()
            page = r.json()["incidents"]
            out += page
            if len(page) < 1000:
                return out

    def incident(self, iid: str) -> dict[str, Any]:
        r = httpx.get(f"{self.url}/api/v1/incidents/{iid}", auth=READER, timeout=10)
        r.raise_for_status()
        out: dict[str, Any] = r.json()
        return out

    def wait_state(self, states: set[str], timeout: float = 30.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            items = self.incidents()
            if items and all(i["state"] in states for i in items):
                return items
            time.sleep(0.2)
        raise AssertionError(f"incidents not in {states}: {self.incidents()}")


def alert(
    fingerprint: str,
    labels: dict[str, str],
    *,
    status: str = "firing",
    starts: str = "2026-11-26T21:00:00.123456789Z",
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "status": status,
        "labels": labels,
        "annotations": annotations or {"summary": "goroutines are high"},
        "startsAt": starts,
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-11-26T21:10:00Z",
        "generatorURL": "http://127.0.0.1:9090/graph?g0.expr=go_goroutines",
        "fingerprint": fingerprint,
    }


def payload(alerts: list[dict[str, Any]], status: str = "firing", **extra: Any) -> bytes:
    doc = {
        "version": "4",
        "groupKey": '{}:{alertname="GoGoroutinesHigh"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "godiag",
        "groupLabels": {"alertname": "GoGoroutinesHigh"},
        "commonLabels": {"alertname": "GoGoroutinesHigh"},
        "commonAnnotations": {},
        "externalURL": "http://127.0.0.1:9093",
        "alerts": alerts,
        **extra,
    }
    return json.dumps(doc).encode()


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0
