"""limits.pin_mmap_threshold: large buffers freed after a budget hit leave the process's
RSS, instead of staying in glibc's arenas once its dynamic mmap threshold has risen."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from godiag.limits import InFlight

GLIBC = sys.platform.startswith("linux") and bool(os.confstr("CS_GNU_LIBC_VERSION") or "")

# Four threads decompress gzip bombs up to a 48 MB budget, three times each, and fail
# (DecompressBudgetError), as a diagnosis of hostile targets does. What the process still
# holds afterwards: ~100 MB with glibc's dynamic threshold (measured 103 MB), ~0 pinned.
CHILD = """
import gzip, sys, threading
from godiag.errors import DecompressBudgetError
from godiag.formats.pprof import gunzip
from godiag.limits import pin_mmap_threshold
if sys.argv[1] == "pin":
    pin_mmap_threshold()
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
bomb = gzip.compress(b"\\0" * (16 << 20)) * 8
def work():
    for _ in range(3):
        try:
            gunzip(bomb, "bomb", limit=48 << 20)
        except DecompressBudgetError:
            pass
before = rss()
threads = [threading.Thread(target=work) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(rss() - before)
"""


@pytest.mark.skipif(not GLIBC, reason="glibc's allocator only")
def test_pinned_threshold_gives_freed_buffers_back() -> None:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, "pin"], capture_output=True, text=True, timeout=120,
        check=True,
    )  # fmt: skip
    assert int(out.stdout) < 30, f"{out.stdout.strip()} MB still held after the budget hits"


def test_pool_never_overdraws() -> None:
    pool = InFlight(100)
    assert pool.take(60) and not pool.take(41) and pool.take(40)
    pool.give(100)
    assert pool.used == 0
