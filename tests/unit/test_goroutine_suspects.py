"""Suspects are leaks and stuck work, never a daemon's lifecycle goroutines.

Real daemons' dumps (tests/data/goroutines, see the README there) after 10+ minutes of
uptime have no suspect; each rule is checked on a small dump that has its shape and on
the lifecycle shape it must leave alone.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from godiag.analysis.goroutine_suspects import RULES
from godiag.analysis.goroutines import analyze, diff
from godiag.formats.goroutines import parse
from godiag.report.goroutines import render_text
from godiag.schemas import validate

DATA = Path(__file__).resolve().parents[1] / "data" / "goroutines"
DAEMONS = ["prometheus", "alertmanager", "seaweedfs"]


def _g(gid: int, state: str, fn: str, line: int, created: str = "main.start") -> str:
    """One debug=2 goroutine: `state` may carry `, N minutes`."""
    return (
        f"goroutine {gid} [{state}]:\n"
        f"{fn}()\n\t/app/code.go:{line} +0x1d\n"
        f"created by {created} in goroutine 1\n\t/app/main.go:9 +0x2f\n"
    )


def _doc(*blocks: str) -> dict[str, object]:
    doc = analyze(parse("\n".join(blocks).encode(), "t"), "t")
    validate(doc)
    return doc


def _kinds(doc: dict[str, object]) -> list[str]:
    return [s["kind"] for s in doc["suspects"]]  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", DAEMONS)
@pytest.mark.parametrize("which", ["a", "b", "c"])
def test_real_daemons_after_ten_minutes_have_no_suspect(name: str, which: str) -> None:
    doc = analyze(parse((DATA / f"{name}-{which}.txt").read_bytes(), name), name)
    validate(doc)
    # they are old enough that the removed long-wait rule fired on their lifecycle
    assert max(g["wait_minutes"]["max"] for g in doc["groups"]) >= 10
    assert doc["suspects"] == []


@pytest.mark.parametrize("name", DAEMONS)
@pytest.mark.parametrize("later", ["b", "c"])
def test_diff_of_two_daemon_dumps_minutes_apart_has_no_suspect(name: str, later: str) -> None:
    a = parse((DATA / f"{name}-a.txt").read_bytes(), "a")
    b = parse((DATA / f"{name}-{later}.txt").read_bytes(), "b")
    doc = diff(a, b, "b")
    validate(doc)
    assert doc["suspects"] == []


def test_the_go_commands_own_dump_has_no_suspect() -> None:
    doc = analyze(parse((DATA / "go-mod-download-sigquit.txt").read_bytes(), "go"), "go")
    assert doc["total"] > 5 and doc["suspects"] == []


def test_lifecycle_waits_since_start_are_not_suspects() -> None:
    doc = _doc(
        _g(1, "select (no cases), 40 minutes", "main.main", 20),
        _g(2, "chan receive, 40 minutes", "github.com/oklog/run.(*Group).Run", 5),
        _g(3, "sync.WaitGroup.Wait, 40 minutes", "example.com/srv.(*Pool).Wait", 7),
        _g(4, "sync.Cond.Wait, 40 minutes", "example.com/queue.(*Q).Get", 7),
        _g(5, "IO wait, 40 minutes", "example.com/srv.(*Server).accept", 7),
        *[_g(10 + i, "select, 40 minutes", "example.com/srv.worker", 3) for i in range(12)],
    )
    assert _kinds(doc) == []


def test_a_lock_held_for_minutes_is_stuck_work() -> None:
    doc = _doc(_g(7, "sync.Mutex.Lock, 12 minutes", "example.com/srv.(*Cache).Put", 31))
    assert _kinds(doc) == ["stuck"]
    assert "12 minutes" in doc["suspects"][0]["reason"]  # type: ignore[index]
    assert _kinds(_doc(_g(7, "sync.Mutex.Lock, 2 minutes", "example.com/a.f", 3))) == []


def test_a_send_nobody_receives_for_minutes_is_stuck_work() -> None:
    doc = _doc(_g(7, "chan send, 30 minutes", "example.com/srv.report", 31))
    assert _kinds(doc) == ["stuck"]


def test_senders_piling_up_are_a_leak_at_once() -> None:
    doc = _doc(*[_g(10 + i, "chan send", "main.fetch.func1", 17, "main.fetch") for i in range(10)])
    assert _kinds(doc) == ["leak"]
    assert "created at main.fetch" in doc["suspects"][0]["reason"]  # type: ignore[index]
    nine = _doc(*[_g(10 + i, "chan send", "main.fetch.func1", 17, "main.fetch") for i in range(9)])
    assert _kinds(nine) == []


def test_receivers_parked_one_after_another_are_a_leak() -> None:
    waits = ["", ", 1 minutes", ", 2 minutes", ", 4 minutes", ", 6 minutes"] * 2
    doc = _doc(*[_g(10 + i, f"chan receive{w}", "main.wait", 5) for i, w in enumerate(waits)])
    assert _kinds(doc) == ["leak"]
    # the same crowd woken all the time (a busy pool, callback serializers) is not
    busy = _doc(*[_g(10 + i, "chan receive, 1 minutes", "main.wait", 5) for i in range(27)])
    assert _kinds(busy) == []


def test_a_crowd_at_a_mutex_without_a_long_wait_is_contention() -> None:
    doc = _doc(*[_g(10 + i, "sync.Mutex.Lock", "main.handle", 5) for i in range(30)])
    assert _kinds(doc) == []


def test_nil_channels_and_repeated_empty_selects_can_never_wake() -> None:
    doc = _doc(
        _g(1, "select (no cases)", "main.main", 20),  # the idiom: park main for good
        _g(2, "chan receive (nil chan)", "main.nilWait", 5),
        _g(3, "select (no cases)", "main.handler", 9),
        _g(4, "select (no cases)", "main.handler", 9),
    )
    assert sorted(_kinds(doc)) == ["nil-channel", "nil-channel"]


def test_growth_between_two_dumps() -> None:
    before = parse("\n".join(_g(i, "select", "main.poll", 5) for i in range(3)).encode(), "a")
    grown = parse("\n".join(_g(i, "select", "main.poll", 5) for i in range(9)).encode(), "b")
    doc = diff(before, grown, "b")
    validate(doc)
    assert _kinds(doc) == ["growth"]
    assert "from 3 to 9" in doc["suspects"][0]["reason"]
    # a pool that went from 8 to 12 connections did not double
    eight = parse("\n".join(_g(i, "select", "main.poll", 5) for i in range(8)).encode(), "a")
    twelve = parse("\n".join(_g(i, "select", "main.poll", 5) for i in range(12)).encode(), "b")
    assert _kinds(diff(eight, twelve, "b")) == []


def test_every_rule_kind_is_in_the_schema() -> None:
    from godiag.schemas import load

    enum = load("goroutines")["properties"]["suspects"]["items"]["properties"]["kind"]["enum"]
    assert set(RULES) <= set(enum)


def test_suspect_lines_name_the_place_once_and_wrap_under_themselves() -> None:
    fn = "example.com/a/very/long/module/path/internal/cache.(*Cache).PutWithEviction"
    doc = _doc(_g(7, "sync.Mutex.Lock, 12 minutes", fn, 31))
    buf = io.StringIO()
    render_text(doc, Console(file=buf, width=60, no_color=True, highlight=False))
    text = buf.getvalue()
    suspects = text[text.index("Suspects") : text.index("by category")]
    assert suspects.count("PutWithEviction") == 1
    assert all(len(line) <= 60 for line in suspects.splitlines())


def test_the_test_harness_main_goes_after_the_tests_goroutines() -> None:
    harness = (
        "goroutine 1 [chan receive]:\ntesting.(*T).Run(0xc000003a40)\n"
        "\t/go/src/testing/testing.go:2109 +0x4c5\nmain.main()\n\t_testmain.go:46 +0x9b\n"
    )
    doc = _doc(harness, _g(7, "sync.Mutex.Lock", "example.com/bank.Transfer", 31))
    firsts = [g["user_frame"]["function"] for g in doc["groups"]]  # type: ignore[index]
    assert firsts == ["example.com/bank.Transfer", "main.main"]


def test_the_html_suspect_line_names_the_place() -> None:
    from godiag.report import render

    doc = _doc(_g(7, "sync.Mutex.Lock, 12 minutes", "example.com/srv.(*Cache).Put", 31))
    html = str(render(doc, "html"))
    line = html[html.index('class="sus"') :].split("</li>")[0]
    assert "[stuck]" in line and "at example.com/srv.(*Cache).Put (/app/code.go:31)" in line
