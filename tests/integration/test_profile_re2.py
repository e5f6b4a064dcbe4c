"""--focus/--ignore read a pattern as Go's regexp (RE2) does, as pprof's -focus/-ignore do:
checked against Go's own regexp package and against `go tool pprof -top`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from godiag.analysis.re2 import Re2Error, compile_re2
from tests.gohelpers import hermetic_go_env
from tests.pprof_compare import godiag_top, pprof_top

pytestmark = pytest.mark.integration

GO_MATCHER = """package main

import (
\t"encoding/json"
\t"os"
\t"regexp"
)

type result struct {
\tError   string `json:"error"`
\tMatches []bool `json:"matches"`
}

func main() {
\tvar in struct {
\t\tPatterns []string `json:"patterns"`
\t\tSubjects []string `json:"subjects"`
\t}
\tif err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
\t\tpanic(err)
\t}
\tout := []result{}
\tfor _, p := range in.Patterns {
\t\tre, err := regexp.Compile(p)
\t\tif err != nil {
\t\t\tout = append(out, result{Error: err.Error()})
\t\t\tcontinue
\t\t}
\t\tr := result{Matches: []bool{}}
\t\tfor _, s := range in.Subjects {
\t\t\tr.Matches = append(r.Matches, re.MatchString(s))
\t\t}
\t\tout = append(out, r)
\t}
\tif err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
\t\tpanic(err)
\t}
}
"""

# Where Python's re and RE2 read the same text differently, and plain cases beside them.
VALID = [
    r"main\.\w+",
    r"\d+",
    r"\D",
    r"\s",
    r"\S+$",
    r"\w+$",
    r"\bfoo\b",
    r"\Bo",
    r"(?i)\bK",
    r"[[:alpha:]]+",
    r"[[:^digit:]]",
    r"[^[:space:]]x",
    r"[[:upper:][:digit:]]",
    r"[\d-z]",
    r"[\W]",
    r"[]a]",
    r"[^]a]",
    r"[a-]",
    r"[[]",
    r"\x{41}",
    r"\x41",
    r"\101",
    r"\0",
    r"\12",
    r"a{,3}",
    r"a{2}",
    r"o{2,}",
    r"{",
    r"a{1,1000}",
    r"x}",
    r"(?i)abc",
    r"a(?i)b|c",
    r"(a(?i)b|c)d",
    r"(?i:A)b",
    r"(?s)a.b",
    r"a.b",
    r"(?U)a+",
    r"a+?b",
    r"(?P<n>a)b",
    r"(?P<1n>a)b",
    r"(?P<n>a)(?P<n>b)",
    r"(?<n>a)\.",
    r"\Qa.b\E",
    r"\Qa.b",
    r"^a$",
    r"(?m)^a$",
    r"(?m:a$)|^b",
    r"a\z",
    r"\Aa",
    r"\#\ \-",
    r"é+",
    r"(?i)é",
    r"(?i)ſ",
    r"(?i)[k]",
    r"(?i)\w",
    r"",
    r"(?i-s:a.)b",
]
INVALID = [
    r"(?=a)",
    r"(?!a)",
    r"(?<=a)b",
    r"(?<!a)b",
    r"(a)\1",
    r"(?P<n>a)(?P=n)",
    r"a*+",
    r"a++",
    r"a?+",
    r"a**",
    r"a*??",
    r"(?>a)",
    r"a\Z",
    r"(?x)a b",
    r"(?#c)a",
    r"\u0041",
    r"\N{DIGIT ONE}",
    r"x{1001}",
    r"\8",
    r"(?a)\w",
    r"(?i-)a",
    r"[z-a]",
    r"[[:foo:]]",
    r"[\b]",
    r"a\e",
    r"(a",
    r"a)",
    "a\\",
    r"[a",
]
SUBJECTS = [
    "",
    "a",
    "A",
    "ab",
    "aB",
    "Ab",
    "a\n",
    "b\na",
    "a\nb",
    "aaaa",
    "aaab",
    "a{,3}",
    "a{2}",
    "{",
    "x}",
    "foo bar",
    "foobar",
    "main.handle",
    "٣",
    "7",
    "é",
    "É",
    "\u212a",
    "k",
    "s",
    "\u017f",
    "\x0b",
    " \t",
    "a.b",
    "acb",
    "a\nb",
    "]",
    "-",
    "[",
    "z",
    "\n",
    "A\x0b",
    "#  -",
    "# -",
    "cd",
    "abd",
]


def _go_results(tmp_path: Path, patterns: list[str]) -> list[dict[str, object]]:
    (tmp_path / "go.mod").write_text("module re2check\n\ngo 1.21\n")
    (tmp_path / "main.go").write_text(GO_MATCHER)
    res = subprocess.run(
        ["go", "run", "."], cwd=tmp_path, input=json.dumps(
            {"patterns": patterns, "subjects": SUBJECTS}),
        capture_output=True, text=True, timeout=300, env=hermetic_go_env(),
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    out: list[dict[str, object]] = json.loads(res.stdout)
    return out


def test_patterns_match_what_go_regexp_matches(tmp_path: Path) -> None:
    go = dict(zip(VALID + INVALID, _go_results(tmp_path, VALID + INVALID), strict=True))
    for pattern in VALID:
        assert not go[pattern]["error"], (pattern, go[pattern])
        rx = compile_re2(pattern)
        ours = [rx.search(s) is not None for s in SUBJECTS]
        theirs = go[pattern]["matches"]
        assert isinstance(theirs, list)
        differ = [s for s, a, b in zip(SUBJECTS, ours, theirs, strict=True) if a != b]
        assert differ == [], f"{pattern!r} matches differently from Go for {differ!r}"
    for pattern in INVALID:
        assert go[pattern]["error"], f"Go compiles {pattern!r}: not an example of non-RE2"
        with pytest.raises(Re2Error):
            compile_re2(pattern)


def test_unicode_classes_are_refused_in_one_sentence() -> None:
    with pytest.raises(Re2Error, match="Unicode class"):
        compile_re2(r"\pL+")


def test_focus_with_re2_only_syntax_equals_pprof(corpus: Path) -> None:
    # `[[:alpha:]]` and `\x{66}` are RE2: Python's re reads the first as another class
    # and refuses the second
    path = corpus / "pprof" / "parca/alloc_objects.pb.gz"
    for pattern in (r"fl[[:alpha:]]te", r"\x{66}late", r"compress/\Qflate\E\.\w+$"):
        ours = godiag_top(path, 20, None, focus=pattern)
        assert ours, pattern
        assert ours == pprof_top(path, 20, None, f"-focus={pattern}"), pattern


def test_syntax_re2_has_not_is_one_line_and_exit_2(corpus: Path) -> None:
    path = corpus / "pprof" / "parca/alloc_objects.pb.gz"
    for flag, pattern in (("--focus", r"(?<=compress/)flate"), ("--ignore", r"(runtime)\.\1")):
        res = subprocess.run(
            [sys.executable, "-m", "godiag", "profile", str(path), flag, pattern],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert res.returncode == 2, res.stderr
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and "RE2" in lines[0] and "Traceback" not in res.stderr, lines
