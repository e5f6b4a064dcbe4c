"""Where the tests' data lives, and the guard that keeps every read inside the repository.

A user's clone has nothing beside it, so a test that reads `../anything` passes here and
fails there. `install_guard` records every file opened or listed by the test process
that lies beside the repository (under its parent folder, outside it) and is not one of
the per-user caches the toolchains keep there; `tests/conftest.py` fails the run on it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
CORPUS = DATA / "corpus"
DIAGNOSE = DATA / "diagnose"  # capture bundles of scenario programs, replayed offline

# Caches a user's home may hold beside a clone placed directly in it.
_HOME_CACHES = (".cache", "go", ".config", ".local", ".npm", ".pyenv", "sdk")

violations: list[str] = []


def _own_tmp() -> None:
    """A checkout inside the temp directory (a clone in /tmp) would have every temp file
    the tests write beside it: the tests then keep theirs inside the repository, under
    .cache/tmp (ignored by git), and the temp directory stays guarded like any other."""
    if REPO.is_relative_to(Path(tempfile.gettempdir()).resolve()):
        own = REPO / ".cache" / "tmp"
        own.mkdir(parents=True, exist_ok=True)
        own.chmod(0o755)  # servers started as another user (postgres) walk through it
        os.environ["TMPDIR"] = str(own)
        tempfile.tempdir = None  # recomputed from TMPDIR


_own_tmp()


def _allowed_roots() -> list[Path]:
    roots = [Path(tempfile.gettempdir()), Path(sys.prefix), Path(sys.base_prefix)]
    home = Path.home()
    roots += [home / c for c in _HOME_CACHES]
    for var in ("GOPATH", "GOCACHE", "GOMODCACHE", "GOROOT", "XDG_CACHE_HOME"):
        if os.environ.get(var):
            roots.append(Path(os.environ[var]))
    # A root that holds the repository itself would excuse everything beside it.
    return [r.resolve() for r in roots if not REPO.is_relative_to(r.resolve())]


_ALLOWED = _allowed_roots()
# A checkout at the top of the file system has everything beside it: nothing to guard.
_AT_ROOT = REPO.parent == Path(REPO.anchor)


def outside_repo(path: str | bytes | os.PathLike[str] | int) -> bool:
    """True for a path beside the repository: under its parent, not in it, not a cache."""
    if isinstance(path, int):  # a file descriptor, already open
        return False
    raw = os.fsdecode(path)
    p = Path(raw) if os.path.isabs(raw) else Path.cwd() / raw
    p = Path(os.path.normpath(p))
    if p.is_relative_to(REPO) or not p.is_relative_to(REPO.parent) or _AT_ROOT:
        return False
    return not any(p.is_relative_to(r) for r in _ALLOWED)


def _hook(event: str, args: tuple[object, ...]) -> None:
    if event in ("open", "os.listdir", "os.scandir") and args:
        path = args[0]
        if isinstance(path, (str, bytes, os.PathLike)) and outside_repo(path):
            violations.append(f"{event} {os.fsdecode(path)}")


_installed = False


def install_guard() -> None:
    global _installed
    if not _installed:
        sys.addaudithook(_hook)
        _installed = True
