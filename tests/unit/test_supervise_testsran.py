"""Which packages `go test` called ok without their tests showing as run (testsran.py)."""

from __future__ import annotations

import pytest

from godiag.toolchain.gotests import Func
from godiag.toolchain.supervise.testsran import _from_json, _from_text, _pattern, _selected

# go test -v of three packages (-p 2: each package's lines come before its result line);
# exits' TestMain called os.Exit(0), quiet's test logs a line that looks like a result.
VERBOSE = """=== RUN   TestA
--- PASS: TestA (0.00s)
PASS
ok  \texample.com/t/ok\t0.003s
ok  \texample.com/t/exits\t0.002s
=== RUN   TestQuiet
    a_test.go:5: ok  all good
--- PASS: TestQuiet (0.00s)
PASS
ok  \texample.com/t/quiet\t0.002s
testing: warning: no tests to run
PASS
ok  \texample.com/t/notests\t0.005s [no tests to run]
?   \texample.com/t/nofiles\t[no test files]
FAIL\texample.com/t/broken [build failed]
"""


def test_verbose_text_tells_which_packages_ran_tests() -> None:
    pkgs = _from_text(VERBOSE, verbose=True)
    assert {k: (p.ran, p.no_tests) for k, p in pkgs.items()} == {
        "example.com/t/ok": (True, False),
        "example.com/t/exits": (False, False),
        "example.com/t/quiet": (True, False),
        "example.com/t/notests": (False, True),
    }
    # without -v the output cannot tell
    assert {p.ran for p in _from_text(VERBOSE, verbose=False).values()} == {None}


# go test -json (Go 1.26) of a package whose TestMain exits 0 and one that ran TestA
JSON = """{"Action":"start","Package":"example.com/t/ex"}
{"Action":"output","Package":"example.com/t/ex","Output":"ok  \\texample.com/t/ex\\t0.002s\\n"}
{"Action":"pass","Package":"example.com/t/ex","Elapsed":0.002}
{"Action":"start","Package":"example.com/t/ok"}
{"Action":"run","Package":"example.com/t/ok","Test":"TestA"}
{"Action":"pass","Package":"example.com/t/ok","Test":"TestA","Elapsed":0}
{"Action":"output","Package":"example.com/t/ok","Output":"ok  \\texample.com/t/ok\\t0.003s\\n"}
{"Action":"pass","Package":"example.com/t/ok","Elapsed":0.004}
{"Action":"start","Package":"example.com/t/fails"}
{"Action":"fail","Package":"example.com/t/fails","Elapsed":0.004}
"""


def test_json_events_tell_which_packages_ran_tests() -> None:
    pkgs = _from_json(JSON)
    assert {k: p.ran for k, p in pkgs.items()} == {
        "example.com/t/ex": False,
        "example.com/t/ok": True,
    }
    assert pkgs["example.com/t/ex"].line == "ok  \texample.com/t/ex\t0.002s"


@pytest.mark.parametrize(
    ("argv", "goflags", "want"),
    [
        (["test", "./..."], "", None),
        (["test", "-run", "TestA/sub", "./..."], "", "TestA"),
        (["test", "-run=^TestB$", "."], "", "^TestB$"),
        (["test", ".", "-args", "-test.run", "X"], "", "X"),
        (["test", "."], "-run=Y", "Y"),
    ],
)
def test_run_pattern(argv: list[str], goflags: str, want: str | None) -> None:
    assert _pattern(argv, goflags) == want


def _test(name: str) -> Func:
    return Func("a_test.go", 1, name, True, False, 1, "T", 0, 0)


def test_selected_tests() -> None:
    tests = [_test("TestA"), _test("TestB")]
    assert _selected(tests, None) == tests
    assert [f.name for f in _selected(tests, "B") or []] == ["TestB"]
    assert _selected(tests, "NoMatch") == []
    assert _selected(tests, "(") is None  # unreadable: not known
