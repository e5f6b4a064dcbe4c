"""Eight processes opening the same fresh local store at the same moment all succeed.

Switching a new index to WAL needs the database to itself; SQLite refuses at once
("database is locked") rather than waiting when another opener is reading it. This
failed in about 4 of 30 rounds before opening waited that out.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from pathlib import Path

import pytest

from godiag.store.local import LocalStore

pytestmark = pytest.mark.integration


def _open(root: str, start: float, out: mp.Queue[str]) -> None:
    while time.time() < start:
        pass  # spin, so all eight reach the open together
    try:
        LocalStore(Path(root)).db.close()
        out.put("ok")
    except Exception as exc:  # the message is the result
        out.put(f"{type(exc).__name__}: {exc}")


def test_concurrent_first_opens(tmp_path: Path) -> None:
    ctx = mp.get_context("fork")  # fork: all eight are ready well inside the 0.3 s
    for round_ in range(30):
        root = tmp_path / f"s{round_}"
        out: mp.Queue[str] = ctx.Queue()
        start = time.time() + 0.3
        procs = [ctx.Process(target=_open, args=(str(root), start, out)) for _ in range(8)]
        for p in procs:
            p.start()
        results = [out.get(timeout=120) for _ in procs]
        for p in procs:
            p.join(timeout=60)
        assert results == ["ok"] * 8, results
