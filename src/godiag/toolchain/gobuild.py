"""Build Go programs shipped inside the package (demo service, analyzer) with the user's go.

Sources are copied out of the installed package into a cache directory first: the
package may sit in a read-only site-packages, and the go command wants a plain tree.
Binaries are cached by a hash of the sources and the go version.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from godiag.errors import GoCommandError

INSTALL_GO = (
    "the go command is not on PATH: install Go 1.21 or newer "
    "(https://go.dev/dl/ or your package manager) and retry"
)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "godiag"


def find_go() -> str:
    go = shutil.which("go")
    if go is None:
        raise GoCommandError(INSTALL_GO)
    return go


def go_version(go: str) -> str:
    try:
        out = subprocess.run(
            [go, "version"], capture_output=True, text=True, timeout=60, check=True
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise GoCommandError(f"`go version` failed: {exc}") from None
    return out.stdout.strip()


def _walk(node: Traversable, rel: str = "") -> list[tuple[str, Traversable]]:
    files: list[tuple[str, Traversable]] = []
    for child in node.iterdir():
        path = f"{rel}/{child.name}" if rel else child.name
        if child.is_dir():
            files.extend(_walk(child, path))
        elif child.name != "__init__.py":
            files.append((path, child))
    return sorted(files, key=lambda t: t[0])


def _sources(src: Path, blobs: list[tuple[str, bytes]]) -> Path:
    """The sources at `src`, written once and whole: a process that finds the folder finds
    every file in it. They are written beside it and renamed into place (another process
    rewriting files under a running `go build` made that build fail)."""
    if src.is_dir():
        return src
    src.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=src.name + ".", dir=src.parent))
    for rel, data in blobs:
        dest = work / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
    try:
        work.rename(src)
    except OSError:  # another process put the same sources there first
        shutil.rmtree(work, ignore_errors=True)
    return src


def build_shipped(
    name: str, *, extra_env: dict[str, str] | None = None, timeout: float = 600
) -> Path:
    """Build godiag/_go/NAME (a main package) and return the cached binary's path."""
    go = find_go()
    version = go_version(go)
    files = _walk(resources.files("godiag") / "_go" / name)
    if not files:
        raise GoCommandError(f"the package has no Go sources for {name!r} (broken install?)")
    h = hashlib.sha256(version.encode())
    blobs = []
    for rel, node in files:
        data = node.read_bytes()
        blobs.append((rel, data))
        h.update(rel.encode() + b"\0" + data)
    key = h.hexdigest()[:16]
    out = cache_dir() / "bin" / f"{name}-{key}"
    if out.exists():
        return out
    src = _sources(cache_dir() / "src" / f"{name}-{key}", blobs)
    out.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GOWORK": "off", "GOFLAGS": "-buildvcs=false", **(extra_env or {})}
    # Several godiag processes may build at once (parallel `analyze` runs on a fresh
    # install): each builds to its own file, and the last rename wins with equal bytes.
    tmp = out.with_name(f"{out.name}.{os.getpid()}.tmp")
    try:
        proc = subprocess.run(
            [go, "build", "-o", str(tmp), "."],
            cwd=src,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise GoCommandError(f"go build of {name} did not finish in {timeout:g}s") from None
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise GoCommandError(f"go build of {name} failed: {last}")
    tmp.replace(out)
    return out
