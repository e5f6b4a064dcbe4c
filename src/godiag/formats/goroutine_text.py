"""Goroutine tracebacks as text: debug=2, crash/SIGQUIT dumps, panics, race reports, logs.

Speed comes from the shape of real dumps: goroutines are separated by blank lines and
most share their stack text (thousands of goroutines parked on the same line). The
input is split into blank-line separated blocks; each goroutine's header is parsed on
its own (cheap string methods, no regex), and its body (frames, created-by, ancestors)
is parsed once per distinct body text and shared through a cache. File:line lines and
frames are cached too, since they repeat even when arguments differ.

Anything that is not a goroutine (log lines, `panic: ...`, register dumps, ASan
reports) is scanned for headers and the lines that explain the dump, and otherwise
ignored. A goroutine that is malformed raises ParseError with its line (strict) or is
skipped and recorded (lenient); a goroutine cut off by the end of input is dropped
with a warning in both modes.
"""

from __future__ import annotations

from dataclasses import dataclass

from godiag.errors import ParseError
from godiag.formats import goroutine_header as hdr
from godiag.formats import goroutine_race as race
from godiag.model.goroutine import (
    Ancestor,
    CreatedBy,
    Dump,
    Frame,
    Goroutine,
    ParseIssue,
    fast_goroutine,
)

_ELIDED_OLD = "...additional frames elided..."
_UNAVAILABLE = "goroutine running on other thread; stack unavailable"


@dataclass(frozen=True, slots=True)
class _Body:
    """What a goroutine's body says; `rest` is the index of the first unconsumed line."""

    frames: tuple[Frame, ...]
    elided: bool
    created_by: CreatedBy | None
    ancestors: tuple[Ancestor, ...]
    unavailable: bool
    rest: int | None  # lines from here on are not part of the goroutine
    error: ParseIssue | None  # relative line index (0-based) + message
    at_end: bool  # the error is "ran out of lines"
    parent: int | None = None  # `created by F in goroutine N`, when still in the text


