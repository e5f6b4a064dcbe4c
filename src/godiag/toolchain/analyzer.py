"""Build and run leakcheck, godiag's static leak analyzer written in Go.

The analyzer's source ships in the package data (``godiag/_go/analyzer``) with its
one dependency, golang.org/x/tools, vendored: the first use needs the user's `go`
but no network. The binary is cached per (source hash, go version) by
toolchain.gobuild, so a new godiag or a new toolchain rebuilds it and nothing else does.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

from godiag.errors import GoCommandError, ParseError, UsageError
from godiag.model.analyzers import CATALOG, Rule
from godiag.model.findings import Evidence, Finding, Location, Severity
from godiag.toolchain.gobuild import build_shipped, find_go

# The analyzer module's go line; older toolchains refuse to build it under GOTOOLCHAIN=local.
MIN_GO_MINOR = 22
COMMAND = "leakcheck -json ./..."


def source_dir() -> Path:
    """The analyzer module inside the installed package."""
    path = Path(str(resources.files("godiag"))) / "_go" / "analyzer"
    if not (path / "go.mod").is_file():
        raise GoCommandError(f"the analyzer sources are missing from the installation ({path})")
    return path


# Everything that could reach the network or switch toolchains is pinned off.
BUILD_ENV = {
    "GOFLAGS": "-mod=vendor -buildvcs=false",
    "GOPROXY": "off",
    "GOWORK": "off",
    "GOTOOLCHAIN": "local",
    "CGO_ENABLED": "0",
}


def go_version(go: str) -> str:
    """`go env GOVERSION` (e.g. go1.22.5), without letting GOTOOLCHAIN switch toolchains."""
    try:
        out = subprocess.run(
            [go, "env", "GOVERSION"],
            capture_output=True,
            text=True,
            env={**os.environ, **BUILD_ENV},
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GoCommandError(f"`go env GOVERSION` failed: {exc}") from exc
    version = out.stdout.strip()
    if out.returncode != 0 or not version:
        raise GoCommandError(f"`go env GOVERSION` failed: {out.stderr.strip() or 'no output'}")
    return version


def _minor(version: str) -> int | None:
    m = re.match(r"go1\.(\d+)", version)
    return int(m.group(1)) if m else None


def ensure_built() -> Path:
    """Path of the leakcheck binary, built (offline, from the vendored sources) when the
    sources or the go version changed since the last build."""
    version = go_version(find_go())
    minor = _minor(version)
    if minor is not None and minor < MIN_GO_MINOR:
        raise GoCommandError(
            f"godiag analyze needs Go 1.{MIN_GO_MINOR} or newer to build its analyzer "
            f"(the go on PATH is {version})"
        )
    return build_shipped("analyzer", extra_env=BUILD_ENV, timeout=900)


def module_root(directory: Path) -> Path:
    """DIR must contain (or sit inside) a Go module; returns DIR resolved."""
    if not directory.is_dir():
        raise UsageError(f"{directory}: not a directory")
    proc = subprocess.run(
        [find_go(), "env", "GOMOD"],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    gomod = proc.stdout.strip()
    if proc.returncode != 0 or gomod in ("", os.devnull):
        raise UsageError(f"{directory}: not a Go module (no go.mod here or above)")
    return directory.resolve()


def run(
    directory: Path, patterns: tuple[str, ...] = ("./...",), *, tests: bool = True
) -> list[Finding]:
    """Analyze the packages of the module in `directory` (and their tests) into findings."""
    root = module_root(directory)
    binary = ensure_built()
    try:
        proc = subprocess.run(
            [str(binary), "-json", f"-test={str(tests).lower()}", *patterns],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise GoCommandError(f"the analyzer did not finish on {root} within 30 minutes") from exc
    return parse_output(proc.stdout, proc.stderr, proc.returncode, root)


_POSN = re.compile(r"^(?P<file>.+?):(?P<line>\d+)(?::(?P<col>\d+))?$")


def parse_output(stdout: str, stderr: str, returncode: int, root: Path) -> list[Finding]:
    """Turn leakcheck's -json document into findings (deduplicated, sorted)."""
    if not stdout.strip():
        first = next((ln for ln in stderr.splitlines() if ln.strip()), "")
        raise GoCommandError(
            f"the analyzer could not load the packages (exit {returncode}): {first or 'no output'}"
        )
    try:
        doc = json.loads(stdout)
    except json.JSONDecodeError as exc:
        raise ParseError("analyzer output", exc.msg, line=exc.lineno) from exc
    if not isinstance(doc, dict):
        raise ParseError("analyzer output", "expected a JSON object of packages")
    errors: list[str] = []
    seen: set[tuple[str, str, int, str]] = set()
    findings: list[Finding] = []
    for pkg, by_analyzer in doc.items():
        if not isinstance(by_analyzer, dict):
            raise ParseError("analyzer output", f"package {pkg!r}: expected an object")
        for name, result in by_analyzer.items():
            if isinstance(result, dict) and "error" in result:
                errors.append(f"{pkg}: {result['error']}")
                continue
            if not isinstance(result, list):
                raise ParseError("analyzer output", f"{pkg}/{name}: expected a list")
            for diag in result:
                finding = _finding(name, diag, root)
                key = (finding.id, *_where(finding), finding.detail)
                if key not in seen:
                    seen.add(key)
                    findings.append(finding)
    if errors:
        lines = (ln.removeprefix("-: ").strip() for ln in stderr.splitlines())
        detail = next((ln for ln in lines if ln and not ln.startswith("#")), errors[0])
        # --no-tests helps only when the error is in a test file; for any other file it
        # sent users to a flag that changes nothing (x/tools on a newer go).
        hint = " (in a test file: try --no-tests)" if "_test.go:" in detail else ""
        raise GoCommandError(f"packages of {root} do not load: {detail}{hint}")
    findings.sort(key=lambda f: (*_where(f), f.id))
    return findings


def _where(f: Finding) -> tuple[str, int]:
    if f.location is None:
        return ("", 0)
    return (f.location.file, f.location.line or 0)


def _finding(analyzer: str, diag: Any, root: Path) -> Finding:
    if not isinstance(diag, dict) or not isinstance(diag.get("posn"), str):
        raise ParseError("analyzer output", f"{analyzer}: diagnostic without a position")
    fid = analyzer.replace("_", "-")
    rule = CATALOG.get(fid, Rule(Severity.WARNING, analyzer, ""))
    m = _POSN.match(diag["posn"])
    if m is None:
        raise ParseError("analyzer output", f"bad position {diag['posn']!r}")
    path = Path(m.group("file"))
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        rel = path.as_posix()
    line = int(m.group("line"))
    message = str(diag.get("message", ""))
    return Finding(
        id=fid,
        severity=rule.severity,
        title=rule.title,
        detail=message,
        evidence=(
            Evidence(command=COMMAND, output=f"{rel}:{line}: {message}", file=rel, line=line),
        ),
        location=Location(rel, line),
        fix=rule.fix,
    )
