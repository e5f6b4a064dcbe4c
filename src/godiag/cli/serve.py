"""`godiag serve` and `godiag watch`: alert-triggered diagnosis (docs/serve.md)."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import click

from godiag.errors import ConfigError

if TYPE_CHECKING:
    from godiag.config import Config
    from godiag.pipeline.settings import ServeSettings


def _load(config_path: Path | None) -> tuple[Config, ServeSettings]:
    import dataclasses

    from godiag import config as cfg
    from godiag.pipeline.settings import ServeSettings

    conf = cfg.load(config_path)
    if conf.serve is None:
        conf = dataclasses.replace(conf, serve=ServeSettings())
    assert conf.serve is not None
    return conf, conf.serve


@click.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    help="godiag.toml with [[targets]], [store] and [serve].",
)
@click.option("--listen", default=None, help="HOST:PORT (default: [serve] listen).")
def serve(config_path: Path | None, listen: str | None) -> int:
    """Receive Alertmanager webhooks and diagnose the alerting service.

    POST /api/v1/alerts takes Alertmanager's webhook (payload version 4) with a bearer
    token or basic auth from [[serve.credentials]] (admin role). Each alert occurrence
    (fingerprint, startsAt) is diagnosed at most once, from a durable queue in the store's
    database; the incidents, reports and artifacts are served at / (read role), the API at
    /api/v1 (OpenAPI at /openapi.json), godiag's own metrics at /metrics, /healthz is open.
    With [serve] reference_every_seconds, each configured target's heap and goroutines are
    stored that often, the reference a later diagnosis compares with (slow leaks).
    """
    import uvicorn

    from godiag.limits import pin_mmap_threshold
    from godiag.pipeline.diagnosers import default_diagnoser
    from godiag.pipeline.protocol import with_header_timeout
    from godiag.pipeline.web.app import create_app

    conf, st = _load(config_path)
    if not st.credentials:
        raise ConfigError(
            "[serve] has no [[serve.credentials]]: godiag serve refuses to run unauthenticated"
        )
    host, _, port = (listen or st.listen).rpartition(":")
    if not port.isdigit():
        raise ConfigError(f"--listen {listen!r}: expected HOST:PORT")
    pin_mmap_threshold()  # what over-budget answers held goes back to the system
    app = create_app(conf, default_diagnoser(conf))
    uvicorn.run(
        app,
        host=host.strip("[]") or "127.0.0.1",
        port=int(port),
        log_level="warning",
        access_log=False,
        http=with_header_timeout(st.header_timeout_seconds),
    )
    return 0


@click.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    help="godiag.toml with [[targets]], [store] and [serve.watch].",
)
@click.option("--once", is_flag=True, help="Scrape once, wait for the jobs it queued, exit.")
def watch(config_path: Path | None, once: bool) -> int:
    """Without Prometheus: scrape targets' /metrics and diagnose on local rules.

    Every [serve.watch] interval_seconds (default 15) each configured target's /metrics is
    read and [[serve.watch.rules]] are evaluated (threshold `above`, or `rise` over
    `over_seconds`, with `cooldown_seconds`); a firing rule queues the same diagnosis job
    an Alertmanager alert would, in the same queue. With [serve] reference_every_seconds,
    each target's heap and goroutines are stored that often as the reference later
    diagnoses compare with.
    """
    from godiag.limits import pin_mmap_threshold
    from godiag.pipeline.diagnosers import default_diagnoser
    from godiag.pipeline.jobs import Workers
    from godiag.pipeline.queue import Queue
    from godiag.pipeline.reference import periodic_references
    from godiag.pipeline.watch import RuleState, scrape_once
    from godiag.pipeline.web.service import open_jobdb

    conf, st = _load(config_path)
    if not st.watch_rules:
        raise ConfigError("[serve.watch] has no rules: nothing to watch")
    pin_mmap_threshold()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    workers = Workers(lambda: open_jobdb(conf), conf, st, default_diagnoser(conf))
    workers.start()
    references = None if once else periodic_references(conf, st)
    if references is not None:
        references.start()
    db = open_jobdb(conf)
    queue = Queue(db)
    states: dict[tuple[str, str], RuleState] = {}
    try:
        while not stop.is_set():
            n = scrape_once(conf, st, queue, states)
            if n:
                print(f"godiag watch: queued {n} diagnosis job(s)", file=sys.stderr)
                workers.wake.set()
            if once:
                while queue.counts().get("queued", 0) + queue.counts().get("running", 0):
                    stop.wait(0.5)
                break
            stop.wait(st.watch_interval)
    except KeyboardInterrupt:
        pass
    finally:
        workers.stop()
        if references is not None:
            references.stop()
        db.close()
    return 0
