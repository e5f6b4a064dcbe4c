"""Start and stop the bundled demo service; always stopped, even on errors."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import time
from pathlib import Path
from types import TracebackType

from godiag.errors import CollectError


class DemoService:
    """The demo binary running on a free loopback port (context manager)."""

    def __init__(
        self, binary: Path, *, args: tuple[str, ...] = (), ready_timeout: float = 20.0
    ) -> None:
        self.binary = binary
        self.args = args
        self.ready_timeout = ready_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    def __enter__(self) -> DemoService:
        env = {**os.environ, "ADDR": "127.0.0.1:0"}
        self.proc = subprocess.Popen(
            [str(self.binary), *self.args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        self.url = self._wait_listen()
        return self

    def _wait_listen(self) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        deadline = time.monotonic() + self.ready_timeout
        buf = b""
        while time.monotonic() < deadline and self.proc.poll() is None:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.1)
            if ready:
                buf += os.read(self.proc.stdout.fileno(), 4096)
                for line in buf.splitlines():
                    if line.startswith(b"LISTEN "):
                        return line.split()[1].decode()
        self.stop()
        raise CollectError("the demo service did not start (no LISTEN line)")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
