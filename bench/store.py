"""Store write/read throughput of the local backend against plain files.

Anchor: what a user does without a store - write each capture to its own file with
write + fsync + rename (the same durability). godiag: `LocalStore.put` (the same plus
the SQLite index row in the same transaction) and `LocalStore.read` (sha256-checked).
Prints both figures from the same run and the ratio.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from godiag.store.local import LocalStore

N = int(os.environ.get("BENCH_N", "300"))
SIZE = int(os.environ.get("BENCH_SIZE", str(64 * 1024)))


def payloads() -> list[bytes]:
    return [hashlib.sha256(str(i).encode()).digest() * (SIZE // 32) for i in range(N)]


def anchor(root: Path, data: list[bytes]) -> float:
    t = time.perf_counter()
    for i, b in enumerate(data):
        tmp = root / f"{i}.tmp"
        with open(tmp, "wb") as fh:
            fh.write(b)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, root / f"{i}.pb")
    fd = os.open(root, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
    return time.perf_counter() - t


def godiag_put(root: Path, data: list[bytes]) -> tuple[float, float, list[str]]:
    st = LocalStore(root)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    t = time.perf_counter()
    ids = []
    for i, b in enumerate(data):
        meta = {
            "service_name": "bench",
            "go_version": "go1.26.0",
            "build_commit": "b" * 40,
            "profile_type": "heap",
            "captured_at": t0 + timedelta(seconds=i),
            "tags": {"env": "bench"},
        }
        ids.append(st.put(b, meta).id)
    put_s = time.perf_counter() - t
    t = time.perf_counter()
    for aid in ids:
        st.read(aid)
    read_s = time.perf_counter() - t
    st.close()
    return put_s, read_s, ids


def main() -> int:
    data = payloads()
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as g:
        anchor_s = anchor(Path(a), data)
        t = time.perf_counter()
        for i in range(N):
            (Path(a) / f"{i}.pb").read_bytes()
        anchor_read = time.perf_counter() - t
        put_s, read_s, _ = godiag_put(Path(g), data)
    print(f"store bench: {N} artifacts of {SIZE} bytes")
    print(f"  anchor write+fsync+rename: {anchor_s * 1000 / N:.2f} ms/artifact")
    print(f"  godiag LocalStore.put:     {put_s * 1000 / N:.2f} ms/artifact")
    print(f"  ratio put/anchor:          {put_s / anchor_s:.2f}x")
    print(f"  anchor read:               {anchor_read * 1000 / N:.3f} ms/artifact")
    print(f"  godiag read (sha checked): {read_s * 1000 / N:.3f} ms/artifact")
    print(f"  ratio read/anchor:         {read_s / anchor_read:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
