"""`godiag run --leaks -- go test`: goroutines that passing tests leave blocked, found on real
`go test` runs of small packages, without changing their files."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from godiag.report import render
from godiag.schemas import validate
from tests.gohelpers import go_version, hermetic_go_env

pytestmark = pytest.mark.integration


def go_minor() -> tuple[int, int]:
    m = re.search(r"go(\d+)\.(\d+)", go_version())
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


LEAKY = """package leaky

import "sync"

// Fetch returns the first of two answers; the other sender has no receiver.
func Fetch() int {
	ch := make(chan int)
	for i := 0; i < 2; i++ {
		go func(v int) {
			ch <- v // blocks forever for the second sender
		}(i)
	}
	return <-ch
}

// Guard takes a lock for a helper goroutine that exits before the locker runs.
func Guard(mu *sync.Mutex) {
	go func() {
		go func() {
			mu.Lock() // never unlocked by the caller
		}()
	}()
}
"""

LEAKY_TEST = """package leaky

import (
	"sync"
	"testing"
	"time"
)

func TestFetch(t *testing.T) {
	if Fetch() < 0 {
		t.Fatal("negative")
	}
}

func TestGuard(t *testing.T) {
	var mu sync.Mutex
	mu.Lock()
	Guard(&mu)
	time.Sleep(10 * time.Millisecond)
}

func TestFinishes(t *testing.T) {
	done := make(chan struct{})
	go func() { time.Sleep(20 * time.Millisecond); close(done) }()
}
"""

CLEAN = """package clean

func Sum(xs []int) int {
	ch := make(chan int, len(xs))
	for _, x := range xs {
		go func(v int) { ch <- v }(x)
	}
	total := 0
	for range xs {
		total += <-ch
	}
	return total
}
"""

CLEAN_TEST = """package clean

import "testing"

func TestSum(t *testing.T) {
	if Sum([]int{1, 2, 3}) != 6 {
		t.Fatal("sum")
	}
}
"""

EXT = """package ext

func Wait(ch chan int) int { return <-ch }
"""

# Only external tests: the generated TestMain is an external test file too.
EXT_TEST = """package ext_test

import (
	"os"
	"os/exec"
	"testing"

	"example.com/leaks/ext"
)

func TestWait(t *testing.T) {
	go ext.Wait(make(chan int))
}

// The test binary re-run as a helper process: its own leaks are not the parent's.
func TestReexec(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestChild$")
	cmd.Env = append(os.Environ(), "LEAKS_CHILD=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatal(err, string(out))
	}
}

func TestChild(t *testing.T) {
	if os.Getenv("LEAKS_CHILD") != "1" {
		t.Skip("run by TestReexec")
	}
	go ext.Wait(make(chan int))
}
"""

OWN_MAIN_TEST = """package ownmain

import (
	"os"
	"testing"
)

var stop = make(chan struct{})

func TestMain(m *testing.M) {
	go func() { <-stop }() // set up, and never stopped by the teardown
	code := m.Run()
	os.Exit(code)
}

