"""What every doctor check shares: its catalog entry and the facts it reads.

A check is a `Check` (stable id, section, default severity, one-line summary, whether
it is `--deep` only) plus a pure-ish function `run(ctx) -> list[Finding]`. The
`Context` gathers the go command's answers once (in parallel) so that checks never
re-run the same command; expensive facts are computed lazily and cached.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from godiag.model.findings import Evidence, Finding, Location, Severity
from godiag.toolchain.envsnapshot import EnvSnapshot, probe, snapshot
from godiag.toolchain.gocmd import GoResult, GoRunner, decode_json_stream, parse_version

ENV_SECTION = "Environment and mode"
FILES_SECTION = "Files and packages"

# Probes must never download: with GOPROXY=off the go command answers
# "module lookup disabled" instead of reaching the network.
NO_NETWORK = {"GOPROXY": "off"}
# What `Context.graph()` asks of every package of the build graph.
GRAPH_FIELDS = "ImportPath,Dir,Standard,Module,GoFiles,CgoFiles,IgnoredGoFiles,ForTest"


@dataclass(frozen=True)
class Check:
    id: str
    section: str
    severity: Severity
    summary: str
    run: Callable[[Context], list[Finding]]
    deep: bool = False
    min_go: tuple[int, int] | None = None


class Skipped(Exception):
    """Raised by a check that cannot run here; the message says why."""


def rel(ctx: Context, path: str | Path) -> str:
    """A path relative to DIR when inside it (stable in reports), else absolute."""
    p = Path(os.path.abspath(path))
    try:
        return str(p.relative_to(ctx.dir))
    except ValueError:
        return str(p)


def finding(
    check: Check,
    title: str,
    *,
    detail: str = "",
    evidence: list[Evidence] | None = None,
    location: Location | None = None,
    fix: str = "",
    severity: Severity | None = None,
) -> Finding:
    return Finding(
        id=check.id,
        severity=severity or check.severity,
        title=title,
        detail=detail,
        evidence=tuple(evidence or ()),
        location=location,
        fix=fix,
    )


def ev(res: GoResult, output: str | None = None) -> Evidence:
    """Evidence from a go command: its command line and (a trimmed part of) its output."""
    out = output if output is not None else (res.stdout + res.stderr).strip()
    if len(out) > 2000:
        out = out[:2000] + "\n…"
    return Evidence(command=res.command, output=out)


def has_mod_flag(goflags: str) -> str | None:
    m = re.search(r"(?:^|\s)--?mod=(\S+)", goflags)
    return m.group(1) if m else None


class Context:
    """The facts of one doctor run over DIR, as the user's go command sees them."""

    def __init__(self, directory: Path, runner: GoRunner, *, deep: bool = False) -> None:
        self.dir = directory.resolve()
        self.runner = runner
        self.deep = deep
        self._lock = threading.Lock()
        with ThreadPoolExecutor(max_workers=2) as pool:
            values_f = pool.submit(probe, runner)
            # What the user's GOTOOLCHAIN selects, without downloading it.
            eff_f = pool.submit(runner.run, "env", "GOVERSION", "GOROOT", env_over=NO_NETWORK)
            self.effective_res: GoResult = eff_f.result()
            self.env: EnvSnapshot = snapshot(runner, values_f.result())
        self._list: tuple[GoResult, list[dict[str, Any]]] | None = None
        self._graph: tuple[GoResult, list[dict[str, Any]]] | None = None

    # -- versions -------------------------------------------------------------------
    @property
    def local_version(self) -> str:
        """GOVERSION of the `go` on PATH (GOTOOLCHAIN=local)."""
        return self.env.get("GOVERSION")

    @property
    def effective_version(self) -> str | None:
        """GOVERSION after GOTOOLCHAIN switching, or None when the switch failed here."""
        if not self.effective_res.ok:
            return None
        return self.effective_res.stdout.split("\n")[0].strip()

    @property
    def effective_goroot(self) -> str:
        lines = self.effective_res.stdout.splitlines()
        return lines[1].strip() if self.effective_res.ok and len(lines) > 1 else ""

    @property
    def goversion(self) -> tuple[int, int, int]:
        """The version that runs the user's commands (switched one when available)."""
        return parse_version(self.effective_version or self.local_version) or (1, 0, 0)

    # -- modules --------------------------------------------------------------------
    @property
    def gomod(self) -> str:
        return self.env.get("GOMOD")

    @property
    def modroot(self) -> Path | None:
        g = self.gomod
        if not g or g == "/dev/null" or g == "NUL":
            return None
        return Path(g).parent

    @property
    def gowork(self) -> str:
        return self.env.get("GOWORK")

    def list_flags(self) -> list[str]:
        """Extra flags that keep `go list` from writing go.mod/go.sum (GOFLAGS=-mod=mod)."""
        return ["-mod=readonly"] if has_mod_flag(self.env.get("GOFLAGS")) == "mod" else []

    def packages(self) -> tuple[GoResult, list[dict[str, Any]]]:
        """`go list -e -json ./...` in DIR, no network."""
        with self._lock:
            if self._list is None:
                self._list = self.runner.list_packages(
                    "./...", flags=self.list_flags(), env_over=NO_NETWORK
                )
            return self._list

    def graph(self) -> tuple[GoResult, list[dict[str, Any]]]:
        """`go list -e -deps -test` of `./...`: every package the builds and tests of DIR
        compile, with only the fields checks read (cheaper than the full -json). Run on
        first use only: `packages()` holds DIR's own packages, this the whole graph."""
        with self._lock:
            if self._graph is None:
                self._graph = self.runner.json(
                    "list",
                    "-e",
                    "-deps",
                    "-test",
                    f"-json={GRAPH_FIELDS}",
                    *self.list_flags(),
                    "./...",
                    env_over=NO_NETWORK,
                )
            return self._graph

    @cached_property
    def mod_edit(self) -> dict[str, Any] | None:
        """`go mod edit -json` of the main module (reads go.mod only, never the network)."""
        if self.modroot is None:
            return None
        res = self.runner.run("mod", "edit", "-json", cwd=self.modroot, env_over={"GOWORK": "off"})
        if not res.ok:
            return None
        objs = decode_json_stream(res.stdout, "go mod edit -json")
        return objs[0] if objs else None

    def go_line(self) -> tuple[int, int, int] | None:
        me = self.mod_edit
        if not me or not me.get("Go"):
            return None
        return parse_version(str(me["Go"]))


def file_line(path: Path, pattern: str) -> int | None:
    """First line number in `path` matching the regex `pattern`."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    rx = re.compile(pattern)
    for i, text in enumerate(lines, start=1):
        if rx.search(text):
            return i
    return None
