"""Goroutine analysis: categories for every runtime wait reason, user frames, groups, diff."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

from godiag.analysis.goroutine_rules import BLOCKED, BY_REASON, CATEGORIES, category, is_stdlib
from godiag.analysis.goroutines import analyze, diff
from godiag.formats.goroutines import parse
from godiag.model.goroutine import Frame
from godiag.schemas import validate
from tests import datapaths

CORPUS = datapaths.CORPUS / "goroutines"


def _runtime_wait_reasons() -> list[str]:
    """waitReasonStrings of the installed Go's runtime2.go (the source of truth)."""
    goroot = subprocess.run(
        ["go", "env", "GOROOT"], capture_output=True, text=True, check=True
    ).stdout.strip()
    src = (Path(goroot) / "src" / "runtime" / "runtime2.go").read_text()
    body = src[src.index("var waitReasonStrings = [...]string{") :]
    body = body[: body.index("\n}\n")]
    return re.findall(r':\s*"([^"]+)"', body)


def test_every_runtime_wait_reason_has_a_category() -> None:
    reasons = _runtime_wait_reasons()
    assert len(reasons) > 40
    missing = [r for r in reasons if r not in BY_REASON]
    assert missing == []
    assert set(BY_REASON.values()) <= set(CATEGORIES)


def test_one_blocked_table() -> None:
    """The blocked categories are the program's own synchronisations, reached from the
    runtime's wait reasons, and defined once: no other module of analysis/ spells them."""
    assert set(BLOCKED) <= set(CATEGORIES)
    waits = ("chan receive", "chan send (nil chan)", "select (no cases)", "sync.Mutex.Lock",
             "sync.WaitGroup.Wait", "sync.Cond.Wait")  # fmt: skip
    assert {BY_REASON[r] for r in waits} == set(BLOCKED)
    for outside in ("IO wait", "sleep", "syscall", "running"):
        assert BY_REASON[outside] not in BLOCKED
    copies = []
    for path in sorted((datapaths.REPO / "src" / "godiag" / "analysis").rglob("*.py")):
        if path.name == "goroutine_rules.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Set | ast.Tuple | ast.List):
                words = {e.value for e in node.elts if isinstance(e, ast.Constant)}
                if set(BLOCKED) <= words:
                    copies.append(f"{path.name}:{node.lineno}")
    assert copies == [], "use goroutine_rules.BLOCKED"
    # stallfind's BLOCKING (toolchain/) is another thing: the order in which `godiag run`
    # prefers a waiting process's goroutine, io, syscall and sleep included


@pytest.mark.parametrize(
    ("function", "category_"),
    [
        ("sync.(*WaitGroup).Wait", "waitgroup"),
        ("sync.(*Mutex).Lock", "lock"),
        ("sync.(*RWMutex).RLock", "lock"),
        ("sync.(*Cond).Wait", "cond"),
    ],
)
def test_semacquire_is_classified_by_frames(function: str, category_: str) -> None:
    frames = (
        Frame("sync.runtime_SemacquireMutex", "", "/go/src/runtime/sema.go", 77),
        Frame(function, "", "/go/src/sync/x.go", 10),
        Frame("main.work", "", "/app/main.go", 5),
    )
    assert category("semacquire", frames) == category_


def test_semacquire_without_sync_frames_is_not_a_lock_wait() -> None:
    # Go 1.24+ prints sync waits by name; a bare semacquire under an allocation is the
    # runtime's own semaphore (a GC starting), seen in real dumps of busy services
    frames = (
        Frame("bufio.NewReaderSize", "", "/go/src/bufio/bufio.go", 57),
        Frame("net/http.(*conn).serve", "", "/go/src/net/http/server.go", 2000),
    )
    assert category("semacquire", frames) == "other"


def test_semacquire_waitgroup_from_a_real_go121_dump() -> None:
    doc = analyze(parse((CORPUS / "gostackparse" / "go121_createdby.txt").read_bytes(), "x"), "x")
    by_state = {g["state"]: g for g in doc["groups"]}
    assert by_state["semacquire"]["category"] == "waitgroup"
    assert by_state["semacquire"]["user_frame"]["function"] == "main.main"


@pytest.mark.parametrize(
    ("function", "std"),
    [
        ("runtime.gopark", True),
        ("net/http.(*conn).serve", True),
        ("internal/poll.runtime_pollWait", True),
        ("panic", True),
        ("testing.tRunner", True),
        ("main.main.func1", False),
        ("github.com/x/y.(*T).Run", False),
        ("godiag.test/internal/serve.Start.func1", False),
        ("gopkg.in/DataDog/dd-trace-go.v1/profiler.F", False),
    ],
)
def test_user_code_rule(function: str, std: bool) -> None:
    assert is_stdlib(function) is std


def test_groups_counts_minutes_and_schema() -> None:
    data = (CORPUS / "gostackparse" / "waitsince.txt").read_bytes()
    dump = parse(data, "waitsince")
    doc = analyze(dump, "waitsince")
    validate(doc)
    assert sum(g["count"] for g in doc["groups"]) == doc["total"] == len(dump.goroutines)
    counts = [g["count"] for g in doc["groups"]]
    assert counts == sorted(counts, reverse=True)
    sleep = next(g for g in doc["groups"] if g["state"] == "sleep" and g["count"] == 2)
    assert sleep["wait_minutes"] == {"min": 1, "max": 1}
    assert sleep["user_frame"]["function"] == "main.shortSleepLoop"


def test_diff_by_signature_orders_by_growth() -> None:
    a = parse(
        (CORPUS / "go-profiler-notes" / "1.pprof.lookup.goroutine.debug2.txt").read_bytes(), "a"
    )
    b = parse(
        (CORPUS / "go-profiler-notes" / "2.pprof.lookup.goroutine.debug2.txt").read_bytes(), "b"
    )
    doc = diff(a, b, "b")
    validate(doc)
    growth = [g["growth"] for g in doc["groups"]]
    assert growth == sorted(growth, reverse=True)
    assert doc["diff"]["growth"] == b.total - a.total
    assert sum(g["growth"] for g in doc["groups"]) == b.total - a.total
    same = diff(b, b, "b")
    assert all(g["growth"] == 0 for g in same["groups"])


def test_deadlock_suspects_from_header() -> None:
    text = (
        "fatal error: all goroutines are asleep - deadlock!\n\n"
        "goroutine 1 [chan receive]:\nmain.main()\n\t/app/main.go:7 +0x1d\n"
    )
    doc = analyze(parse(text.encode(), "d"), "d")
    assert doc["format"] == "traceback"
    assert [s["kind"] for s in doc["suspects"]] == ["deadlock"]