func TestLeak(t *testing.T) {
	go func() { select {} }()
}
"""


def line_of(text: str, needle: str) -> int:
    return next(i for i, ln in enumerate(text.splitlines(), 1) if needle in ln)


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("leaks")
    (root / "go.mod").write_text("module example.com/leaks\n\ngo 1.22\n")
    files = {
        "leaky/leaky.go": LEAKY,
        "leaky/leaky_test.go": LEAKY_TEST,
        "clean/clean.go": CLEAN,
        "clean/clean_test.go": CLEAN_TEST,
        "ownmain/ownmain_test.go": OWN_MAIN_TEST,
        "ext/ext.go": EXT,
        "ext/ext_test.go": EXT_TEST,
        "notests/notests.go": "package notests\n\nfunc F() {}\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def run_leaks(cwd: Path, *args: str) -> tuple[dict[str, Any], int]:
    res = subprocess.run(
        [sys.executable, "-m", "godiag", "run", "--leaks", "--format", "json", *args],
        cwd=cwd,
        env=hermetic_go_env(),
        capture_output=True,
        timeout=900,  # the first run with the experiment rebuilds the standard library
        stdin=subprocess.DEVNULL,
    )
    assert res.stdout, res.stderr.decode()[-3000:]
    doc = json.loads(res.stdout)
    validate(doc)
    assert "leaks:" in str(render(doc, "text"))
    return doc, res.returncode


def leaks_of(doc: dict[str, Any], test: str) -> list[dict[str, Any]]:
    return [leak for leak in doc["leaks"]["leaks"] if leak["test"] == test]


def test_passing_tests_that_leak_are_named_with_the_blocked_line(module: Path) -> None:
    doc, code = run_leaks(module, "--", "go", "test", "./...")
    assert doc["exit"]["code"] == 0  # every test passed
    assert code == 1 and doc["failed"]
    leaky = (module / "leaky" / "leaky.go").read_text()

    (fetch,) = leaks_of(doc, "TestFetch")
    assert fetch["state"] == "chan send" and fetch["count"] == 1
    assert fetch["user_frame"]["file"].endswith("leaky/leaky.go")
    assert fetch["user_frame"]["line"] == line_of(leaky, "ch <- v")
    assert fetch["created_by"]["function"] == "example.com/leaks/leaky.Fetch"
    leaky_test = (module / "leaky" / "leaky_test.go").read_text()
    assert fetch["test_site"]["file"].endswith("leaky/leaky_test.go")
    assert fetch["test_site"]["line"] - line_of(leaky_test, "if Fetch() < 0") in (0, 1)

    # Started by a goroutine that had exited: the ancestry still names the test.
    (guard,) = leaks_of(doc, "TestGuard")
    assert guard["category"] == "lock"
    assert guard["user_frame"]["line"] == line_of(leaky, "mu.Lock()")
    # Ancestry stacks hold return addresses: the line may be the statement after the call.
    assert guard["test_site"]["line"] - line_of(leaky_test, "Guard(&mu)") in (0, 1)

    # A goroutine that ends within the grace period is no leak; the clean package has none.
    assert not leaks_of(doc, "TestFinishes")
    (wait,) = leaks_of(doc, "TestWait")
    assert wait["state"] == "chan receive" and wait["package"] == "example.com/leaks/ext"
    assert wait["user_frame"]["function"] == "example.com/leaks/ext.Wait"
    assert wait["count"] == 1 and not leaks_of(doc, "TestChild")  # the helper process's
    assert {leak["package"] for leak in doc["leaks"]["leaks"]} == {
        "example.com/leaks/leaky",
        "example.com/leaks/ext",
        "example.com/leaks/ownmain",
    }

    ids = [f["id"] for f in doc["findings"]]
    assert ids.count("goroutine-leak") == 5
    f = next(f for f in doc["findings"] if "TestFetch" in f["title"])
    assert f["location"] == {
        "file": fetch["user_frame"]["file"],
        "line": fetch["user_frame"]["line"],
    }
    assert "leaky.Fetch" in f["detail"]

    # A package with its own TestMain is wrapped around it, and says so: the leak of its test
    # and the goroutine its setup started and never stopped are both found. No test files:
    # not listed.
    pkgs = {p["package"]: p for p in doc["leaks"]["packages"]}
    own = pkgs["example.com/leaks/ownmain"]
    assert own["wrapped"] and "own TestMain (ownmain_test.go): wrapped" in own["note"]
    own_test = (module / "ownmain" / "ownmain_test.go").read_text()
    (select,) = leaks_of(doc, "TestLeak")
    assert select["state"] == "select (no cases)"
    assert select["user_frame"]["line"] == line_of(own_test, "select {}")
    (setup,) = leaks_of(doc, "TestMain")
    assert setup["user_frame"]["line"] == line_of(own_test, "<-stop")
    assert pkgs["example.com/leaks/clean"]["wrapped"]
    assert "example.com/leaks/notests" not in pkgs
    # The tree was not written.
    assert not list(module.rglob("zz_godiag_leaks_test.go"))


def test_clean_package_has_no_finding(module: Path) -> None:
    doc, code = run_leaks(module, "--", "go", "test", "./clean")
    assert code == 0 and not doc["failed"]
    assert doc["findings"] == []
    (pkg,) = doc["leaks"]["packages"]
    assert pkg["wrapped"] and pkg["note"] is None and pkg["goroutines_left"] == 0


def test_json_and_flags_after_the_packages_keep_every_package(module: Path) -> None:
    """`-json` takes no value and test flags may follow the packages: `go test -json
    ./leaky ./clean -count 1` checked "." alone (and found nothing) before."""
    args = ["--no-leak-profile", "--", "go", "test", "-json", "./leaky", "./clean", "-count", "1"]
    doc, code = run_leaks(module, *args)
    pkgs = {p["package"] for p in doc["leaks"]["packages"]}
    assert pkgs == {"example.com/leaks/leaky", "example.com/leaks/clean"}
    assert code == 1 and {leak["test"] for leak in doc["leaks"]["leaks"]} == {
        "TestFetch",
        "TestGuard",
    }


@pytest.mark.skipif(go_minor() < (1, 26), reason="the goroutineleak profile needs Go 1.26+")
def test_the_leak_profile_proves_what_the_comparison_suspects(module: Path, tmp_path: Path) -> None:
    proven, _ = run_leaks(module, "--leak-dumps", str(tmp_path), "--", "go", "test", "./leaky")
    assert proven["leaks"]["leak_profile"]
    # The abandoned sender's channel is reachable from nothing else: proven. (The runtime
    # does not prove every leak: the mutex of TestGuard is only suspected.)
    (fetch,) = leaks_of(proven, "TestFetch")
    assert fetch["proven"]
    assert next(f for f in proven["findings"] if "TestFetch" in f["title"])["severity"] == "error"

    plain, code = run_leaks(module, "--no-leak-profile", "--", "go", "test", "./leaky")
    assert code == 1 and not plain["leaks"]["leak_profile"]
    assert {leak["test"] for leak in plain["leaks"]["leaks"]} == {"TestFetch", "TestGuard"}
    assert not any(leak["proven"] for leak in plain["leaks"]["leaks"])
    assert {f["severity"] for f in plain["findings"]} == {"warning"}

    # The kept dump reads as a dump taken after the tests: `godiag goroutines` flags it too.
    (dump,) = proven["leaks"]["packages"][0]["dumps"]
    res = subprocess.run(
        [sys.executable, "-m", "godiag", "goroutines", dump, "--format", "json"],
        capture_output=True,
        check=True,
    )
    kinds = {s["kind"] for s in json.loads(res.stdout)["suspects"]}
    assert "leaked" in kinds
