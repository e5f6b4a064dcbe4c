"""A separate process that writes (and reads) the store, for the crash and load tests.

`python -m tests.integration.store.worker CONFIG FIRST LAST [--read] [--shared]` writes
artifacts FIRST..LAST-1, skipping those already stored (so a killed writer can be
restarted and finish the job), prints `done N` after each committed write, and with
--read also lists and reads back what others wrote. Content and metadata are derived
from the sequence number, so a re-write of the same number is the same artifact.
"""

from __future__ import annotations

import hashlib
import random
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from godiag import config as cfg
from godiag.store import open_store
from godiag.store.base import Filter

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def payload(seq: int) -> bytes:
    rnd = random.Random(seq)
    size = rnd.choice([0, 1, 100, 4096, 30_000, 200_000])
    head = f"artifact {seq}\n".encode()
    block = hashlib.sha256(head).digest()
    return head + (block * (size // 32 + 1))[:size]


def fields(seq: int) -> dict[str, Any]:
    return {
        "service_name": f"svc{seq % 3}",
        "go_version": "go1.26.0",
        "build_commit": f"{seq:040x}",
        "profile_type": "heap",
        "captured_at": EPOCH + timedelta(seconds=seq),
        "tags": {"seq": str(seq), "env": "test"},
    }


SHARED = -1  # every --shared worker writes this same artifact: it must exist once


def main(argv: list[str]) -> int:
    conf_path, first, last = argv[0], int(argv[1]), int(argv[2])
    read = "--read" in argv
    store = open_store(cfg.load(conf_path))
    done = {int(a.meta.tags["seq"]) for a in store.query(Filter(tags={"env": "test"}))}
    print("ready", flush=True)
    todo = [s for s in range(first, last) if s not in done]
    if "--shared" in argv:
        todo.insert(len(todo) // 2, SHARED)
    rnd = random.Random(first)
    for seq in todo:
        store.put(payload(seq), fields(seq))
        print(f"done {seq}", flush=True)
        if read:
            arts = store.query(Filter(service=f"svc{rnd.randrange(3)}", limit=5))
            for a in arts[:2]:
                data = store.read(a.id)
                assert data == payload(int(a.meta.tags["seq"])), a.id
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