class _Parser:
    def __init__(self, source: str, strict: bool) -> None:
        self.source = source
        self.strict = strict
        self.body_cache: dict[str, _Body] = {}
        self.file_cache: dict[str, tuple[str, int, int | None] | None] = {}
        self.frame_cache: dict[tuple[str, str], Frame] = {}
        self.head_cache: dict[str, hdr.Header] = {}
        self.goroutines: list[Goroutine] = []
        self.header: list[str] = []
        self.errors: list[ParseIssue] = []
        self.warnings: list[str] = []
        self.truncated_at: int | None = None
        self.races = race.RaceCollector()
        self.cut_mid_line = False  # the input does not end with a newline

    # -- file:line and function lines ---------------------------------------------------

    def fileline(self, raw: str) -> tuple[str, int, int | None] | None:
        cached = self.file_cache.get(raw, False)
        if cached is not False:
            return cached  # type: ignore[return-value]
        result = hdr.parse_fileline(raw)
        self.file_cache[raw] = result
        return result

    def frame(self, fline: str, lline: str) -> Frame | None:
        key = (fline, lline)
        fr = self.frame_cache.get(key)
        if fr is not None:
            return fr
        call = hdr.split_call(fline)
        if call is None:
            return None
        loc = self.fileline(lline)
        if loc is None:
            return None
        fr = Frame(call[0], call[1], loc[0], loc[1], loc[2])
        self.frame_cache[key] = fr
        return fr

    # -- bodies ----------------------------------------------------------------------

    def body(self, lines: list[str]) -> _Body:
        """Frames, created-by and ancestors from the lines after a header."""
        frames: list[Frame] = []
        elided = False
        unavailable = False
        created: CreatedBy | None = None
        ancestors: list[Ancestor] = []
        anc_id: int | None = None  # inside an [originating from goroutine N] block
        parent: int | None = None
        n = len(lines)
        i = 0

        def done(rest: int | None, err: ParseIssue | None = None, at_end: bool = False) -> _Body:
            nonlocal frames, created, elided
            if anc_id is not None:
                ancestors.append(Ancestor(anc_id, tuple(frames), created, elided))
                frames, created, elided = list(top[0]), top[1], top[2]
            return _Body(
                tuple(frames),
                elided,
                created,
                tuple(ancestors),
                unavailable,
                rest,
                err,
                at_end,
                parent,
            )

        top: tuple[list[Frame], CreatedBy | None, bool] = ([], None, False)
        while i < n:
            ln = lines[i]
            if ln.startswith("created by "):
                if i + 1 >= n:
                    return done(None, ParseIssue(i + 1, "created by without file:line"), True)
                loc = self.fileline(lines[i + 1])
                if loc is None:
                    return done(None, ParseIssue(i + 1, f"invalid file:line {lines[i + 1]!r}"))
                name = ln[11:].rstrip()
                k = name.find(" in goroutine ")
                if k > 0 and name[k + 14 :].isdigit():
                    if anc_id is None:
                        parent = int(name[k + 14 :])
                    name = name[:k]
                created = CreatedBy(name, loc[0], loc[1])
                i += 2
                continue
            if ln.startswith("[originating from goroutine "):
                num = ln[28:].rstrip().removesuffix("]:")
                if not num.isdigit():
                    return done(None, ParseIssue(i, f"invalid ancestor line {ln!r}"))
                if anc_id is None:
                    top = (frames, created, elided)
                else:
                    ancestors.append(Ancestor(anc_id, tuple(frames), created, elided))
                anc_id, frames, created, elided = int(num), [], None, False
                i += 1
                continue
            stripped = ln.strip()
            if stripped.startswith("...") and stripped.endswith("elided..."):
                elided = True
                i += 1
                continue
            if stripped == _UNAVAILABLE:
                unavailable = True
                i += 1
                continue
            if stripped.startswith("non-Go function"):
                i += 1
                if i < n and lines[i].strip().startswith("at pc="):
                    i += 1
                continue
            if hdr.split_call(ln) is None:
                if not frames and not unavailable and anc_id is None:
                    if not stripped:
                        return done(None, ParseIssue(i, "goroutine without frames"), i + 1 >= n)
                    return done(None, ParseIssue(i, f"invalid function call {ln!r}"))
                return done(i)
            if i + 1 >= n:
                return done(None, ParseIssue(i + 1, f"no file:line after {ln.strip()!r}"), True)
            fr = self.frame(ln, lines[i + 1])
            if fr is None:
                return done(None, ParseIssue(i + 1, f"invalid file:line {lines[i + 1]!r}"))
            frames.append(fr)
            i += 2
        if not frames and not unavailable and anc_id is None:
            return done(None, ParseIssue(n, "goroutine without frames"), True)
        return done(None)

    # -- blocks ----------------------------------------------------------------------

    def run(self, text: str) -> None:
        blocks = text.split("\n\n")
        last = len(blocks) - 1
        lineno = 1
        for bi, block in enumerate(blocks):
            self.block(block, lineno, bi == last)
            lineno += block.count("\n") + 2

    def parse_head(self, head: str) -> tuple[int, hdr.Header] | None:
        """Parse a header line; everything after the id is cached (it repeats a lot)."""
        sp = head.find(" ", 10)
        if sp < 0:
            return None
        gid = head[10:sp]
        h = self.head_cache.get(head[sp:])
        if h is None:
            h = hdr.parse_header(head)
            if h is None:
                return None
            self.head_cache[head[sp:]] = h
        elif not (gid.isdigit() and gid.isascii()):
            return None
        return int(gid), h

    def block(self, block: str, lineno: int, is_last: bool) -> None:
        if block.startswith("goroutine "):
            nl = block.find("\n")
            parsed = self.parse_head(block if nl < 0 else block[:nl])
            if parsed is not None:
                body_text = "" if nl < 0 else block[nl + 1 :]
                if is_last:
                    body_text = body_text.rstrip("\n")
                # `created by F in goroutine N` differs between otherwise identical
                # goroutines: cache the body without N and put N back afterwards
                parent: int | None = None
                cb = body_text.find("created by ")
                if cb >= 0:
                    k = body_text.find(" in goroutine ", cb)
                    eol = body_text.find("\n", cb)
                    if k >= 0 and (eol < 0 or k < eol):
                        num = body_text[k + 14 : eol] if eol >= 0 else body_text[k + 14 :]
                        if num.isdigit():
                            parent = int(num)
                            body_text = body_text[:k] + body_text[k + 14 + len(num) :]
                b = self.body_cache.get(body_text)
                if b is None:
                    b = self.body(body_text.split("\n") if body_text else [])
                    self.body_cache[body_text] = b
                if b.error is None:  # the common case, inlined: it runs per goroutine
                    h = parsed[1]
                    self.goroutines.append(_goroutine(parsed[0], h, b, lineno, False, parent))
                else:
                    self.add(parsed[0], parsed[1], b, lineno, is_last, parent)
                if b.rest is not None:
                    rest = body_text.split("\n")[b.rest :]
                    if is_last and self.cut_mid_line and len(rest) == 1 and b.error is None:
                        self.cut_inside_last(lineno + 1 + b.rest)
                        return
                    self.scan(rest, lineno + 1 + b.rest, is_last)
                return
        self.scan(block.split("\n"), lineno, is_last)

    def cut_inside_last(self, where: int) -> None:
        """The input stops mid-line right after a goroutine: that goroutine is cut off."""
        g = self.goroutines[-1]
        self.goroutines[-1] = fast_goroutine({**vars(g), "cut_off": True})
        self.truncated_at = where
        self.warnings.append(
            f"input ends inside goroutine {g.id} (line {g.line}): kept its first "
            f"{len(g.frames)} frames (line {where} is cut off)"
        )

    def scan(self, lines: list[str], lineno: int, is_last: bool) -> None:
        """Look through non-goroutine text for headers and explanatory lines."""
        i = 0
        n = len(lines)
        while i < n:
            ln = lines[i]
            pos = ln.find("goroutine ")
            h = self.parse_head(ln[pos:].rstrip()) if pos >= 0 else None
            if h is None:
                if self.races.feed(ln, lineno + i):
                    i += 1
                    continue
                if hdr.is_context_line(ln):
                    self.header.append(ln.strip())
                i += 1
                continue
            rest = lines[i + 1 :]
            while is_last and rest and not rest[-1].strip():
                rest.pop()
            b = self.body(rest)
            self.add(h[0], h[1], b, lineno + i, is_last)
            if b.rest is None:
                return
            i += 1 + b.rest

    def add(
        self,
        gid: int,
        h: hdr.Header,
        b: _Body,
        lineno: int,
        is_last: bool,
        parent: int | None = None,
    ) -> None:
        if b.error is not None:
            where = lineno + 1 + b.error.line
            if b.at_end and is_last:
                self.truncated_at = where
                kept = len(b.frames)
                self.warnings.append(
                    f"input ends inside goroutine {gid} (line {lineno}): "
                    + (f"kept its first {kept} frames" if kept else "dropped")
                    + f" ({b.error.message})"
                )
                if kept:
                    self._append(gid, h, b, lineno, parent, cut_off=True)
                return
            if self.strict:
                raise ParseError(self.source, f"goroutine {gid}: {b.error.message}", line=where)
            self.errors.append(ParseIssue(where, f"goroutine {gid}: {b.error.message}"))
            return
        self._append(gid, h, b, lineno, parent)

    def _append(
        self,
        gid: int,
        h: hdr.Header,
        b: _Body,
        lineno: int,
        parent: int | None,
        cut_off: bool = False,
    ) -> None:
        self.goroutines.append(_goroutine(gid, h, b, lineno, cut_off, parent))


