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
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
CORPUS = DATA / "corpus"
DIAGNOSE = DATA / "diagnose"  # capture bundles of scenario programs, replayed offline

# Caches a user's home may hold beside a clone placed directly in it.
_HOME_CACHES = (".cache", "go", ".config", ".local", ".npm", ".pyenv", "sdk")

violations: list[str] = []


def _allowed_roots() -> list[Path]:
    roots = [Path(tempfile.gettempdir()), Path(sys.prefix), Path(sys.base_prefix)]
    home = Path.home()
    roots += [home / c for c in _HOME_CACHES]
    for var in ("GOPATH", "GOCACHE", "GOMODCACHE", "GOROOT", "XDG_CACHE_HOME"):
        if os.environ.get(var):
            roots.append(Path(os.environ[var]))
    # A root that holds the repository itself would excuse everything beside it
    # (a checkout in the temp directory: see _made_by_this_run).
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
    if any(p.is_relative_to(r) for r in _ALLOWED):
        return False
    return not _made_by_this_run(p)


# When the checkout sits in the temp directory itself (a clone in /tmp), every temp file
# the tests make lies beside it. What was there before the run is what a test must not
# read; what appeared during it (temp dirs, go-build*, pytest's own root) is the run's.
_STARTED = time.time()
_PYTEST_ROOT = "pytest-of-"
_fresh: dict[str, bool] = {}


def _made_by_this_run(p: Path) -> bool:
    top = p.relative_to(REPO.parent).parts[0] if p != REPO.parent else ""
    if not top:
        return False
    if top.startswith(_PYTEST_ROOT):  # kept between runs, holds only pytest's tmp_path dirs
        return True
    if top not in _fresh:
        try:
            st = os.stat(REPO.parent / top, follow_symlinks=False)
        except OSError:
            return False  # nothing there: a read of it is a read beside the checkout
        _fresh[top] = st.st_ctime >= _STARTED - 1
    return _fresh[top]


def _writes(args: tuple[object, ...]) -> bool:
    """An `open` audit event that creates or writes (a temp file): not a read."""
    mode = args[1] if len(args) > 1 else None
    flags = args[2] if len(args) > 2 else None
    if isinstance(mode, str) and any(c in mode for c in "wax+"):
        return True
    return isinstance(flags, int) and bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))


def _hook(event: str, args: tuple[object, ...]) -> None:
    if event == "open" and _writes(args):
        return
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
