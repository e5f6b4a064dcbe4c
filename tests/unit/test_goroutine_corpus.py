"""Every goroutine dump of the shared corpus parses; gostackparse goldens agree."""

from __future__ import annotations

import json
from typing import Any

import pytest

from godiag.errors import ParseError
from godiag.formats.goroutines import parse
from godiag.model.goroutine import Ancestor, Frame, Goroutine
from tests import datapaths

CORPUS = datapaths.CORPUS / "goroutines"

# The corpus README names these as deliberately empty, broken or not a goroutine dump.
EMPTY = {"gostackparse/empty_input.txt"}
BROKEN = {  # strict parsing: ParseError at this line
    "gostackparse/empty_stack.txt": 2,
    "gostackparse/errorhandling.txt": 6,
    "gostackparse/partial_stack.txt": 3,
    "gostackparse/partial_createdby.txt": 5,
}
NOT_A_DUMP = {"clusterfuzz/golang_panic_runtime_error_slice_bounds_with_log_header.txt"}


def _dumps() -> list[str]:
    return sorted(str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*.txt"))


def test_corpus_is_there() -> None:
    assert len(_dumps()) >= 40


@pytest.mark.parametrize("name", _dumps())
def test_every_corpus_dump_parses(name: str) -> None:
    data = (CORPUS / name).read_bytes()
    if name in EMPTY:
        dump = parse(data, name)
        assert dump.goroutines == () and dump.total == 0 and dump.warnings == ("empty input",)
    elif name in BROKEN:
        with pytest.raises(ParseError) as exc:
            parse(data, name)
        assert exc.value.line == BROKEN[name]
    elif name in NOT_A_DUMP:
        with pytest.raises(ParseError, match="no goroutine dump found"):
            parse(data, name)
    else:
        dump = parse(data, name)
        assert dump.goroutines, name
        assert dump.total == sum(g.count for g in dump.goroutines)
        for g in dump.goroutines:
            assert g.frames or g.stack_unavailable
            assert g.count >= 1


def _frames(frames: tuple[Frame, ...]) -> list[dict[str, Any]]:
    return [{"Func": f.function, "File": f.file, "Line": f.line} for f in frames]


def _created(g: Goroutine | Ancestor) -> dict[str, Any] | None:
    c = g.created_by
    return None if c is None else {"Func": c.function, "File": c.file, "Line": c.line}


def _ancestor(ancestors: tuple[Ancestor, ...]) -> dict[str, Any] | None:
    if not ancestors:
        return None
    a = ancestors[0]
    return {
        "ID": a.id,
        "Stack": _frames(a.frames),
        "FramesElided": a.frames_elided,
        "CreatedBy": _created(a),
        "Ancestor": _ancestor(ancestors[1:]),
    }


def _strip_golden_ancestor(a: dict[str, Any] | None) -> dict[str, Any] | None:
    if a is None:
        return None
    return {
        "ID": a["ID"],
        "Stack": a["Stack"],
        "FramesElided": a["FramesElided"],
        "CreatedBy": a["CreatedBy"],
        "Ancestor": _strip_golden_ancestor(a.get("Ancestor")),
    }


GOLDENS = sorted(p.name.removesuffix(".golden.json") for p in CORPUS.glob("*/*.golden.json"))


@pytest.mark.parametrize("name", GOLDENS)
def test_gostackparse_goldens_agree(name: str) -> None:
    golden = json.loads((CORPUS / "gostackparse" / f"{name}.golden.json").read_text())
    data = (CORPUS / "gostackparse" / f"{name}.txt").read_bytes()
    want = golden["Goroutines"] or []
    want_error_lines = sorted(
        int(e.split(" on line ")[1].split(":")[0]) for e in golden["Errors"] or []
    )
    try:
        dump = parse(data, name, strict=False)
    except ParseError as exc:
        # nothing parsed at all: the first error must be the golden's first error
        assert want == []
        assert exc.line == want_error_lines[0]
        return
    got = [
        {
            "ID": g.id,
            "State": g.state,
            "Wait": g.wait_minutes,
            "LockedToThread": g.locked_to_thread,
            "Stack": _frames(g.frames),
            "FramesElided": g.frames_elided,
            "CreatedBy": _created(g),
            "Ancestor": _ancestor(g.ancestors),
        }
        for g in dump.goroutines
        if not g.cut_off  # gostackparse drops a goroutine cut off by the end of input
    ]
    for w in want:
        w["Wait"] = w["Wait"] // 60_000_000_000  # gostackparse keeps nanoseconds
        w["Ancestor"] = _strip_golden_ancestor(w.get("Ancestor"))
    assert got == want
    got_error_lines = sorted(
        [e.line for e in dump.errors] + ([dump.truncated_at] if dump.truncated_at else [])
    )
    assert got_error_lines == want_error_lines
