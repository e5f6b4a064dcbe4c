"""Facts about go settings that both the env snapshot (toolchain/envsnapshot.py) and the
views of a run document need: what the official distribution ships, and how to name the
origin of a value."""

from __future__ import annotations

# Values the official distribution ships in `$GOROOT/go.env`; a setting equal to these
# is never a finding.
OFFICIAL_DEFAULTS: dict[str, str] = {
    "GOPROXY": "https://proxy.golang.org,direct",
    "GOSUMDB": "sum.golang.org",
    "GOTOOLCHAIN": "auto",
}


def origin(source: str, file: str | None, line: int | None) -> str:
    """Human-readable origin of a setting, e.g. `GOENV file /root/.config/go/env:3`."""
    if source == "environment":
        return "process environment"
    if source == "default":
        return "built-in default"
    label = "GOENV file" if source == "goenv-file" else "$GOROOT/go.env"
    return f"{label} {file}:{line}"
