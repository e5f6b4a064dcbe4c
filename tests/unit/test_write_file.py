"""`-o PATH` replaces a regular file whole, and writes a FIFO or device in place."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from godiag.report import write_file


def test_a_regular_file_is_replaced(tmp_path: Path) -> None:
    p = tmp_path / "out" / "doc.json"
    write_file(p, "{}")
    write_file(p, b"[]")
    assert p.read_bytes() == b"[]" and sorted(os.listdir(p.parent)) == ["doc.json"]


@pytest.mark.timeout(30)
def test_a_fifo_is_written_in_place_not_replaced(tmp_path: Path) -> None:
    # the same path as `-o /dev/null`: renaming over it would leave a regular file
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    write_file(fifo, '{"verdict": "ok"}')
    reader.join(10)
    assert got == [b'{"verdict": "ok"}']
    assert stat.S_ISFIFO(fifo.stat().st_mode)
