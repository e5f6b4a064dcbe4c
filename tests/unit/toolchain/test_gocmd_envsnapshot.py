"""JSON stream decoding, version parsing, source attribution and redaction."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from godiag.errors import GoCommandError
from godiag.toolchain.envsnapshot import (
    EnvFileLine,
    attribute,
    read_env_file,
    redact_text,
    redact_value,
)
from godiag.toolchain.gocmd import GoRunner, decode_json_stream, parse_version


def test_decode_concatenated_objects() -> None:
    text = '{"A": 1}\n{"B": {"C": [1, 2]}}\n\n'
    assert decode_json_stream(text) == [{"A": 1}, {"B": {"C": [1, 2]}}]
    assert decode_json_stream("") == []


@given(st.lists(st.dictionaries(st.text(max_size=5), st.integers(), max_size=3), max_size=5))
def test_decode_roundtrip(objs: list[dict[str, int]]) -> None:
    text = "".join(json.dumps(o, indent="\t") + "\n" for o in objs)
    assert decode_json_stream(text) == objs


@given(st.text(max_size=60))
def test_decode_garbage_is_typed_error(text: str) -> None:
    with contextlib.suppress(GoCommandError):
        decode_json_stream(text)


def test_parse_version() -> None:
    assert parse_version("go1.22.3") == (1, 22, 3)
    assert parse_version("1.21") == (1, 21, 0)
    assert parse_version("devel") is None


def test_missing_go_is_gocommand_error(tmp_path: Path) -> None:
    with pytest.raises(GoCommandError, match="not found on PATH"):
        GoRunner(tmp_path, env={"PATH": str(tmp_path)}).run("version")


def test_timeout_is_gocommand_error(tmp_path: Path) -> None:
    with pytest.raises(GoCommandError, match="did not finish"):
        GoRunner(tmp_path, go="/bin/sleep", timeout=0.2).run("5")


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("https://alice:s3cr3t@goproxy.corp.example,direct", "s3cr3t"),
        ("https://ghp_abcdefgh12345@proxy.example", "ghp_abcdefgh12345"),
        ("url?token=abc123def", "abc123def"),
        ("Authorization: Bearer abcdefghijklmnop", "abcdefghijklmnop"),
    ],
)
def test_redact_text(text: str, secret: str) -> None:
    out = redact_text(text)
    assert secret not in out and "[redacted]" in out


def test_redact_goauth_keeps_modes() -> None:
    assert redact_value("GOAUTH", "netrc") == "netrc"
    assert "hunter2" not in redact_value("GOAUTH", "git /src;my-helper --password hunter2")


def test_attribute_precedence(tmp_path: Path) -> None:
    f = tmp_path / "env"
    f.write_text("# comment\nGOFLAGS=-mod=mod\nGOPRIVATE=a\n")
    goenv = read_env_file(f)
    assert goenv["GOFLAGS"] == EnvFileLine("-mod=mod", 2)
    goroot = {"GOTOOLCHAIN": EnvFileLine("local", 3)}
    vals = {"GOFLAGS": "-mod=mod", "GOPRIVATE": "b", "GOTOOLCHAIN": "local", "GOOS": "linux"}
    s = attribute(vals, {"GOPRIVATE": "b", "GOOS": ""}, goenv, goroot, str(f), "/g/go.env")
    assert (s["GOFLAGS"].source, s["GOFLAGS"].line) == ("goenv-file", 2)
    assert s["GOPRIVATE"].source == "environment"
    assert s["GOTOOLCHAIN"].source == "goroot-go.env" and s["GOTOOLCHAIN"].line == 3
    assert s["GOOS"].source == "default"  # an empty variable counts as unset
