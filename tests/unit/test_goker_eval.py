"""bench/goker_eval.py: labels from the runtime test, function spans named like gc names them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "goker_eval.py"


@pytest.fixture(scope="module")
def ge() -> ModuleType:
    # Loaded from its file: bench/ is not a package (and its inspect.py would shadow the stdlib).
    spec = importlib.util.spec_from_file_location("goker_eval", BENCH)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["goker_eval"] = mod
    spec.loader.exec_module(mod)
    return mod


SRC = """package main

import "sync"

var cmds = map[string]func(){}

type S struct{ mu sync.Mutex }

func (s *S) Serve() {
	s.mu.Lock()
	s.stop()
	s.mu.Unlock()
}

func (s *S) stop() { s.helper() }

func (s *S) helper() {}

func T(x int) {
	m := map[int]func() error{} // a func type, not a literal
	f := func() { // T.func1
		go func() { // T.func1.1
			_ = "}{" // braces in a string
		}()
	}
	f()
	go func() {}() // T.func2
	_ = m
}
"""


def test_function_spans_named_like_gc(ge: ModuleType) -> None:
    spans = {s.name: (s.start, s.end) for s in ge.function_spans(SRC)}
    assert spans["(*S).Serve"] == (9, 13)
    assert spans["(*S).stop"] == (15, 15)
    assert spans["T"] == (19, 29)
    assert spans["T.func1"] == (21, 25)
    assert spans["T.func1.1"] == (22, 24)
    assert spans["T.func2"] == (27, 27)
    assert "T.func3" not in spans


def test_labelled_spans_one_call_level_and_call_tree(ge: ModuleType) -> None:
    spans = ge.function_spans(SRC)
    serve = [s for s in spans if s.name == "(*S).Serve"]
    near = {s.name for s in ge.labelled_spans(SRC, spans, serve, 1)}
    tree = {s.name for s in ge.labelled_spans(SRC, spans, serve, len(spans))}
    assert near == {"(*S).Serve", "(*S).stop"}
    assert tree == {"(*S).Serve", "(*S).stop", "(*S).helper"}


def test_frame_names_from_runtime_patterns(ge: ModuleType) -> None:
    assert ge.frame_name(r"\(\*Server_grpc795\)\.Serve\(.* \[sync\.Mutex\.Lock\]") == (
        "(*Server_grpc795).Serve"
    )
    assert ge.frame_name(r"Cockroach7504\.func2\.1.* \[sync\.Mutex\.Lock\]") == (
        "Cockroach7504.func2.1"
    )
    assert ge.frame_name(r"\(*Store_cockroach10214\)\.sendQueuedHeartbeats\(.* \[x\]") == (
        "(*Store_cockroach10214).sendQueuedHeartbeats"
    )


def test_runtime_labels_only_goker_cases_and_not_comments(ge: ModuleType) -> None:
    src = """
	patternTestCases := []testCase{
		makeTest("NoCloseRange", `noCloseRange\\(.* \\[chan send\\]`),
	}
	gokerTestCases := []testCase{
		makeFlakyTest("Grpc795",
			`\\(\\*Server_grpc795\\)\\.Serve\\(.* \\[sync\\.Mutex\\.Lock\\]`,
			`testServerGracefulStopIdempotent_grpc795\\(.* \\[sync\\.Mutex\\.Lock\\]`,
		),
		// makeTest("Kubernetes1321", `NewMux_kubernetes1321\\.gowrap1\\(.* \\[chan send\\]`),
		makeTest("Grpc862",
			`DialContext_grpc862\\.func2\\(.* \\[chan receive\\]`),
	}
	more := 1
"""
    labels = ge.runtime_labels(src)
    assert labels == {
        "Grpc795": ["(*Server_grpc795).Serve", "testServerGracefulStopIdempotent_grpc795"],
        "Grpc862": ["DialContext_grpc862.func2"],
    }
