"""The go command's effective settings, and where each one comes from.

Public API (also used by `godiag run`):

- `snapshot(runner) -> EnvSnapshot`: runs `go env -json` once with the runner's
  environment and attributes each value to its source, in the go command's own order
  of precedence: the process environment (a non-empty variable), the GOENV file written
  by `go env -w`, `$GOROOT/go.env` (the distribution's defaults), else the built-in default.
- `EnvSnapshot.get(name)`, `.setting(name)`, `.to_json()`: values are redacted in
  `to_json()` and in `Setting.shown`; the raw value stays in `Setting.value` for checks.
- `redact_text(text)`: hides credentials in any string (URLs with user:password, tokens).
- `OFFICIAL_DEFAULTS`: values the official distribution ships in `$GOROOT/go.env`;
  a setting equal to these is never a finding.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from godiag.toolchain.gocmd import GoRunner

Source = Literal["environment", "goenv-file", "goroot-go.env", "default"]

OFFICIAL_DEFAULTS: dict[str, str] = {
    "GOPROXY": "https://proxy.golang.org,direct",
    "GOSUMDB": "sum.golang.org",
    "GOTOOLCHAIN": "auto",
}

# Settings whose whole value may be a secret-bearing command or token.
_SECRET_NAMES = {"GOAUTH"}
_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<info>[^@/\s,|]+)@")
_TOKEN_KV = re.compile(
    r"(?i)\b(?P<k>[\w-]*(?:token|password|passwd|secret|apikey|api_key))(?P<sep>[=:]\s*)(?P<v>[^\s,&|]+)"
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
REDACTED = "[redacted]"


def redact_text(text: str) -> str:
    """Hide URL credentials, `token=…`-style pairs and bearer tokens in `text`."""
    text = _URL_USERINFO.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", text)
    text = _TOKEN_KV.sub(lambda m: f"{m.group('k')}{m.group('sep')}{REDACTED}", text)
    return _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)


def redact_value(name: str, value: str) -> str:
    """A setting's value safe to print. GOAUTH keeps only its mode words (netrc, git, off)."""
    if name in _SECRET_NAMES and value:
        parts = []
        for cmd in value.split(";"):
            words = cmd.split()
            if words and words[0] in {"netrc", "off", "git"}:
                parts.append(words[0] + (f" {REDACTED}" if len(words) > 1 else ""))
            elif words:
                parts.append(REDACTED)
        return ";".join(parts)
    return redact_text(value)


@dataclass(frozen=True)
class Setting:
    """One effective go setting; `file`/`line` say where a file-based value was written."""

    name: str
    value: str
    source: Source
    file: str | None = None
    line: int | None = None

    @property
    def shown(self) -> str:
        return redact_value(self.name, self.value)

    @property
    def where(self) -> str:
        """Human-readable origin, e.g. `GOENV file /root/.config/go/env:3`."""
        if self.source == "environment":
            return "process environment"
        if self.source == "default":
            return "built-in default"
        label = "GOENV file" if self.source == "goenv-file" else "$GOROOT/go.env"
        return f"{label} {self.file}:{self.line}"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.shown,
            "source": self.source,
            "file": self.file,
            "line": self.line,
        }


@dataclass(frozen=True)
class EnvFileLine:
    value: str
    line: int


def read_env_file(path: Path) -> dict[str, EnvFileLine]:
    """Parse a `KEY=VALUE` file the way the go command does (comments, last one wins)."""
    out: dict[str, EnvFileLine] = {}
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return out
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        out[key.strip()] = EnvFileLine(value.strip(), n)
    return out


