"""Test-shaped functions of Go files, read by the go/ast helper shipped in godiag/_go/gotests.

`go test` decides what a test is from the parsed declaration (name, receiver, one
*testing.T/B/F parameter, no results, no type parameters), so the doctor asks a parser
too: a regular expression over the text also matches code inside raw string literals
(test fixtures that hold Go source) and cannot see aliased imports.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from godiag.errors import GoCommandError
from godiag.toolchain.gobuild import build_shipped

# The helper uses only the standard library; nothing may reach the network or switch
# toolchains while it is built.
BUILD_ENV = {
    "GOFLAGS": "-buildvcs=false",
    "GOPROXY": "off",
    "GOWORK": "off",
    "GOTOOLCHAIN": "local",
    "CGO_ENABLED": "0",
}


@dataclass(frozen=True)
class Func:
    file: str
    line: int
    name: str
    test_file: bool  # in a _test.go file of the package's test build
    method: bool
    params: int
    param: str  # "T", "B" or "F" when the only parameter is *testing.T/B/F, else ""
    results: int
    type_params: int
    # TestMain only (0 when none): the line of its first m.Run() call, how often it uses
    # m otherwise (handing it to a function that may call Run), and the line of an
    # os.Exit(0) or return of its own placed before that call (or anywhere without one)
    main_run: int = 0
    main_other_uses: int = 0
    main_exit0: int = 0
    main_exit0_always: bool = False  # that exit is a statement of TestMain's body, m unused before
    # each exit before m.Run: the os.Getenv test of its innermost if, when it is one
    main_exit0_guards: tuple[Guard, ...] = ()


@dataclass(frozen=True)
class Guard:
    """`if os.Getenv(var) <op> "value"` around an exit of TestMain (var "": another test)."""

    var: str
    op: str
    value: str
    then: bool  # the exit is in the if's body, not its else

    def taken(self, env: Mapping[str, str]) -> bool | None:
        """Whether the exit's branch runs under `env` (None: not an environment test)."""
        if not self.var:
            return None
        holds = (env.get(self.var, "") == self.value) == (self.op == "==")
        return holds == self.then


@dataclass(frozen=True)
class Scan:
    funcs: list[Func]
    refs: frozenset[str]  # test-shaped names used outside their own declaration
    errors: list[str]


def scan(files: Iterable[tuple[Path, bool]], timeout: float = 300.0) -> Scan:
    """Parse `files` ((path, is a _test.go file of the test build)) with go/ast."""
    binary = build_shipped("gotests", extra_env=BUILD_ENV)
    stdin = "".join(f"{'T' if test else 'N'}\t{path}\n" for path, test in files)
    try:
        proc = subprocess.run(
            [str(binary)], input=stdin, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        raise GoCommandError(f"the Go parser helper did not finish in {timeout:g}s") from None
    if proc.returncode != 0:
        raise GoCommandError(f"the Go parser helper failed: {proc.stderr.strip()[-300:]}")
    data = json.loads(proc.stdout)
    return Scan(
        funcs=[_func(f) for f in data["funcs"]],
        refs=frozenset(data["refs"]),
        errors=list(data["errors"]),
    )


def _func(f: dict[str, Any]) -> Func:
    guards = tuple(Guard(**g) for g in f.pop("main_exit0_guards", None) or ())
    return Func(**f, main_exit0_guards=guards)
