"""Rule 12 (longterm/orphans.py): goroutines blocked sending on a channel whose receiver
returned, the goroutine that created them gone or out of the creating function."""

from __future__ import annotations

from godiag.analysis.rootcause.longterm import orphans as rule
from godiag.formats.goroutines import parse
from godiag.model.goroutine import Dump
from godiag.model.observation import Observation
from godiag.pipeline.diagnose import DiagnoseOptions, replay
from tests.datapaths import DATA

SRC = "/src/mail/main.go"


def _sender(gid: int, parent: int) -> str:
    return "\n".join([
        f"goroutine {gid} [chan send]:",
        "runtime.chansend1(0xc000010000, 0xc000020000)", "\t/go/src/runtime/chan.go:161 +0x1",
        "main.(*mailer).send.func1()", f"\t{SRC}:86 +0x1",
        f"created by main.(*mailer).send in goroutine {parent}", f"\t{SRC}:85 +0x1",
    ])  # fmt: skip


def _worker(gid: int, fn: str) -> str:
    return "\n".join([
        f"goroutine {gid} [chan receive]:",
        "runtime.chanrecv2(0xc000030000, 0x0)", "\t/go/src/runtime/chan.go:489 +0x1",
        f"{fn}(0xc000001000)", f"\t{SRC}:97 +0x1",
        "created by main.main in goroutine 1", f"\t{SRC}:150 +0x1",
    ])  # fmt: skip


def _dump(*gs: str) -> Dump:
    return parse(("\n\n".join(gs) + "\n").encode(), "test")


def _obs(start: Dump, end: Dump) -> Observation:
    return Observation(url="http://127.0.0.1:1", duration=5.0, dumps=[start, end])


def test_senders_whose_creator_returned_are_left_behind() -> None:
    """The worker that started them (goroutine 7) is back in its loop, out of send."""
    senders = [_sender(100 + i, 7) for i in range(6)]
    start = _dump(*senders, _worker(7, "main.(*mailer).worker"))
    end = _dump(*senders, _sender(120, 7), _worker(7, "main.(*mailer).worker"))
    o = rule.left_behind(_obs(start, end), None)
    assert o is not None and o.count == 6  # the one new since the start is not counted
    assert o.site["function"] == "main.(*mailer).send.func1" and o.creator == "main.(*mailer).send"
    assert "the receiver is gone" in o.line


def test_a_creator_still_receiving_or_too_few_is_no_leak() -> None:
    # the creator still in send (waiting in its select): the receiver is there
    waiting = "\n".join([
        "goroutine 7 [select]:", "runtime.selectgo(0x0, 0x0, 0x0, 0x0, 0x0, 0x0)",
        "\t/go/src/runtime/select.go:351 +0x1",
        "main.(*mailer).send(0xc000001000)", f"\t{SRC}:88 +0x1",
        "created by main.main in goroutine 1", f"\t{SRC}:150 +0x1",
    ])  # fmt: skip
    senders = [_sender(100 + i, 7) for i in range(6)]
    assert rule.left_behind(_obs(_dump(*senders, waiting), _dump(*senders, waiting)), None) is None
    few = [_sender(100 + i, 7) for i in range(rule.ORPHANS_MIN - 1)]
    assert rule.left_behind(_obs(_dump(*few), _dump(*few)), None) is None
    # not there at the window's start: a burst, not a pile
    assert rule.left_behind(_obs(_dump(_worker(7, "main.w")), _dump(*senders)), None) is None


def test_a_recorded_leak_of_senders_is_not_called_healthy() -> None:
    """emailq (a blind trial's service): a delivery goroutine per message sends its result
    on an unbuffered channel after the caller's timeout returned; 52 of them at ~130 s,
    waits under two minutes (too young for the arrivals rule)."""
    doc = replay(DATA / "diagnose" / "goroutine-leak-orphans-emailq",
                 DiagnoseOptions(store=False, flames=False))  # fmt: skip
    top = doc["causes"][0]
    assert top["kind"] == "goroutine-leak" and not doc["confident"]
    assert top["location"]["function"] == "main.(*mailer).sendWithTimeout.func1"
    assert any("the receiver is gone" in e for e in top["evidence"])
    assert doc["verdict"].startswith("not sure:")
    assert "main.(*mailer).sendWithTimeout.func1" in doc["verdict"]
