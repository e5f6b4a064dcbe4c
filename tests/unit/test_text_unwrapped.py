"""Text output keeps every location whole: never wrapped in a file (`-o`) or a pipe,
whatever COLUMNS says, and wrapped on a terminal only between location tokens, so
`FUNCTION (FILE:LINE)` and `FILE:LINE` stay clickable and greppable. Driven on a recorded
diagnosis of a real Go program (tests/data/diagnose) whose evidence names long paths."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

from godiag.report.terminal import LOCATION
from tests.datapaths import DIAGNOSE

BUNDLE = DIAGNOSE / "deadlock-jobqueue"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def godiag(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "godiag", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **env})  # fmt: skip


def evidence() -> list[str]:
    doc = json.loads(godiag("diagnose", str(BUNDLE), "--format", "json").stdout)
    lines = [e for c in doc["causes"][:3] for e in c["evidence"]]
    # the point of the test: lines longer than any terminal, holding FUNCTION (FILE:LINE)
    assert any(len(e) > 130 and re.search(r"\S+ \(/\S+\.go:\d+\)", e) for e in lines), lines
    return lines


def test_a_file_and_a_pipe_are_never_wrapped(tmp_path: Path) -> None:
    want = [f"  - {e}" for e in evidence()]
    out = tmp_path / "report.txt"
    godiag("diagnose", str(BUNDLE), "-v", "-o", str(out))
    piped = godiag("diagnose", str(BUNDLE), "-v", COLUMNS="60").stdout
    for text in (out.read_text(), piped):
        lines = text.splitlines()
        assert [w for w in want if w not in lines] == []


def in_terminal(columns: int, *args: str) -> str:
    """The output of `godiag ARGS` run on a terminal `columns` wide (a pseudo-terminal)."""
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    proc = subprocess.Popen([sys.executable, "-m", "godiag", *args], stdin=child, stdout=child,
                            stderr=subprocess.DEVNULL, env={**env, "NO_COLOR": "1"})  # fmt: skip
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:  # the child's end closed
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(main)
    return ANSI.sub("", b"".join(chunks).decode().replace("\r\n", "\n"))


def test_a_terminal_wraps_between_locations_only() -> None:
    tokens = {m.group() for e in evidence() for m in LOCATION.finditer(e)}
    assert any(" (" in t for t in tokens)
    text = in_terminal(80, "diagnose", str(BUNDLE), "-v")
    lines = text.splitlines()
    assert [t for t in tokens if not any(t in ln for ln in lines)] == []
    # and the rest is wrapped to the terminal: a line wider only when one location is
    wide = [ln for ln in lines if len(ln.rstrip()) > 80]
    assert all(any(len(t) > 80 and t in ln for t in tokens) for ln in wide), wide
    unwrapped = godiag("diagnose", str(BUNDLE), "-v").stdout.splitlines()
    assert len(lines) > len(unwrapped)  # it did wrap the prose
