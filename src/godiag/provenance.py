"""Which godiag made a document or a capture bundle: `tool()`, one definition for all.

The version is the installed distribution's (importlib.metadata), the one `pip` and
`godiag --version` name. The commit is given only when the installer recorded it: a
`pip install git+URL@REV` writes the resolved commit into the distribution's
direct_url.json (PEP 610). No `git` is run: an installed wheel has no repository, and a
checkout's HEAD need not be what was installed from it.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import metadata
from typing import Any

NAME = "godiag"


@cache
def tool() -> dict[str, str]:
    """`{"name": "godiag", "version": V}`, plus `commit` when the install recorded one."""
    try:
        dist = metadata.distribution(NAME)
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        from godiag import __version__

        return {"name": NAME, "version": __version__}
    out = {"name": NAME, "version": dist.version}
    commit = _commit(dist.read_text("direct_url.json"))
    if commit:
        out["commit"] = commit
    return out


def _commit(direct_url: str | None) -> str | None:
    """The VCS commit of a PEP 610 direct_url.json, or None (not a VCS install, or unreadable)."""
    if not direct_url:
        return None
    try:
        info: Any = json.loads(direct_url)
    except ValueError:
        return None
    vcs = info.get("vcs_info") if isinstance(info, dict) else None
    commit = vcs.get("commit_id") if isinstance(vcs, dict) else None
    return commit if isinstance(commit, str) and commit else None


def label(t: dict[str, Any] | None) -> str:
    """`godiag 0.1.0` (`godiag 0.1.0 (abc1234def56)` with a commit); `an unknown version`
    when `t` is None (a bundle written before the field)."""
    if not t:
        return "an unknown version"
    commit = f" ({str(t['commit'])[:12]})" if t.get("commit") else ""
    return f"{t.get('name') or NAME} {t.get('version')}{commit}"


def same(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """The same godiag: equal versions, and equal commits when both are known."""
    if not a or not b or a.get("version") != b.get("version"):
        return False
    return not (a.get("commit") and b.get("commit") and a["commit"] != b["commit"])


def replay_line(recorded: dict[str, Any] | None) -> str | None:
    """What a replay says when the bundle was recorded by another godiag (None: the same)."""
    now = tool()
    if same(recorded, now):
        return None
    return (
        f"recorded by {label(recorded)}, replayed by {label(now)}: the analysis may "
        "differ from the verdict given when it was recorded"
    )
