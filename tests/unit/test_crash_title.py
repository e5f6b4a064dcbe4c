"""crash_title on the lines around dumps that are not the common crashes (the common ones
are real programs' output in tests/integration/test_goroutines_crash_titles.py)."""

from __future__ import annotations

import pytest

from godiag.formats.goroutine_header import crash_title

STACK_OVERFLOW = [
    "runtime: goroutine stack exceeds 1000000000-byte limit",
    "fatal error: stack overflow",
]
GOROUTINES_AFTER = ["panic: boom", "", "goroutine 1 [running]:", "main.main()", "\t/src/m.go:3"]

CASES = [
    # a dump asked for, not a crash
    (["SIGQUIT: quit", "PC=0x46e1a1 m=0 sigcode=0"], None),
    ([], None),
    # the runtime's own lines before the fatal error are context, not its title
    (STACK_OVERFLOW, "fatal error: stack overflow"),
    # a throw while panicking names both, each prefix once
    (
        ["panic: boom", "fatal error: panic holding locks"],
        "fatal error: panic holding locks (while panicking: boom)",
    ),
    # the goroutines after the blank line are not a panic value's continuation
    (GOROUTINES_AFTER, "panic: boom"),
]


@pytest.mark.parametrize(("lines", "title"), CASES)
def test_crash_title(lines: list[str], title: str | None) -> None:
    assert crash_title(lines) == title
