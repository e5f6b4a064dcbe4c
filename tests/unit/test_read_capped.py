"""Local inputs without a size (pipes, stdin, devices) are read up to a cap, not forever."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from godiag.limits import InputTooLarge, read_capped


def test_a_stream_past_the_cap_is_refused() -> None:
    assert read_capped(io.BytesIO(b"x" * 10), 10, "s") == b"x" * 10
    with pytest.raises(InputTooLarge, match="s: larger than 0 MB"):
        read_capped(io.BytesIO(b"x" * 11), 10, "s")


@pytest.mark.timeout(120)
def test_an_endless_stdin_ends_with_one_line() -> None:
    # `yes | godiag goroutines -`: one line, exit 2, instead of memory running out
    yes = subprocess.Popen(["yes", "x"], stdout=subprocess.PIPE)
    try:
        cmd = [sys.executable, "-m", "godiag", "goroutines", "-"]
        out = subprocess.run(cmd, stdin=yes.stdout, capture_output=True, text=True, timeout=110)
    finally:
        yes.kill()
        yes.wait()
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "godiag: error: <stdin>: larger than 512 MB, the cap of one goroutine dump"
    ]
