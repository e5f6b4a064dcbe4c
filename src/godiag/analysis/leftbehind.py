"""Goroutines a test binary's tests left behind: which ones, which test started them.

Input: the dump taken when TestMain started and the one taken after the tests ended
(and a grace period for goroutines that were finishing), both parsed by
formats/goroutines.py. A goroutine of the second dump whose id is not in the first, that
is not the harness's own, was started by the tests and outlived them. It is attributed to
the test function that started it, read from the goroutine's ancestry: with
GODEBUG=tracebackancestors the runtime prints, under `[originating from goroutine N]`,
the stack of each creator at the `go` statement; the frame just below `testing.tRunner`
is the test (or its subtest's closure). Without an ancestry, the `created by` function is
used when it is itself a test.

Grouping and suspects are analysis/goroutines.py's, per test: the end dump's first line
(`godiag: goroutines left after the tests ended`) makes every blocked group a suspect
(goroutine_suspects `test-leak`), and `(leaked)` goroutines are proven (`leaked`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from godiag.analysis.goroutine_rules import is_harness
from godiag.analysis.goroutines import analyze
from godiag.model.goroutine import Dump, Frame, Goroutine

UNKNOWN_TEST = "(test not known)"
# What `godiag run --leaks` renames a package's own TestMain to (leakwrap.py): goroutines
# its setup started are TestMain's.
USER_TESTMAIN = "godiagUserTestMain"
_TEST_NAME = re.compile(
    r"^(?:.*/)?[^./]+\.((?:Test|Benchmark|Fuzz|Example)\w*)(\.func\d+(?:\.\d+)*)?$"
)


@dataclass(frozen=True)
class LeftBehind:
    """One group of goroutines left blocked by one test (a godiag.goroutines/v1 group)."""

    test: str
    group: dict[str, Any]
    reasons: tuple[str, ...]  # the suspects' reasons
    proven: bool  # the runtime's goroutineleak profile marked them `(leaked)`
    # the test's own line that led to the goroutine (from the ancestry), when known
    test_site: dict[str, Any] | None = None


def frames_test(frames: tuple[Frame, ...]) -> tuple[str, Frame] | None:
    """The test in a stack and its frame: the one called by `testing.tRunner`."""
    for i, fr in enumerate(frames):
        if fr.function == "testing.tRunner" and i > 0:
            name = name_of_test(frames[i - 1].function)
            return (name, frames[i - 1]) if name else None
    return None


def name_of_test(function: str) -> str | None:
    """`pkg.TestX` -> TestX; `pkg.TestX.func1` (a subtest's body) -> `TestX (subtest)`."""
    m = _TEST_NAME.match(function)
    if not m:
        return None
    return m.group(1) + (" (subtest)" if m.group(2) else "")


def attribute(g: Goroutine) -> tuple[str, Frame | None]:
    """The test that started `g` and the test's line that did, from its own stack, its
    ancestry, or (name only) its creator."""
    found = frames_test(g.frames)
    for anc in g.ancestors:
        if found:
            break
        found = frames_test(anc.frames)
    if found:
        return found
    for frames in (g.frames, *(a.frames for a in g.ancestors)):
        for fr in frames:
            if fr.function.endswith("." + USER_TESTMAIN):
                return "TestMain", fr
    name = name_of_test(g.created_by.function) if g.created_by is not None else None
    return name or UNKNOWN_TEST, None


def left_behind(start: Dump | None, end: Dump) -> list[Goroutine]:
    """Goroutines of `end` that were not there at `start` and are not the harness's."""
    before = {g.id for g in start.goroutines} if start is not None else set()
    return [
        g
        for g in end.goroutines
        if g.id not in before and not is_harness([(f.function, f.file) for f in g.frames])
    ]


def leaks(start: Dump | None, end: Dump, source: str) -> tuple[list[LeftBehind], int]:
    """Suspect groups per test, and how many goroutines were left in all (blocked or not)."""
    left = left_behind(start, end)
    by_test: dict[str, list[Goroutine]] = {}
    sites: dict[int | None, Frame | None] = {}
    for g in left:
        test, site = attribute(g)
        by_test.setdefault(test, []).append(g)
        sites[g.id] = site
    out: list[LeftBehind] = []
    for test, gs in by_test.items():
        part = Dump(format=end.format, goroutines=tuple(gs), header=end.header, total=len(gs))
        doc = analyze(part, source)
        reasons: dict[int, list[str]] = {}
        for s in doc["suspects"]:
            reasons.setdefault(s["group"], []).append(s["reason"])
        for i, grp in enumerate(doc["groups"]):
            if i in reasons:
                site = next((sites[x] for x in grp["ids"] if sites.get(x)), None)
                where = (
                    {"function": site.function, "file": site.file, "line": site.line}
                    if site
                    else None
                )
                out.append(LeftBehind(test, grp, tuple(reasons[i]), grp["leaked"] > 0, where))
    return out, len(left)
