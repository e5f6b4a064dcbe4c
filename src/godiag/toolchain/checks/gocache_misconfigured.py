"""gocache-misconfigured: the build cache is off, relative, unwritable or nearly full."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from godiag.model.findings import Evidence, Finding, Severity
from godiag.toolchain.checks.base import ENV_SECTION, Check, Context, finding

MIN_FREE = 1 << 30  # 1 GiB: a cold build of a mid-size module writes hundreds of MB


def _problem(value: str) -> tuple[str, str] | None:
    if value == "off":
        return "GOCACHE=off", "the build cache is required since Go 1.12: builds fail"
    if not os.path.isabs(value):
        return f"GOCACHE={value} is not an absolute path", "the go command refuses to use it"
    p = Path(value)
    if p.exists() and not p.is_dir():
        return f"GOCACHE={value} is not a directory", "nothing can be cached"
    probe = p
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        return f"GOCACHE={value} is not writable", "every build recompiles everything"
    if p.exists() and not os.access(p, os.W_OK | os.X_OK):
        return f"GOCACHE={value} is not writable", "every build recompiles everything"
    usage = shutil.disk_usage(probe)
    if usage.free < MIN_FREE:
        return (
            f"GOCACHE={value} is on a nearly full disk ({usage.free >> 20} MiB free)",
            "builds fail with `no space left on device` or thrash the cache",
        )
    return None


def run(ctx: Context) -> list[Finding]:
    s = ctx.env.setting("GOCACHE")
    problem = _problem(s.value)
    if problem is None:
        return []
    title, why = problem
    return [
        finding(
            CHECK,
            title,
            detail=f"{title} ({s.where}): {why}.",
            evidence=[Evidence(command="go env GOCACHE", output=f"{s.value} ({s.where})")],
            fix="Unset GOCACHE (default: the user cache directory) or point it to an "
            "absolute, writable directory with a few GB free.",
        )
    ]


CHECK = Check(
    "gocache-misconfigured",
    ENV_SECTION,
    Severity.WARNING,
    "GOCACHE off, relative, unwritable, or on a nearly full disk.",
    run,
)
