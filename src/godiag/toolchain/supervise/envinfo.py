"""The supervised go command's effective `go env`, where each value came from, redacted.

A small stand-in for doctor's richer env snapshot (to be unified at merge): values
come from `go env -json`; `go env -changed -json` (Go 1.23+) tells which differ from
the defaults, and the process environment tells which of those were set there.
"""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

# Settings that may carry credentials, and the URL userinfo pattern inside them.
SECRET_KEYS = ("GOAUTH",)
USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^/@\s,|]+)@", re.I)


def redact(key: str, value: str) -> str:
    """Hide passwords in URLs and whole values of credential settings."""
    if key in SECRET_KEYS and value and value != "off":
        return "<redacted>"
    return USERINFO.sub(lambda m: f"{m.group('scheme')}<redacted>@", value)


def _go_env(go: str, flags: list[str], env: dict[str, str], cwd: str) -> dict[str, str] | None:
    try:
        out = subprocess.run(
            [go, "env", *flags, "-json"],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    try:
        data = json.loads(out.stdout or "{}")
    except json.JSONDecodeError:
        return None
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else None


def snapshot(go: str, env: dict[str, str], cwd: str) -> dict[str, Any]:
    """{"settings": {KEY: {"value", "source"}}, "error": str|None}."""
    values = _go_env(go, [], env, cwd)
    if values is None:
        return {"settings": {}, "error": "`go env -json` failed"}
    changed = _go_env(go, ["-changed"], env, cwd)
    settings: dict[str, dict[str, str]] = {}
    for key, value in sorted(values.items()):
        if key in env and env[key] == value:
            source = "environment"
        elif changed is not None and key in changed:
            source = "go env file"
        elif changed is None:
            source = "unknown"
        else:
            source = "default"
        settings[key] = {"value": redact(key, value), "source": source}
    return {"settings": settings, "error": None}
