"""--focus/--ignore patterns read as RE2 (Go's regexp), without Go at hand: the cases
where Python's re would read the same text differently, and what RE2 refuses."""

from __future__ import annotations

import pytest

from godiag.analysis.profiles import _compile
from godiag.analysis.re2 import Re2Error, compile_re2
from godiag.errors import UsageError


@pytest.mark.parametrize(
    ("pattern", "matches", "misses"),
    [
        (r"\d", ["7"], ["\u0663"]),  # RE2's \d is ASCII
        (r"^\w+$", ["main_1"], ["caf\u00e9", "a\n"]),  # and $ is the end of the text
        (r"a{,3}", ["a{,3}"], ["aaa"]),  # not a repeat in RE2
        (r"[[:upper:]]x", ["Ax"], [":x", "ax"]),
        (r"\12", ["\n"], ["a"]),  # octal, not a backreference
        (r"\x{66}late", ["flate"], ["late"]),
        (r"a(?i)b|c", ["aB", "C"], ["AB"]),  # the flag holds to the group's end, across |
        (r"\Qa.b\E$", ["a.b"], ["acb"]),
        (r"(?i)\bk", ["k", "K"], ["\u212a", "ak"]),
    ],
)
def test_re2_meaning(pattern: str, matches: list[str], misses: list[str]) -> None:
    rx = compile_re2(pattern)
    assert [s for s in matches if not rx.search(s)] == []
    assert [s for s in misses if rx.search(s)] == []


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        (r"(?=a)", "lookahead"),
        (r"(?<!a)b", "lookbehind"),
        (r"(a)\1", "backreference"),
        (r"(?P<n>a)(?P=n)", "backreference"),
        (r"a*+", "possessive"),
        (r"(?>a)", "atomic"),
        (r"a\Z", "not an escape of RE2"),
        (r"(?x)a", "flags are i, m, s, U"),
        (r"\pL", "Unicode class"),
    ],
)
def test_what_re2_lacks_is_one_usage_line(pattern: str, why: str) -> None:
    with pytest.raises(Re2Error, match=why):
        compile_re2(pattern)
    with pytest.raises(UsageError) as info:
        _compile(pattern, "focus")
    assert "\n" not in str(info.value) and "RE2" in str(info.value)
