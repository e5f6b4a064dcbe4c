"""Counts in the words a reader expects: "1 goroutine", "3 goroutines"."""

from __future__ import annotations


def many(n: float, word: str, spec: str = "") -> str:
    """`n` formatted with `spec` and `word`, plural unless n is one (`+1 goroutine`)."""
    return f"{n:{spec}} {word if abs(n) == 1 else word + 's'}"


def agree(n: float, one: str, other: str) -> str:
    """The verb for a count's subject: agree(1, "waits", "wait") -> "waits"."""
    return one if abs(n) == 1 else other
