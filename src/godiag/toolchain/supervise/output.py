"""Live pass-through of the child's output, recorded for later analysis.

Each stream is read by its own thread and written out unchanged as soon as it
arrives. When godiag added -x itself, complete lines are checked and the -x ones
dropped; a partial line (a prompt without newline) is released after a short wait
so nothing is held back from the user.
"""

from __future__ import annotations

import os
import select
import threading
import time
from collections.abc import Callable
from typing import BinaryIO

from godiag.toolchain.supervise.goargs import GET_DONE, GET_START, XFilter

MAX_RECORD = 64 << 20  # bytes kept per stream for analysis; output is forwarded regardless


class Recorder:
    """Bytes of both streams, the time of the last output and the `# get` bookkeeping."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, t0: float | None = None
    ) -> None:
        self.lock = threading.Lock()
        self.data: dict[str, bytearray] = {"stdout": bytearray(), "stderr": bytearray()}
        self.total = 0
        self.clock = clock
        self.last_output = clock()  # on the clock's own scale, compared with clock()
        # `# get` times are seconds since t0 (the run's start), like the timeline's
        self.t0 = self.last_output if t0 is None else t0
        self.gets: dict[str, float] = {}  # URL -> start time, while pending
        self.get_events: list[dict[str, object]] = []
        self._line_tail = b""
        # Set once godiag has asked for goroutine dumps: what follows is godiag's
        # evidence (hundreds of stack lines), recorded but not passed to the terminal.
        self.muted = threading.Event()
        self.withheld = 0  # bytes recorded but not passed through since then

    def mute(self) -> None:
        self.muted.set()

    def add(self, stream: str, chunk: bytes) -> None:
        with self.lock:
            buf = self.data[stream]
            if len(buf) < MAX_RECORD:
                buf.extend(chunk[: MAX_RECORD - len(buf)])
            self.total += len(chunk)
            self.last_output = self.clock()
            if stream == "stderr":
                self._track_gets(chunk)

    def _track_gets(self, chunk: bytes) -> None:
        data = self._line_tail + chunk
        lines = data.split(b"\n")
        self._line_tail = lines.pop()
        now = round(self.clock() - self.t0, 3)
        for raw in lines:
            line = raw.decode(errors="replace")
            done = GET_DONE.match(line)
            if done:
                url = done.group(1)
                self.gets.pop(url, None)
                self.get_events.append({"t": now, "url": url, "result": done.group(2)})
                continue
            start = GET_START.match(line)
            if start:
                self.gets[start.group(1)] = now
                self.get_events.append({"t": now, "url": start.group(1), "result": None})

    def text(self, stream: str, start: int = 0) -> str:
        with self.lock:
            return bytes(self.data[stream][start:]).decode(errors="replace")

    def sizes(self) -> dict[str, int]:
        with self.lock:
            return {k: len(v) for k, v in self.data.items()}


class Pump(threading.Thread):
    """Copy one pipe to `sink`, recording everything; optionally drop -x lines."""

    def __init__(
        self,
        fd: int,
        stream: str,
        sink: BinaryIO,
        recorder: Recorder,
        strip_x: bool,
        before_write: Callable[[], None] = lambda: None,
        write_lock: threading.Lock | None = None,
    ) -> None:
        super().__init__(daemon=True, name=f"pump-{stream}")
        self.fd = fd
        self.stream = stream
        self.sink = sink
        self.recorder = recorder
        self.xfilter = XFilter() if strip_x else None
        self.before_write = before_write
        self.write_lock = write_lock or threading.Lock()
        self.pending = b""

    def _write(self, data: bytes) -> None:
        if not data:
            return
        if self.recorder.muted.is_set():
            with self.recorder.lock:
                self.recorder.withheld += len(data)
            return
        with self.write_lock:
            self.before_write()
            try:
                self.sink.write(data)
                self.sink.flush()
            except (BrokenPipeError, ValueError, OSError):
                pass

    def _filter(self, chunk: bytes, flush: bool) -> None:
        if self.xfilter is None:
            self._write(chunk)
            return
        data = self.pending + chunk
        keep = bytearray()
        lines = data.split(b"\n")
        self.pending = lines.pop()
        for raw in lines:
            if not self.xfilter.is_x(raw.decode(errors="replace")):
                keep += raw + b"\n"
        if flush and self.pending:
            if not self.xfilter.is_x(self.pending.decode(errors="replace")):
                keep += self.pending
            self.pending = b""
        self._write(bytes(keep))

    def run(self) -> None:
        while True:
            ready, _, _ = select.select([self.fd], [], [], 0.25)
            if not ready:
                if self.pending:
                    self._filter(b"", flush=True)
                continue
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                self._filter(b"", flush=True)
                break
            self.recorder.add(self.stream, chunk)
            self._filter(chunk, flush=False)
        os.close(self.fd)
