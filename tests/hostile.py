"""A hostile HTTP target on loopback, for the collectors' budgets and redirect rules.

The first path segment picks the behaviour, for every path under it, so a base URL
such as http://127.0.0.1:PORT/chunked makes every endpoint of a diagnosis hostile:

- `/xredirect/REST`: 302 to the same path on another loopback port (another origin);
- `/ftpredirect/REST`: 302 to ftp:// on this host;
- `/sameredirect/REST`: 302 to `/ok/REST` on this origin (must be followed);
- `/bomb/REST`: 200 with a multi-member gzip bomb: a small first member, then members
  that expand 1000:1 (about 2 MB on the wire, 2 GiB decompressed);
- `/huge/REST`: 200 declaring a 10 GB Content-Length, then zeros until the client leaves;
- `/chunked/REST`: 200, chunked, 64 KiB chunks without end;
- `/trickle/REST`: 200, `trickle_bytes` declared, one byte every `trickle_s` seconds
  (each read is quick, the whole answer is not);
- `/mixed/REST`: a service whose heap profile is the gzip bomb while its goroutine dump
  and /metrics are fine (a diagnosis must report the one and use the others);
- `/ok/REST`: 200 "ok".

Every request is recorded (path and Authorization header), so a test can check that no
credential reached the other origin. Only 127.0.0.1 is ever bound.
"""

from __future__ import annotations

import contextlib
import gzip
import http.server
import threading
import time
from dataclasses import dataclass, field
from functools import cache

DUMP = b"""goroutine 1 [running]:
main.main()
\t/src/app/main.go:10 +0x1d

goroutine 7 [chan receive, 3 minutes]:
main.worker(0xc000010000)
\t/src/app/main.go:22 +0x2a
created by main.main in goroutine 1
\t/src/app/main.go:12 +0x3c
"""
METRICS = b"""# TYPE go_goroutines gauge
go_goroutines 2
# TYPE process_open_fds gauge
process_open_fds 9
"""


@cache
def bomb_body(members: int = 128, member_mib: int = 16) -> bytes:
    """~2 MB of gzip members expanding to `members * member_mib` MiB of zeros."""
    one = gzip.compress(b"\0" * (member_mib << 20), compresslevel=9)
    return gzip.compress(b"x" * 1024) + one * members


@dataclass
class Seen:
    path: str
    authorization: str | None


@dataclass
class HostileServer:
    trickle_s: float = 0.25
    trickle_bytes: int = 40
    other_port: int = 0  # where /xredirect points (another HostileServer)
    seen: list[Seen] = field(default_factory=list)
    _srv: http.server.ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self._srv is not None
        return int(self._srv.server_address[1])

    def url(self, mode: str = "ok") -> str:
        return f"http://127.0.0.1:{self.port}/{mode}"

    def start(self) -> HostileServer:
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                outer.seen.append(Seen(self.path, self.headers.get("Authorization")))
                path = self.path.lstrip("/")
                mode, _, rest = path.split("?", 1)[0].partition("/")
                rest = path[len(mode) + 1 :]
                # the client giving up half-way is the point of most modes
                with contextlib.suppress(BrokenPipeError, ConnectionError):
                    getattr(self, f"_{mode}", self._ok)(rest)

            def _redirect(self, to: str) -> None:
                self.send_response(302)
                self.send_header("Location", to)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _xredirect(self, rest: str) -> None:
                self._redirect(f"http://127.0.0.1:{outer.other_port}/ok/{rest}")

            def _ftpredirect(self, rest: str) -> None:
                self._redirect(f"ftp://127.0.0.1:{outer.port}/ok/{rest}")

            def _sameredirect(self, rest: str) -> None:
                self._redirect(f"/ok/{rest}")

            def _ok(self, rest: str) -> None:
                self._fixed(b"ok\n")

            def _fixed(self, body: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _mixed(self, rest: str) -> None:
                if rest.startswith("debug/pprof/heap"):
                    self._bomb(rest)
                elif rest.startswith("debug/pprof/goroutine"):
                    self._fixed(DUMP)
                elif rest.startswith("metrics"):
                    self._fixed(METRICS)
                else:
                    self.send_error(404)

            def _bomb(self, rest: str) -> None:
                self._fixed(bomb_body())

            def _huge(self, rest: str) -> None:
                self.send_response(200)
                self.send_header("Content-Length", str(10 * 10**9))
                self.end_headers()
                zeros = b"\0" * (1 << 16)
                for _ in range(10**9 >> 16):  # bounded: stops long before 10 GB anyway
                    self.wfile.write(zeros)

            def _chunked(self, rest: str) -> None:
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                chunk = b"%x\r\n" % (1 << 16) + b"A" * (1 << 16) + b"\r\n"
                for _ in range(10**9 >> 16):
                    self.wfile.write(chunk)

            def _trickle(self, rest: str) -> None:
                self.send_response(200)
                self.send_header("Content-Length", str(outer.trickle_bytes))
                self.end_headers()
                for _ in range(outer.trickle_bytes):
                    self.wfile.write(b"g")
                    self.wfile.flush()
                    time.sleep(outer.trickle_s)

            def log_message(self, *args: object) -> None:
                pass

        self._srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._srv.daemon_threads = True
        threading.Thread(target=self._srv.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._srv is not None:
            self._srv.shutdown()
            self._srv.server_close()


def pair() -> tuple[HostileServer, HostileServer]:
    """A hostile target and the other origin its /xredirect points to."""
    other = HostileServer().start()
    target = HostileServer(other_port=other.port).start()
    return target, other