def parse(text: str, source: str, *, strict: bool = True) -> Dump:
    p = _Parser(source, strict)
    p.cut_mid_line = not text.endswith("\n")
    p.run(text.replace("\r\n", "\n") if "\r\n" in text else text)
    races = p.races.finish()
    goroutines = p.goroutines + races
    if not goroutines:
        if p.errors:
            e = p.errors[0]
            raise ParseError(source, e.message, line=e.line)
        if p.truncated_at is not None:
            raise ParseError(source, "input ends inside the only goroutine", line=p.truncated_at)
        raise ParseError(source, "no goroutine dump found (no `goroutine N [state]:` line)")
    header = tuple(dict.fromkeys(p.header))  # each M repeats `SIGQUIT: quit`: keep one
    warnings = list(p.warnings)
    ids = [g.id for g in p.goroutines if g.id]  # goroutine 0 is each M's g0 in crash dumps
    if len(set(ids)) != len(ids):
        warnings.append("goroutine ids repeat: the input holds more than one dump; all are counted")
    return Dump(
        format=detect_kind(header, p.goroutines, bool(races)),
        goroutines=tuple(goroutines),
        header=header,
        warnings=tuple(warnings),
        errors=tuple(p.errors),
        total=sum(g.count for g in goroutines),
        truncated_at=p.truncated_at,
    )


def detect_kind(header: tuple[str, ...], goroutines: list[Goroutine], has_race: bool) -> str:
    if has_race:
        return "race"
    for line in header:
        if line.startswith("panic: "):
            return "panic"
    if header:
        return "traceback"
    return "debug2"


def _goroutine(
    gid: int, h: hdr.Header, b: _Body, lineno: int, cut_off: bool, parent: int | None
) -> Goroutine:
    """One goroutine from its parsed header and body (the record every path builds)."""
    return fast_goroutine(
        {
            "id": gid,
            "state": h.state,
            "frames": b.frames,
            "wait_minutes": h.minutes,
            "locked_to_thread": h.locked,
            "leaked": h.leaked,
            "durable": h.durable,
            "labels": h.labels,
            "frames_elided": b.elided,
            "created_by": b.created_by,
            "ancestors": b.ancestors,
            "stack_unavailable": b.unavailable,
            "count": 1,
            "line": lineno,
            "cut_off": cut_off,
            "created_by_goroutine": b.parent if parent is None else parent,
        }
    )
