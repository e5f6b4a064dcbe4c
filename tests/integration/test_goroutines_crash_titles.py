"""Crash titles carry the runtime's prefix once: real Go programs crash in every way the
parser knows (panic, runtime error, fatal error, deadlock, recovered and raised again, a
chain of panics, Go 1.25+'s `[recovered, repanicked]`), and `godiag run` names each crash
in its go-panic finding; `godiag goroutines` reads the same output as a crash dump."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from godiag.formats.goroutine_header import crash_title
from godiag.schemas import validate
from tests.gohelpers import hermetic_go_env

pytestmark = pytest.mark.integration

CRASHER = """package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	switch os.Args[1] {
	case "panic":
		panic("boom")
	case "error":
		panic(errors.New("disk full"))
	case "index":
		var a []int
		_ = a[len(os.Args)]
	case "nil":
		var p *int
		*p = 1
	case "map":
		m := map[int]int{}
		go func() {
			for {
				m[1] = 1
			}
		}()
		for {
			m[2] = 2
		}
	case "deadlock":
		<-make(chan int)
	case "repanic":
		defer func() { panic(recover()) }()
		panic("first")
	case "copy":
		// the same text raised again as a new value: Go prints `[recovered]`, then it
		defer func() { panic(errors.New(recover().(error).Error())) }()
		panic(errors.New("lost"))
	case "wrap":
		defer func() { panic(fmt.Sprintf("handler: %v", recover())) }()
		panic("boom")
	case "chain":
		defer func() { panic("third") }()
		defer func() { panic("second") }()
		panic("first")
	case "lines":
		panic("line one\\nline two")
	}
}
"""

TEST_FILE = """package main

import "testing"

func TestCrash(t *testing.T) { panic("in a test") }
"""

# mode -> the title godiag gives the crash
TITLES = {
    "panic": "panic: boom",
    "error": "panic: disk full",
    "index": "panic: runtime error: index out of range [2] with length 0",
    "nil": "panic: runtime error: invalid memory address or nil pointer dereference",
    "map": "fatal error: concurrent map writes",
    "deadlock": "fatal error: all goroutines are asleep - deadlock!",
    "repanic": "panic: first [recovered, repanicked]",
    "copy": "panic: lost [recovered, repanicked]",
    "wrap": "panic: handler: boom (after boom [recovered])",
    "chain": "panic: third (after first; second)",
    "lines": "panic: line one line two",
}


@pytest.fixture(scope="module")
def crasher(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("crasher")
    (root / "go.mod").write_text("module example.com/crasher\n\ngo 1.22\n")
    (root / "main.go").write_text(CRASHER)
    (root / "main_test.go").write_text(TEST_FILE)
    env = hermetic_go_env()
    subprocess.run(["go", "build", "-o", "crasher", "."], cwd=root, env=env, check=True)
    return root


def godiag(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "godiag", *args],
        cwd=cwd, env=hermetic_go_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def go_panic(cwd: Path, *command: str) -> dict[str, object]:
    res = godiag(cwd, "run", "--format", "json", "--", *command)
    assert res.returncode == 1, res.stderr[-2000:]
    doc = json.loads(res.stdout)
    validate(doc)
    (f,) = [f for f in doc["findings"] if f["id"] == "go-panic"]
    assert isinstance(f, dict)
    return f


def _prefixes(title: str) -> int:
    return title.count("panic: ") + title.count("fatal error: ")


@pytest.mark.parametrize("mode", sorted(TITLES))
def test_run_names_each_crash_with_its_prefix_once(crasher: Path, mode: str) -> None:
    f = go_panic(crasher, "./crasher", mode)
    assert f["title"] == TITLES[mode]
    assert _prefixes(str(f["title"])) == 1
    # the evidence keeps what the runtime printed, every panic of a chain
    printed = str(f["evidence"][0]["output"])  # type: ignore[index]
    assert printed.startswith(("panic: ", "fatal error: ")) and "goroutine " not in printed


def test_a_panicking_test_is_one_repanicked_panic(crasher: Path) -> None:
    f = go_panic(crasher, "go", "test", "-count=1", ".")
    # testing's tRunner recovers and raises the same value again
    assert f["title"] == "panic: in a test [recovered, repanicked]", f["title"]


@pytest.mark.parametrize("mode", ["wrap", "chain", "map", "nil"])
def test_goroutines_reads_the_crash_and_its_header_names_it_once(crasher: Path, mode: str) -> None:
    res = subprocess.run(
        ["./crasher", mode], cwd=crasher, capture_output=True, text=True, timeout=60
    )
    assert res.returncode != 0
    (crasher / f"{mode}.txt").write_text(res.stderr)
    out = godiag(crasher, "goroutines", f"{mode}.txt", "--format", "json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    validate(doc)
    assert doc["format"] == ("traceback" if mode == "map" else "panic")
    assert crash_title(doc["header"]) == TITLES[mode]
