"""A small, bounded load generator for the demo service (loopback only)."""

from __future__ import annotations

import concurrent.futures
import urllib.request


def hit(url: str, count: int, concurrency: int = 16, timeout: float = 5.0) -> int:
    """Send `count` GETs to `url`; returns how many answered 2xx."""

    def one(_: int) -> bool:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp:
                resp.read()
                status: int = resp.status
                return 200 <= status < 300
        except OSError:
            return False

    with concurrent.futures.ThreadPoolExecutor(max_workers=concurrency) as pool:
        return sum(pool.map(one, range(count)))