@dataclass(frozen=True)
class EnvSnapshot:
    """Every `go env` setting with its source; built by `snapshot()`."""

    settings: dict[str, Setting]
    goenv_file: str | None
    goroot_env_file: str | None

    def get(self, name: str, default: str = "") -> str:
        s = self.settings.get(name)
        return s.value if s is not None else default

    def setting(self, name: str) -> Setting:
        return self.settings.get(name) or Setting(name, "", "default")

    def is_official_default(self, name: str) -> bool:
        """True when the value is what the official distribution would use anyway."""
        s = self.setting(name)
        return s.source == "default" or OFFICIAL_DEFAULTS.get(name) == s.value

    def from_files(self) -> list[Setting]:
        """Settings whose effective value was read from the GOENV file or go.env."""
        return [s for s in self.settings.values() if s.source in ("goenv-file", "goroot-go.env")]

    def to_json(self) -> dict[str, Any]:
        return {
            "goenv_file": self.goenv_file,
            "goroot_env_file": self.goroot_env_file,
            "settings": [self.settings[k].to_json() for k in sorted(self.settings)],
        }


def attribute(
    values: dict[str, str],
    process_env: dict[str, str],
    goenv: dict[str, EnvFileLine],
    goroot_env: dict[str, EnvFileLine],
    goenv_path: str | None,
    goroot_env_path: str | None,
) -> dict[str, Setting]:
    """Pure part of `snapshot`: decide the source of each effective value."""
    out: dict[str, Setting] = {}
    for name, value in values.items():
        if process_env.get(name):
            out[name] = Setting(name, value, "environment")
        elif name in goenv and goenv[name].value == value:
            out[name] = Setting(name, value, "goenv-file", goenv_path, goenv[name].line)
        elif name in goroot_env and goroot_env[name].value == value:
            out[name] = Setting(
                name, value, "goroot-go.env", goroot_env_path, goroot_env[name].line
            )
        else:
            out[name] = Setting(name, value, "default")
    return out


# The probe runs with GOTOOLCHAIN=local so that it never switches (or downloads) a
# toolchain; these settings are then re-read from their sources instead.
PROBE_OVERRIDES = {"GOTOOLCHAIN": "local"}
_BUILTIN = {"GOTOOLCHAIN": "auto"}


def probe(runner: GoRunner) -> dict[str, str]:
    """Raw `go env -json` of the local go (no toolchain switch, no download).

    A broken GOCACHE makes the full `go env` fail (it computes cgo flags through the
    cache); the probe then borrows a throw-away cache and reports the user's value.
    """
    from godiag.errors import GoCommandError

    try:
        return runner.env_json_over(PROBE_OVERRIDES)
    except GoCommandError as exc:
        if "GOCACHE" not in str(exc):
            raise
    import tempfile

    with tempfile.TemporaryDirectory(prefix="godiag-gocache-") as tmp:
        vals = runner.env_json_over({**PROBE_OVERRIDES, "GOCACHE": tmp})
    vals["GOCACHE"] = runner.env.get("GOCACHE", "")
    return vals


def snapshot(runner: GoRunner, values: dict[str, str] | None = None) -> EnvSnapshot:
    """Effective settings of the go command run by `runner`.

    `values` is the output of `probe(runner)` when the caller already has it. GOVERSION and
    GOROOT describe the `go` on PATH; the toolchain a GOTOOLCHAIN switch would select is
    the caller's business (doctor's toolchain-switch check asks for it separately).
    """
    vals = dict(values if values is not None else probe(runner))
    goenv_path = vals.get("GOENV") or None
    if goenv_path == "off":
        goenv_path = None
    goenv = read_env_file(Path(goenv_path)) if goenv_path else {}
    goroot = vals.get("GOROOT", "")
    goroot_env_path = os.path.join(goroot, "go.env") if goroot else None
    goroot_env = read_env_file(Path(goroot_env_path)) if goroot_env_path else {}
    if goroot_env_path and not goroot_env:
        goroot_env_path = None
    for name in PROBE_OVERRIDES:
        if runner.env.get(name):
            vals[name] = runner.env[name]
        elif name in goenv:
            vals[name] = goenv[name].value
        elif name in goroot_env:
            vals[name] = goroot_env[name].value
        else:
            vals[name] = _BUILTIN[name]
    settings = attribute(vals, runner.env, goenv, goroot_env, goenv_path, goroot_env_path)
    return EnvSnapshot(settings, goenv_path, goroot_env_path)
