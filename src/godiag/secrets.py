"""`env:VAR` secret references of godiag.toml, resolved at load time.

Its own module because both config.py and pipeline/settings.py (the `[serve]` section that
config.py loads) resolve secrets: settings imports this, not config, so the two do not
import each other.
"""

from __future__ import annotations

import os
from typing import Any

from godiag.errors import ConfigError


def resolve_secret(value: Any, where: str) -> str:
    """`env:VAR` -> the variable's value; anything else must be a string and is kept."""
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected a string")
    if value.startswith("env:"):
        var = value[4:]
        if var not in os.environ:
            raise ConfigError(f"{where}: environment variable {var} is not set")
        return os.environ[var]
    return value
