"""Build and run the Go programs of the project's go/ folder with the real go command.

Builds are cached by a hash of the sources (and go version) under .cache/gobin, so a
session builds each program once. Environments are hermetic: the Go variables the
tests rely on are set here, never inherited from the machine or CI.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import select
import signal
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GO_DIR = REPO / "go"
CACHE = REPO / ".cache" / "gobin"


def hermetic_go_env(**over: str) -> dict[str, str]:
    """The machine's environment with every Go setting pinned to a known value."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GO") and k != "CGO_ENABLED"}
    env.update(
        {
            "GOFLAGS": "-buildvcs=false",
            "GOPROXY": "off",
            "GOWORK": "off",
            "GOTOOLCHAIN": "local",
            "GO111MODULE": "on",
            "GOENV": "off",
            "CGO_ENABLED": "0",
            "GOSUMDB": "off",
            "GOCACHE": os.environ.get("GOCACHE") or str(Path.home() / ".cache" / "go-build"),
            "GOPATH": os.environ.get("GOPATH") or str(Path.home() / "go"),
        }
    )
    env.update(over)
    return env


def _source_hash(module_dir: Path, extra: str) -> str:
    h = hashlib.sha256(extra.encode())
    for p in sorted(module_dir.rglob("*")):
        if p.is_file() and p.suffix in {".go", ".mod", ".sum", ".s", ".c", ".h"}:
            h.update(str(p.relative_to(module_dir)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def go_version() -> str:
    return subprocess.run(
        ["go", "version"], capture_output=True, text=True, check=True
    ).stdout.strip()


def build(
    pkg: str,
    *,
    module_dir: Path = GO_DIR,
    flags: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> Path:
    """`go build` ./PKG of module_dir into the cache (once per source hash) and return it."""
    env_over = env or {}
    key = _source_hash(module_dir, f"{pkg}|{flags}|{sorted(env_over.items())}|{go_version()}")
    out = CACHE / f"{Path(pkg).name}-{key}"
    if out.exists():
        return out
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    subprocess.run(
        ["go", "build", *flags, "-o", str(tmp), f"./{pkg}"],
        cwd=module_dir,
        env=hermetic_go_env(**env_over),
        check=True,
        timeout=600,
    )
    tmp.replace(out)
    return out


class GoProcess:
    """A running Go program announced by a `LISTEN http://ADDR` line; killed on close()."""

    def __init__(
        self,
        binary: Path,
        args: list[str],
        env: dict[str, str] | None = None,
        ready_timeout: float = 30.0,
    ) -> None:
        self.proc = subprocess.Popen(
            [str(binary), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**hermetic_go_env(), **(env or {})},
            start_new_session=True,
        )
        self.url = self._wait_ready(ready_timeout)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _wait_ready(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        buf = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                buf += chunk
                for line in buf.splitlines():
                    if line.startswith(b"LISTEN "):
                        return line.split()[1].decode()
            if self.proc.poll() is not None:
                break
        self.close()
        raise RuntimeError(f"program did not announce LISTEN: {buf!r}")

    def close(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        for f in (self.proc.stdout, self.proc.stderr):
            if f is not None:
                f.close()
