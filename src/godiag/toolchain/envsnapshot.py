"""The go command's effective settings, and where each one comes from.

Public API (also used by `godiag run`):

- `snapshot(runner) -> EnvSnapshot`: runs `go env -json` once with the runner's
  environment and attributes each value to its source, in the go command's own order
  of precedence: the process environment (a non-empty variable), the GOENV file written
  by `go env -w`, `$GOROOT/go.env` (the distribution's defaults), else the built-in default.
- `EnvSnapshot.get(name)`, `.setting(name)`, `.to_json()`: values are redacted in
  `to_json()` and in `Setting.shown`; the raw value stays in `Setting.value` for checks.
- `redact_text(text)`: hides credentials in any string (URLs with user:password, tokens);
  `redact_tree(doc)` applies it to every string of a JSON-like document.
- `OFFICIAL_DEFAULTS` (model/goenv.py): values the official distribution ships in
  `$GOROOT/go.env`; a setting equal to these is never a finding.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from godiag.model.goenv import OFFICIAL_DEFAULTS, origin
from godiag.toolchain.gocmd import GoRunner

Source = Literal["environment", "goenv-file", "goroot-go.env", "default"]


# Settings whose whole value may be a secret-bearing command or token.
_SECRET_NAMES = {"GOAUTH"}
# Redaction runs on text that alerts and targets control, so every pass is linear in the
# text: the earlier patterns (`[\w-]*` before the key words, a scheme class before
# `://`) backtracked quadratically, 288 ms on one 2,048-character `a-a-a-...` value.
# Each pass finds a fixed anchor (a key word followed by = or :, or `://`) with a pattern
# of fixed-length alternatives, then walks outwards from it by hand.
_KEY_WORD = re.compile(r"(?i)(?:token|passw(?:or)?d|secret|api_?key)(?=[=:])")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")
_INFO_STOP = frozenset("@/,|")
_VALUE_STOP = frozenset(",&|")
REDACTED = "[redacted]"


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"  # what `\w` matches in a str pattern


def _redact_userinfo(text: str) -> str:
    """`scheme://user:pass@` -> `scheme://[redacted]@`."""
    out: list[str] = []
    done = 0  # text[:done] is settled
    at = text.find("://")
    while at != -1:
        start = at
        while start > done and text[start - 1] in _SCHEME_CHARS:
            start -= 1
        while start < at and not (text[start].isascii() and text[start].isalpha()):
            start += 1  # a scheme starts with a letter
        end = at + 3
        while end < len(text) and text[end] not in _INFO_STOP and not text[end].isspace():
            end += 1
        if start < at and end > at + 3 and end < len(text) and text[end] == "@":
            out.append(text[done:at] + "://" + REDACTED + "@")
            done = end + 1
            at = text.find("://", done)
        else:
            at = text.find("://", at + 1)
    out.append(text[done:])
    return "".join(out)


def _redact_key_values(text: str) -> str:
    """`…token=VALUE`, `password: VALUE`, … -> the key, the separator and [redacted]."""
    out: list[str] = []
    done = 0
    pos = 0
    n = len(text)
    while (m := _KEY_WORD.search(text, pos)) is not None:
        sep = m.end()  # at the = or :
        val = sep + 1
        while val < n and text[val].isspace():
            val += 1
        end = val
        while end < n and text[end] not in _VALUE_STOP and not text[end].isspace():
            end += 1
        if end == val:  # no value: not a pair
            pos = m.start() + 1
            continue
        key = m.start()
        while key > done and (_is_word(text[key - 1]) or text[key - 1] == "-"):
            key -= 1
        while not _is_word(text[key]):
            key += 1  # the key starts at a word boundary: leading dashes are not part of it
        out.append(text[done:key] + text[key:val] + REDACTED)
        done = pos = end
    out.append(text[done:])
    return "".join(out)


def redact_text(text: str) -> str:
    """Hide URL credentials, `token=…`-style pairs and bearer tokens in `text`.

    Linear in the length of `text` (see above): alert labels are redacted with it."""
    text = _redact_userinfo(text)
    text = _redact_key_values(text)
    return _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)


def redact_tree(value: Any) -> Any:
    """`value` with every string inside (lists, dict values) passed through redact_text."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, list):
        return [redact_tree(v) for v in value]
    if isinstance(value, dict):
        return {k: redact_tree(v) for k, v in value.items()}
    return value


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
        return origin(self.source, self.file, self.line)

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
