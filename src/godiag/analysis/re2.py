"""RE2 patterns (Go's regexp, what `go tool pprof -focus` compiles) as Python `re` patterns
that match the same strings.

Python's `re` reads the same text differently in places: `\\d`, `\\w`, `\\s` and `\\b` are
Unicode-aware there and ASCII in RE2; `\\1` is a backreference there and octal in RE2;
`a{,3}` is a repeat there and literal text in RE2; `[[:alpha:]]`, `\\z`, `\\Q...\\E`,
`\\x{...}` and flags in mid-pattern are RE2 only; lookaround, backreferences, atomic
groups, possessive repeats, `\\Z` and the `x` flag are Python only. `translate` parses RE2
syntax and writes an equivalent Python pattern (character classes as explicit code point
ranges), and refuses what RE2 does not have, as Go's regexp.Compile would, in one
sentence. Unicode classes (`\\pL`, `\\p{Greek}`) are RE2 syntax Python's `re` cannot
express cheaply: refused too, saying so. Greediness (`U`, `*?`) changes which text
matches, never whether a name matches, so it is kept or dropped freely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_CODE = 0x10FFFF
MAX_REPEAT = 1000  # RE2's limit on {n,m}
Ranges = list[tuple[int, int]]

_DIGIT: Ranges = [(0x30, 0x39)]
_SPACE: Ranges = [(0x09, 0x0A), (0x0C, 0x0D), (0x20, 0x20)]  # RE2's \s: no \v
_WORD: Ranges = [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)]
_PERL: dict[str, Ranges] = {"d": _DIGIT, "s": _SPACE, "w": _WORD}
_POSIX: dict[str, Ranges] = {
    "alnum": [(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)],
    "alpha": [(0x41, 0x5A), (0x61, 0x7A)],
    "ascii": [(0x00, 0x7F)],
    "blank": [(0x09, 0x09), (0x20, 0x20)],
    "cntrl": [(0x00, 0x1F), (0x7F, 0x7F)],
    "digit": _DIGIT,
    "graph": [(0x21, 0x7E)],
    "lower": [(0x61, 0x7A)],
    "print": [(0x20, 0x7E)],
    "punct": [(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)],
    "space": [(0x09, 0x0D), (0x20, 0x20)],
    "upper": [(0x41, 0x5A)],
    "word": _WORD,
    "xdigit": [(0x30, 0x39), (0x41, 0x46), (0x61, 0x66)],
}
_SIMPLE_ESCAPES = {"a": 0x07, "f": 0x0C, "t": 0x09, "n": 0x0A, "r": 0x0D, "v": 0x0B}
_REPEAT = re.compile(r"\{(\d+)(,(\d*))?\}")
_OCTAL = re.compile(r"[0-7]{1,3}")
_HEX = re.compile(r"x(?:\{([0-9A-Fa-f]{1,8})\}|([0-9A-Fa-f]{2}))")
_POSIX_CLASS = re.compile(r"\[:(\^?)([a-z]+):\]")
_FLAGS = re.compile(r"\(\?([imsU]*)(?:-([imsU]*))?([:)])")
_NAME = re.compile(r"\(\?P?<([A-Za-z0-9_]+)>")
_WORD_CLASS = "[0-9A-Za-z_]"
# RE2's \b and \B: ASCII word characters on one side only (Python's are Unicode-aware)
# (case folding never widens them: K, the Kelvin sign, is no word character to RE2's \b)
_BOUNDARY = f"(?-i:(?<={_WORD_CLASS})(?!{_WORD_CLASS})|(?<!{_WORD_CLASS})(?={_WORD_CLASS}))"
_NOT_BOUNDARY = f"(?-i:(?<={_WORD_CLASS})(?={_WORD_CLASS})|(?<!{_WORD_CLASS})(?!{_WORD_CLASS}))"


class Re2Error(ValueError):
    """The pattern is not RE2 syntax, or RE2 syntax outside what is translated."""


def _complement(ranges: Ranges) -> Ranges:
    out: Ranges = []
    nxt = 0
    for lo, hi in sorted(ranges):
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = max(nxt, hi + 1)
    if nxt <= MAX_CODE:
        out.append((nxt, MAX_CODE))
    return out


def _char(code: int) -> str:
    return f"\\U{code:08x}"


def _class(ranges: Ranges, negated: bool = False) -> str:
    body = "".join(_char(lo) if lo == hi else f"{_char(lo)}-{_char(hi)}" for lo, hi in ranges)
    if not body:  # an empty class matches nothing; its negation everything
        return "(?s:.)" if negated else "(?!)"
    return f"[{'^' if negated else ''}{body}]"


@dataclass
class _Group:
    multiline: bool = False  # the m flag, which decides what `$` means
    scoped: list[str] = field(default_factory=list)  # flag groups opened by (?flags) here


class _Translator:
    def __init__(self, pattern: str) -> None:
        self.p = pattern
        self.i = 0
        self.out: list[str] = []
        self.groups: list[_Group] = [_Group()]
        self.after_repeat = False  # the last item was a repetition (RE2 refuses another)

    def fail(self, why: str) -> Re2Error:
        return Re2Error(why)

    def run(self) -> str:
        while self.i < len(self.p):
            self.step()
        if len(self.groups) > 1:
            raise self.fail("missing closing )")
        self.out.append(")" * len(self.groups[0].scoped))
        return "".join(self.out)

    def step(self) -> None:
        c = self.p[self.i]
        repeat = False
        if c == "\\":
            self.out.append(self.escape())
        elif c == "[":
            self.out.append(self.char_class())
        elif c == "(":
            self.open_group()
        elif c == ")":
            self.close_group()
        elif c == "|":
            scoped = self.groups[-1].scoped
            self.out.append(")" * len(scoped) + "|" + "".join(scoped))
            self.i += 1
        elif c in "*+?":
            repeat = self.repeat(1)
        elif c == "{":
            m = _REPEAT.match(self.p, self.i)
            if m is None:  # not a repeat: RE2 reads `{` as itself (Python: `{,n}` repeats)
                self.out.append(re.escape(c))
                self.i += 1
            else:
                lo, hi = int(m.group(1)), m.group(3)
                if lo > MAX_REPEAT or (hi and int(hi) > MAX_REPEAT):
                    raise self.fail(f"repeat count over {MAX_REPEAT} in {m.group(0)}")
                repeat = self.repeat(len(m.group(0)))
        elif c == "$":
            # RE2's `$` is the end of the text (of a line with m); Python's also matches
            # before a final newline
            self.out.append("$" if self.groups[-1].multiline else "\\Z")
            self.i += 1
        else:
            self.out.append(c if c in ".^" else re.escape(c))
            self.i += 1
        self.after_repeat = repeat

    def repeat(self, width: int) -> bool:
        op = self.p[self.i : self.i + width]
        if self.after_repeat:
            raise self.fail(f"nested repetition {op!r}: RE2 has no possessive repeats")
        self.i += width
        if self.p.startswith("?", self.i):  # lazy: same strings match, kept as written
            op += "?"
            self.i += 1
        self.out.append(op)
        return True

    def open_group(self) -> None:
        rest = self.p[self.i :]
        multiline = self.groups[-1].multiline
        if not rest.startswith("(?"):
            self.out.append("(")
            self.groups.append(_Group(multiline))
            self.i += 1
            return
        m = _NAME.match(rest)
        if m is not None:
            # a name changes no match (Go's may start with a digit, or repeat): dropped
            self.out.append("(")
            self.groups.append(_Group(multiline))
            self.i += len(m.group(0))
            return
        m = _FLAGS.match(rest)
        if m is None or m.group(0) in ("(?-:", "(?-)") or m.group(2) == "":
            raise self.fail(f"{self.unsupported_group(rest)}: RE2 has no such group")
        on, off = m.group(1).replace("U", ""), (m.group(2) or "").replace("U", "")
        flags = on + (f"-{off}" if off else "")
        opened = f"(?{flags}:" if flags else "(?:"
        self.i += len(m.group(0))
        if "m" in on or "m" in off:
            multiline = "m" in on
        if m.group(3) == ":":
            self.out.append(opened)
            self.groups.append(_Group(multiline))
            return
        self.groups[-1].multiline = multiline
        if flags:  # (?i) holds to the end of the group (across its `|`): a scoped group
            self.out.append(opened)
            self.groups[-1].scoped.append(opened)

    def unsupported_group(self, rest: str) -> str:
        for prefix, what in (
            ("(?=", "lookahead (?=...)"),
            ("(?!", "negative lookahead (?!...)"),
            ("(?<=", "lookbehind (?<=...)"),
            ("(?<!", "negative lookbehind (?<!...)"),
            ("(?P=", "backreference (?P=name)"),
            ("(?>", "atomic group (?>...)"),
            ("(?#", "comment (?#...)"),
            ("(?(", "conditional (?(...)...)"),
        ):
            if rest.startswith(prefix):
                return what
        return f"flags or group {rest[:6]!r}... (RE2's flags are i, m, s, U)"

    def close_group(self) -> None:
        if len(self.groups) == 1:
            raise self.fail("unexpected )")
        group = self.groups.pop()
        self.out.append(")" * len(group.scoped) + ")")
        self.i += 1

    def escape(self) -> str:
        """One escape outside a class: its Python form."""
        c = self.p[self.i + 1 : self.i + 2]
        if c == "Q":
            end = self.p.find("\\E", self.i + 2)
            text = self.p[self.i + 2 :] if end < 0 else self.p[self.i + 2 : end]
            self.i = len(self.p) if end < 0 else end + 2
            return "".join(_char(ord(ch)) for ch in text)
        if c in ("A", "z"):
            self.i += 2
            return "\\A" if c == "A" else "\\Z"
        if c in ("b", "B"):
            self.i += 2
            return _BOUNDARY if c == "b" else _NOT_BOUNDARY
        if c.lower() in _PERL:
            self.i += 2
            return _class(_PERL[c.lower()], negated=c.isupper())
        return _char(self.char_escape())

    def char_escape(self) -> int:
        """An escape that stands for one character (octal, hex, \\t..., punctuation)."""
        c = self.p[self.i + 1 : self.i + 2]
        if c == "":
            raise self.fail("trailing backslash")
        if c in "01234567":
            m = _OCTAL.match(self.p, self.i + 1)
            assert m is not None
            if c != "0" and len(m.group(0)) == 1:  # \1 alone: a backreference
                raise self.fail(f"backreference \\{c}: RE2 has none")
            self.i = m.end()
            return int(m.group(0), 8)
        if c == "x":
            m = _HEX.match(self.p, self.i + 1)
            if m is None or int(m.group(1) or m.group(2), 16) > MAX_CODE:
                raise self.fail(f"bad hex escape at {self.p[self.i : self.i + 6]!r}")
            self.i = m.end()
            return int(m.group(1) or m.group(2), 16)
        if c in _SIMPLE_ESCAPES:
            self.i += 2
            return _SIMPLE_ESCAPES[c]
        if c.isascii() and not c.isalnum():
            self.i += 2
            return ord(c)
        if c in "pP":
            raise self.fail(
                f"Unicode class \\{c}...: RE2 syntax this option does not support "
                f"(use explicit ranges)"
            )
        what = "a backreference: RE2 has none" if c in "89" else "not an escape of RE2"
        raise self.fail(f"\\{c}: {what}")

    def char_class(self) -> str:
        i = self.i + 1
        negated = self.p.startswith("^", i)
        i += negated
        ranges: Ranges = []
        first = True
        while True:
            if i >= len(self.p):
                raise self.fail("missing closing ]")
            c = self.p[i]
            if c == "]" and not first:
                break
            first = False
            m = _POSIX_CLASS.match(self.p, i)
            if m is not None:
                if m.group(2) not in _POSIX:
                    raise self.fail(f"unknown class {m.group(0)}")
                got = _POSIX[m.group(2)]
                ranges += _complement(got) if m.group(1) else got
                i = m.end()
                continue
            if c == "\\" and self.p[i + 1 : i + 2].lower() in _PERL:
                got = _PERL[self.p[i + 1].lower()]
                ranges += _complement(got) if self.p[i + 1].isupper() else got
                i += 2
                continue
            lo, i = self.class_char(i)
            hi = lo
            if self.p.startswith("-", i) and self.p[i + 1 : i + 2] not in ("]", ""):
                hi, i = self.class_char(i + 1)
                if hi < lo:
                    raise self.fail(f"bad range {chr(lo)}-{chr(hi)} in a class")
            ranges.append((lo, hi))
        self.i = i + 1
        return _class(sorted(ranges), negated)

    def class_char(self, i: int) -> tuple[int, int]:
        if self.p[i] != "\\":
            return ord(self.p[i]), i + 1
        if self.p[i + 1 : i + 2] in ("b", "Q", "z", "A", "B"):
            raise self.fail(f"\\{self.p[i + 1]} inside a class is not RE2 syntax")
        if self.p[i + 1 : i + 2].lower() in _PERL:
            raise self.fail("a class (\\d, \\s, \\w) cannot end a range")
        saved = self.i
        self.i = i
        try:
            code = self.char_escape()
            return code, self.i
        finally:
            self.i = saved


def translate(pattern: str) -> str:
    """A Python `re` pattern matching what RE2 pattern `pattern` matches; Re2Error when
    `pattern` is not RE2 syntax (or uses the Unicode classes left out)."""
    return _Translator(pattern).run()


def compile_re2(pattern: str) -> re.Pattern[str]:
    """`pattern` compiled with RE2's meaning; Re2Error (one sentence) when it has none."""
    try:
        return re.compile(translate(pattern))
    except re.error as exc:
        raise Re2Error(str(exc)) from None
