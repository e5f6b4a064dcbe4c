"""Demo orchestration: build, start, load, capture twice, analyse the growth, stop."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from godiag.demo.load import hit
from godiag.demo.service import DemoService
from godiag.toolchain.gobuild import build_shipped, find_go

Progress = Callable[[str], None]


def run_demo(progress: Progress, *, requests: int = 300, pause: float = 1.5) -> dict[str, Any]:
    """Return the goroutine document (with growth) of the live demo service."""
    from godiag.analysis.goroutines import diff
    from godiag.collect.goroutines import fetch
    from godiag.collect.http import HttpClient
    from godiag.collect.pprof import profile_url
    from godiag.formats.goroutines import parse

    find_go()  # fail in one line before anything is printed
    progress("building the demo service with your go command")
    binary = build_shipped("demo")
    client = HttpClient()
    with DemoService(binary) as svc:
        progress(f"demo service listening on {svc.url}; sending {requests} requests to /quote")
        hit(f"{svc.url}/quote", requests)
        source = profile_url(svc.url, "goroutine")
        before = fetch(source, client=client, timeout=10)
        progress(f"captured a goroutine dump; {requests} more requests, then another")
        hit(f"{svc.url}/quote", requests)
        time.sleep(pause)
        after = fetch(source, client=client, timeout=10)
        progress("stopping the demo service")
    doc = diff(parse(before.data, before.source), parse(after.data, after.source), after.source)
    return doc


FAULTS = ("goroutine-leak", "memory-leak", "lock-contention", "healthy")


def run_diagnosis(
    progress: Progress, *, fault: str = "goroutine-leak", window: float = 3.0, warmup: int = 150
) -> dict[str, Any]:
    """Build the demo with the chosen fault, keep it busy, and diagnose it live."""
    import threading

    from godiag.config import Target
    from godiag.demo.load import hit
    from godiag.pipeline.diagnose import DiagnoseOptions, diagnose

    find_go()
    progress("building the demo service with your go command")
    binary = build_shipped("demo")
    with DemoService(binary, args=("-fault", fault)) as svc:
        progress(f"demo service ({fault}) listening on {svc.url}; sending traffic to /quote")
        hit(f"{svc.url}/quote", warmup)
        stop = threading.Event()

        def load() -> None:  # steady traffic for the whole observation window
            while not stop.is_set():
                hit(f"{svc.url}/quote", 40, concurrency=8)

        th = threading.Thread(target=load, daemon=True)
        th.start()
        try:
            progress(f"diagnosing for {window:g}s")
            opts = DiagnoseOptions(window=window, store=False)
            doc = diagnose(Target(name="godiag-demo", url=svc.url), opts, progress=progress)
        finally:
            stop.set()
            th.join(10)
        progress("stopping the demo service")
    return doc
