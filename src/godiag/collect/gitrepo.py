"""Ask git about a checkout: HEAD revision and uncommitted changes (raw text, no parsing)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path


def _git(dir: Path, *args: str) -> str | None:
    if shutil.which("git") is None:
        return None
    try:
        proc = subprocess.run(
            ["git", "-C", str(dir), *args],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout if proc.returncode == 0 else None


def head(dir: Path) -> str | None:
    """`git rev-parse HEAD` in dir, or None when dir is not a git checkout."""
    out = _git(dir, "rev-parse", "HEAD")
    return out.strip() if out else None


def status(dir: Path) -> str | None:
    """`git status --porcelain` (tracked files only); "" for a clean tree."""
    return _git(dir, "status", "--porcelain", "--untracked-files=no")
