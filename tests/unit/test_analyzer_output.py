"""Parsing leakcheck's -json output into findings (seeded from a real capture)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from godiag.errors import GoCommandError, ParseError
from godiag.model.findings import Severity
from godiag.toolchain import analyzer

DATA = Path(__file__).resolve().parents[1] / "data" / "analyze"
CAPTURE = (DATA / "leakcheck-planted.json").read_text()
# The capture was taken in this repository's copy of the planted module.
ROOT = Path(json.loads(CAPTURE)["planted.example/svc"]["timer_leak"][0]["posn"]).parents[1]


def test_real_capture_parses() -> None:
    found = analyzer.parse_output(CAPTURE, "", 0, ROOT)
    assert {f.id for f in found} == set(analyzer.CATALOG)
    first = found[0]
    assert first.id == "goexit-misuse" and first.severity is Severity.ERROR
    assert first.location is not None
    assert (first.location.file, first.location.line) == ("cmd/worker/main.go", 15)


def test_test_variants_are_deduplicated() -> None:
    doc = json.loads(CAPTURE)
    doc["planted.example/svc [planted.example/svc.test]"] = doc["planted.example/svc"]
    found = analyzer.parse_output(json.dumps(doc), "", 0, ROOT)
    assert len(found) == len(analyzer.parse_output(CAPTURE, "", 0, ROOT))


@pytest.mark.parametrize(
    ("file", "hint"), [("a.go", ""), ("a_test.go", " (in a test file: try --no-tests)")]
)
def test_package_errors_become_one_line(file: str, hint: str) -> None:
    """--no-tests is suggested only when the error is in a test file."""
    out = json.dumps({"m": {"timer_leak": {"error": "analysis skipped due to errors in package"}}})
    err = f"-: # m\n./{file}:3:1: undefined: x\n"
    with pytest.raises(GoCommandError) as exc:
        analyzer.parse_output(out, err, 1, Path("/m"))
    assert str(exc.value).endswith(f"load: ./{file}:3:1: undefined: x{hint}")


def test_empty_output_reports_stderr() -> None:
    with pytest.raises(GoCommandError, match=r"pattern \./\.\.\.: directory prefix"):
        analyzer.parse_output("", "pattern ./...: directory prefix . does not contain", 1, ROOT)


@given(
    st.one_of(
        st.text(max_size=300),
        st.builds(
            lambda cut, junk: CAPTURE[:cut] + junk,
            st.integers(0, len(CAPTURE)),
            st.text(max_size=20),
        ),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=8), kids),
            max_leaves=10,
        ).map(json.dumps),
    )
)
def test_fuzz_parse_output_never_crashes(data: str) -> None:
    try:
        found = analyzer.parse_output(data, "", 0, ROOT)
    except (ParseError, GoCommandError):
        return
    assert all(f.id for f in found)
