"""Budgets that bound what one capture, and the whole process, may hold in memory.

A hostile or broken target decides how much it sends; these numbers decide how much of
it godiag keeps. `Budget` travels with a fetch (bytes after decompression, a wall-clock
deadline); `InFlight` is the process-wide pool that concurrent captures draw from while
they are being read or decompressed, so six captures of a diagnosis (or several
diagnoses of `godiag serve`) cannot each grow to their own cap at the same time.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import BinaryIO

MB = 1 << 20
# A 100k-goroutine debug=2 dump is ~25 MB and large heap profiles ~50 MB decompressed:
# the default leaves room for both, and no more.
CAPTURE_MB = 64
# Captures a diagnosis fetches at once, each on its own connection to the service: its open
# fds rise by up to as many while it is watched (kinds/connection_leak.py leaves that out)
OBSERVER_CONNECTIONS = 6
CAPTURE_SECONDS = 10.0  # one capture, connect to last byte (windowed profiles add their window)
DEADLINE_SLACK_SECONDS = 60.0  # a diagnosis ends by window + this, whatever the target does
# Bytes that captures still being read or decompressed may hold together, per process.
# Above one capture's cap (a legitimate 50 MB heap decompresses alone, first in a
# diagnosis) and above four 25 MB dumps (serve's default concurrency on large services);
# with the interpreter (~50-80 MB) and pin_mmap_threshold() it keeps a process diagnosing
# hostile targets under 300 MB (docs/performance.md).
IN_FLIGHT_MB = 128
# Commands that take one capture at a time (profile, trace, goroutines) read up to this:
# execution traces of busy services are far larger than any diagnosis capture.
SINGLE_CAPTURE_MB = 512
# A replayed capture bundle (diagnose DIR): every capture together, decompressed. Each one
# is also under the capture budget; a diagnosis takes about 16 captures.
BUNDLE_MB = 512


@dataclass(frozen=True)
class Budget:
    """What one capture may cost: `max_bytes` after decompression, and the absolute
    `time.monotonic()` deadline of the whole diagnosis (None: only per-capture time)."""

    max_bytes: int = CAPTURE_MB * MB
    deadline: float | None = None

    def ends_at(self, seconds: float) -> float:
        """When a capture started now with `seconds` of its own must be over."""
        end = time.monotonic() + seconds
        return end if self.deadline is None else min(end, self.deadline)


class InFlight:
    """A counting pool of bytes. `take` never waits: a capture that cannot grow fails at
    once (the budget error names it) instead of waiting on others that may never finish."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.used = 0
        self._lock = threading.Lock()

    def take(self, n: int) -> bool:
        with self._lock:
            if self.used + n > self.capacity:
                return False
            self.used += n
            return True

    def give(self, n: int) -> None:
        with self._lock:
            self.used = max(0, self.used - n)


IN_FLIGHT = InFlight(IN_FLIGHT_MB * MB)


def pin_mmap_threshold(threshold: int = 256 * 1024) -> None:
    """Make glibc give large freed buffers back to the system at once.

    glibc raises its mmap threshold after a large buffer is freed (up to 32 MB); from
    then on buffers of up to that size come from arenas that keep freed memory. A
    process that reads and drops many large answers (every budget hit is one) then grows
    far past what it holds: serve diagnosing hostile targets peaked at 349 MB with
    dynamic thresholds and 192 MB with this (docs/performance.md). Setting the threshold
    explicitly turns the adjustment off. Process-wide, so called by the commands (diagnose,
    serve, watch), not the library; a no-op off glibc.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return
    except (ValueError, OSError):
        return
    import ctypes

    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is not None:
        mallopt(-3, threshold)  # M_MMAP_THRESHOLD


def read_capped(fh: BinaryIO, cap: int, what: str) -> bytes:
    """All of `fh`, when it holds `cap` bytes or fewer (InputTooLarge past them). A pipe,
    a FIFO, stdin or /dev/zero has no size to check first (`<(curl ...)`, `kubectl logs |
    godiag goroutines -`): it is read in chunks and given up at the cap, not until memory
    runs out."""
    chunks: list[bytes] = []
    n = 0
    while chunk := fh.read(min(1 << 20, cap + 1 - n)):
        chunks.append(chunk)
        n += len(chunk)
        if n > cap:
            raise InputTooLarge(f"{what}: larger than {cap >> 20} MB")
    return b"".join(chunks)


class InputTooLarge(ValueError):
    """A local input (file, pipe, stdin) past its cap; the caller turns it into its error."""
