"""Goroutines left after a test binary's tests: the `test-leak` suspect and the test that
started each one (analysis/leftbehind.py), on dumps shaped as `godiag run --leaks` takes
them (runtime/pprof debug=2 with GODEBUG=tracebackancestors)."""

from __future__ import annotations

from godiag.analysis.goroutines import analyze
from godiag.analysis.leftbehind import UNKNOWN_TEST, leaks, name_of_test
from godiag.formats.goroutines import parse

HARNESS = """goroutine 1 [running]:
runtime/pprof.writeGoroutineStacks({0x598178, 0x1fe494500048})
\t/usr/local/go/src/runtime/pprof/pprof.go:819 +0x6b
example.com/lk.TestMain(0x6f8ba0?)
\t/src/lk/zz_godiag_leaks_test.go:16 +0xae
main.main()
\t_testmain.go:50 +0xa5
"""

SENDER = """goroutine 8 [chan send]:
example.com/lk.Start.func1()
\t/src/lk/lk.go:3 +0x1e
created by example.com/lk.Start in goroutine 7
\t/src/lk/lk.go:3 +0x4f
[originating from goroutine 7]:
example.com/lk.Start(...)
\t/src/lk/lk.go:3 +0x4f
example.com/lk.TestLeak.func2(...)
\t/src/lk/lk_test.go:5 +0x25
testing.tRunner(...)
\t/usr/local/go/src/testing/testing.go:2039 +0xea
created by testing.(*T).Run
\t/usr/local/go/src/testing/testing.go:2101 +0x4c5
"""

NO_ANCESTRY = """goroutine 9 [select]:
example.com/lk.wait()
\t/src/lk/lk.go:9 +0x1e
created by example.com/lk.TestOther in goroutine 6
\t/src/lk/lk_test.go:12 +0x4f
"""

OLD = """goroutine 5 [chan receive]:
example.com/lk.init.func1()
\t/src/lk/lk.go:20 +0x1e
created by example.com/lk.init.0 in goroutine 1
\t/src/lk/lk.go:19 +0x4f
"""

AFTER = "godiag: goroutines left after the tests ended (profile goroutine)\n"


def dump(text: str) -> bytes:
    return text.encode()


def test_after_the_tests_one_blocked_goroutine_is_a_suspect_but_not_the_harness() -> None:
    doc = analyze(parse(dump(AFTER + HARNESS + "\n" + SENDER), "t"), "t")
    kinds = [(doc["groups"][s["group"]]["state"], s["kind"]) for s in doc["suspects"]]
    assert kinds == [("chan send", "test-leak")]
    # The same dump without the first line is a service's: one sender is no suspect.
    plain = analyze(parse(dump(HARNESS + "\n" + SENDER), "t"), "t")
    assert plain["suspects"] == []


def test_each_leak_is_attributed_to_the_test_that_started_it() -> None:
    start = parse(dump(HARNESS + "\n" + OLD), "start")
    end = parse(dump(AFTER + HARNESS + "\n" + OLD + "\n" + SENDER + "\n" + NO_ANCESTRY), "end")
    found, left = leaks(start, end, "end")
    assert left == 2  # the goroutine started by init was there before the tests
    by_test = {leak.test: leak.group for leak in found}
    assert by_test["TestLeak (subtest)"]["user_frame"]["line"] == 3
    sites = {leak.test: leak.test_site for leak in found}
    assert sites["TestLeak (subtest)"] == {
        "function": "example.com/lk.TestLeak.func2",
        "file": "/src/lk/lk_test.go",
        "line": 5,
    }
    assert sites["TestOther"] is None  # named from `created by`, no ancestry
    assert by_test["TestOther"]["state"] == "select"
    assert not any(leak.proven for leak in found)


def test_names_of_tests() -> None:
    assert name_of_test("example.com/x/y.TestA") == "TestA"
    assert name_of_test("main.TestB.func1.2") == "TestB (subtest)"
    assert name_of_test("example.com/x.helper") is None
    assert UNKNOWN_TEST.startswith("(")


def test_the_overlay_goes_before_the_packages_and_results_are_not_cached() -> None:
    from godiag.toolchain.supervise import goargs
    from godiag.toolchain.supervise.leakwrap import _with_overlay

    args = goargs.parse(["go", "test", "-run", "X", "./..."])
    assert _with_overlay(args, "/o.json", False) == [
        "go", "test", "-overlay=/o.json", "-count=1", "-run", "X", "./...",
    ]  # fmt: skip
    args = goargs.parse(["go", "test", "-count=3", "-overlay", "mine.json", "."])
    assert _with_overlay(args, "/o.json", True) == [
        "go",
        "test",
        "-overlay=/o.json",
        "-count=3",
        ".",
    ]


def test_testmain_and_experiment_detection(tmp_path: object) -> None:
    from pathlib import Path

    from godiag.toolchain.supervise.leakwrap import has_testmain, wants_experiment

    d = Path(str(tmp_path))
    (d / "a_test.go").write_text("package a\n\n// func TestMain(m *testing.M) in a comment\n")
    (d / "b_test.go").write_text("package a_test\n\nfunc TestMain(m *testing.M) {}\n")
    assert has_testmain(str(d), ["a_test.go"]) is None
    assert has_testmain(str(d), ["a_test.go", "b_test.go"]) == "b_test.go"
    assert wants_experiment("go1.26.8", {})
    assert not wants_experiment("go1.25.3", {})
    assert not wants_experiment("go1.26.0", {"GOEXPERIMENT": "goroutineleakprofile"})


def test_leaks_wants_go_test() -> None:
    import subprocess
    import sys

    res = subprocess.run(
        [sys.executable, "-m", "godiag", "run", "--leaks", "--", "go", "build", "./..."],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 2
    assert "--leaks wraps `go test`" in res.stderr


def test_a_users_testmain_is_renamed_and_its_exit_redirected_on_the_same_lines() -> None:
    from godiag.toolchain.supervise.leakwrap import rewrite_user_testmain

    src = (
        'package a_test\n\nimport (\n\t"os"\n\t"testing"\n)\n\n'
        "func TestMain(m *testing.M) {\n\tos.Exit(m.Run())\n}\n\n"
        "func helper() { os.Exit(3) }\n"
    )
    out = rewrite_user_testmain(src)
    assert out is not None
    package, text = out
    assert package == "a_test"
    lines = text.splitlines()
    assert lines[7] == "func godiagUserTestMain(m *testing.M) {"
    assert lines[8] == "\tgodiagLeakExit(m.Run())"
    assert lines[11] == "func helper() { os.Exit(3) }"  # outside TestMain: unchanged
    assert "var _ = os.Exit" in text
    aliased = src.replace('\t"os"', '\tstdos "os"').replace("os.Exit", "stdos.Exit")
    assert rewrite_user_testmain(aliased) is None
