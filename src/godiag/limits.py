"""Budgets that bound what one capture, and the whole process, may hold in memory.

A hostile or broken target decides how much it sends; these numbers decide how much of
it godiag keeps. `Budget` travels with a fetch (bytes after decompression, a wall-clock
deadline); `InFlight` is the process-wide pool that concurrent captures draw from while
they are being read or decompressed, so six captures of a diagnosis (or several
diagnoses of `godiag serve`) cannot each grow to their own cap at the same time.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

MB = 1 << 20
# A 100k-goroutine debug=2 dump is ~25 MB and large heap profiles ~50 MB decompressed:
# the default leaves room for both, and no more.
CAPTURE_MB = 64
CAPTURE_SECONDS = 10.0  # one capture, connect to last byte (windowed profiles add their window)
DEADLINE_SLACK_SECONDS = 60.0  # a diagnosis ends by window + this, whatever the target does
# Bytes that captures still being read or decompressed may hold together, per process.
# Above one capture's cap (a legitimate 50 MB heap decompresses alone) and well under
# the 1 GB of deploy/godiag.service's MemoryMax with the interpreter and the parsed data.
IN_FLIGHT_MB = 160
# Commands that take one capture at a time (profile, trace, goroutines) read up to this:
# execution traces of busy services are far larger than any diagnosis capture.
SINGLE_CAPTURE_MB = 512


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
