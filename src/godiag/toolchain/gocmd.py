"""Run the go command with an explicit environment and a timeout, and decode its JSON.

Everything godiag learns from the toolchain goes through `GoRunner`, so the
environment the go command sees is always the one the caller chose (the user's,
passed through, or a test's hermetic one) and every call is bounded in time.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from godiag.errors import GoCommandError

T = TypeVar("T")

DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class GoResult:
    """One finished go command: what ran, where, and what it printed."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    env_over: tuple[tuple[str, str], ...] = ()

    @property
    def command(self) -> str:
        """The command line as a user would type it (overrides shown as VAR=value)."""
        prefix = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env_over)
        cmd = shlex.join(["go", *self.args])
        return f"{prefix} {cmd}" if prefix else cmd

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def decode_json_stream(text: str, source: str = "go") -> list[dict[str, Any]]:
    """Decode concatenated JSON objects (what `go list -json` prints) into a list."""
    decoder = json.JSONDecoder()
    out: list[dict[str, Any]] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i >= n:
            return out
        try:
            obj, i = decoder.raw_decode(text, i)
        except json.JSONDecodeError as exc:
            raise GoCommandError(f"{source}: output is not JSON at offset {i}: {exc.msg}") from exc
        if not isinstance(obj, dict):
            raise GoCommandError(f"{source}: expected JSON objects, got {type(obj).__name__}")
        out.append(obj)


@dataclass
class GoRunner:
    """Runs `go` in `cwd` with exactly `env` (defaults to this process's environment)."""

    cwd: Path
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    timeout: float = DEFAULT_TIMEOUT
    go: str | None = None

    def go_path(self) -> str:
        """The go binary that PATH (of the runner's env) selects, or GoCommandError."""
        if self.go is not None:
            return self.go
        found = shutil.which("go", path=self.env.get("PATH", os.defpath))
        if found is None:
            raise GoCommandError("the go command was not found on PATH")
        return found

    def run(
        self,
        *args: str,
        env_over: Mapping[str, str | None] | None = None,
        timeout: float | None = None,
        cwd: Path | None = None,
    ) -> GoResult:
        """Run `go ARGS`; a non-zero exit is returned, not raised (callers judge it)."""
        env = dict(self.env)
        shown: list[tuple[str, str]] = []
        for k, v in (env_over or {}).items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
                shown.append((k, v))
        limit = self.timeout if timeout is None else timeout
        try:
            proc = subprocess.run(
                [self.go_path(), *args],
                cwd=cwd or self.cwd,
                env=env,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=limit,
                stdin=subprocess.DEVNULL,
            )
        except FileNotFoundError as exc:
            raise GoCommandError(f"cannot run go: {exc.strerror}: {exc.filename}") from exc
        except subprocess.TimeoutExpired as exc:
            raise GoCommandError(
                f"`{shlex.join(['go', *args])}` did not finish within {limit:g}s"
            ) from exc
        return GoResult(tuple(args), proc.returncode, proc.stdout, proc.stderr, tuple(shown))

    def json(
        self, *args: str, env_over: Mapping[str, str | None] | None = None
    ) -> tuple[GoResult, list[dict[str, Any]]]:
        """Run a `-json` command and decode its stream (empty list when it printed none)."""
        res = self.run(*args, env_over=env_over)
        return res, decode_json_stream(res.stdout, "go " + " ".join(args))

    def env_json(self, *names: str) -> dict[str, str]:
        """`go env -json [NAMES]` as a dict; GoCommandError if the go command refuses."""
        return self.env_json_over({}, *names)

    def env_json_over(self, env_over: Mapping[str, str | None], *names: str) -> dict[str, str]:
        """`go env -json [NAMES]` with some variables overridden."""
        res, objs = self.json("env", "-json", *names, env_over=env_over)
        if not res.ok or not objs:
            raise GoCommandError(f"go env -json failed: {res.stderr.strip() or res.returncode}")
        return {k: str(v) for k, v in objs[0].items()}

    def list_packages(
        self,
        *patterns: str,
        flags: Sequence[str] = (),
        env_over: Mapping[str, str | None] | None = None,
    ) -> tuple[GoResult, list[dict[str, Any]]]:
        """`go list -e -json FLAGS PATTERNS`: one dict per package, errors inside `Error`."""
        return self.json(
            "list", "-e", "-json", *flags, *(patterns or ("./...",)), env_over=env_over
        )

    def list_modules(
        self, env_over: Mapping[str, str | None] | None = None
    ) -> tuple[GoResult, list[dict[str, Any]]]:
        """`go list -m -e -json all`: the build list with `Replace`, `Main`, `Error`."""
        return self.json("list", "-m", "-e", "-json", "all", env_over=env_over)


def parallel(calls: Sequence[Callable[[], T]], workers: int = 4) -> list[T]:
    """Run independent go commands at once; results keep the order of `calls`."""
    if len(calls) <= 1:
        return [c() for c in calls]
    with ThreadPoolExecutor(max_workers=min(workers, len(calls))) as pool:
        futures = [pool.submit(c) for c in calls]
        return [f.result() for f in futures]


def parse_version(text: str) -> tuple[int, int, int] | None:
    """`go1.22.3` / `1.22` / `go1.21rc2` -> (1, 22, 3); None when it is no Go version."""
    import re

    m = re.search(r"(?:go)?(\d+)\.(\d+)(?:\.(\d+))?", text)
    if not m:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
