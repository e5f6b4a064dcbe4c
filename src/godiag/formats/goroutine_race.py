"""Race detector reports (`WARNING: DATA RACE`) embedded in text.

A report lists accesses (`Write at 0x.. by goroutine 7:`, `Previous read at 0x.. by main
goroutine:`) and creation sites (`Goroutine 7 (running) created at:`), each followed by
indented `func(args)` / `file:line +0x..` pairs, and ends with `==================`.
Each access becomes a Goroutine whose state is `data race: <access>`; the creation
site of the same goroutine becomes its `created_by`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from godiag.formats.goroutine_header import parse_fileline, split_call
from godiag.model.goroutine import CreatedBy, Frame, Goroutine

_ACCESS_WORDS = ("Read at ", "Write at ", "Previous read at ", "Previous write at ", "Atomic ")


@dataclass
class _Section:
    kind: str  # "access" or "created"
    what: str  # e.g. "write", "previous read"
    gid: int
    line: int
    frames: list[Frame] = field(default_factory=list)
    pending: str | None = None  # a function line waiting for its file line


@dataclass
class RaceCollector:
    in_report: bool = False
    sections: list[_Section] = field(default_factory=list)
    done: list[list[_Section]] = field(default_factory=list)

    def feed(self, line: str, lineno: int) -> bool:
        """Consume `line` if it belongs to a race report; True when consumed."""
        s = line.strip()
        if s == "WARNING: DATA RACE":
            self._close()
            self.in_report = True
            return False  # also kept as a context line
        if not self.in_report:
            return False
        if s.startswith("=================="):
            self._close()
            return True
        sec = _start(s, lineno)
        if sec is not None:
            self.sections.append(sec)
            return True
        if not self.sections or not s:
            return bool(s == "")
        cur = self.sections[-1]
        if cur.pending is None:
            if split_call(s) is not None:
                cur.pending = s
                return True
            return False
        call = split_call(cur.pending)
        loc = parse_fileline(s)
        cur.pending = None
        if call is None or loc is None:
            return False
        cur.frames.append(Frame(call[0], call[1], loc[0], loc[1], loc[2]))
        return True

    def _close(self) -> None:
        if self.sections:
            self.done.append(self.sections)
        self.sections = []
        self.in_report = False

    def finish(self) -> list[Goroutine]:
        self._close()
        out: list[Goroutine] = []
        for report in self.done:
            created = {
                s.gid: CreatedBy(s.frames[0].function, s.frames[0].file, s.frames[0].line)
                for s in report
                if s.kind == "created" and s.frames
            }
            for s in report:
                if s.kind != "access" or not s.frames:
                    continue
                out.append(
                    Goroutine(
                        id=s.gid,
                        state=f"data race: {s.what}",
                        frames=tuple(s.frames),
                        created_by=created.get(s.gid),
                        line=s.line,
                    )
                )
        return out


def _start(s: str, lineno: int) -> _Section | None:
    if s.startswith(_ACCESS_WORDS) and s.endswith(":") and " by " in s:
        what = s[: s.find(" at ")].lower()
        who = s[s.rfind(" by ") + 4 : -1]
        if who == "main goroutine":
            return _Section("access", what, 1, lineno)
        if who.startswith("goroutine ") and who[10:].isdigit():
            return _Section("access", what, int(who[10:]), lineno)
        return None
    if s.startswith("Goroutine ") and s.endswith(" created at:"):
        num = s[10:].split(" ", 1)[0]
        if num.isdigit():
            return _Section("created", "created", int(num), lineno)
    return None
