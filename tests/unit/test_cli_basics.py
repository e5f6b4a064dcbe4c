from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from godiag import config, schemas
from godiag.errors import ConfigError


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "godiag", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_help_lists_commands() -> None:
    r = run("--help")
    assert r.returncode == 0
    assert "goroutines" in r.stdout and "schema" in r.stdout


def test_unknown_option_is_usage_error() -> None:
    r = run("schema", "--bogus")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr


def test_schema_unknown_name_one_line() -> None:
    r = run("schema", "nope")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "unknown schema" in r.stderr


def test_every_schema_is_valid_json_schema() -> None:
    import jsonschema

    assert "goroutines" in schemas.names()
    for name in schemas.names():
        jsonschema.Draft202012Validator.check_schema(schemas.load(name))


def test_config_check_valid(tmp_path: Path) -> None:
    p = tmp_path / "godiag.toml"
    p.write_text(
        '[[targets]]\nname = "api"\nurl = "http://127.0.0.1:6060"\n'
        '[targets.auth]\nbearer = "env:GODIAG_TEST_TOKEN"\n'
        '[store]\nbackend = "local"\n[prometheus]\nurl = "http://127.0.0.1:9090"\n'
    )
    import os

    env = {**os.environ, "GODIAG_TEST_TOKEN": "s3cret"}
    r = run("config", "check", "--config", str(p), "--format", "json", env=env)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    schemas.validate(doc)
    assert doc["targets"][0]["auth"] == "bearer"
    assert "s3cret" not in r.stdout


@pytest.mark.parametrize(
    ("text", "msg"),
    [
        ("[[targets]]\nurl = 'http://x:1'\n", "missing required key 'name'"),
        ("[[targets]]\nname='a'\nurl='ftp://x'\n", "not an http(s) base URL"),
        ("[stor]\n", "unknown key 'stor'"),
        (
            "[[targets]]\nname='a'\nurl='http://x:1'\n[targets.auth]\nbearer='env:NOPE_X_Y'\n",
            "NOPE_X_Y is not set",
        ),
        ("[store]\nbackend='fleet'\n", "needs s3.endpoint"),
        ("this is = = not toml", "not valid TOML"),
    ],
)
def test_config_errors_are_clear(tmp_path: Path, text: str, msg: str) -> None:
    p = tmp_path / "godiag.toml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=msg.replace("(", r"\(").replace(")", r"\)")):
        config.load(p)
    r = run("config", "check", "--config", str(p))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and msg in r.stderr


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_reader_that_goes_away_is_not_a_finding(fmt: str) -> None:
    # `godiag goroutines dump | head -1`: the pipe closes before the report is written;
    # exit 1 would read as "found something", a traceback as a crash
    dump = Path(__file__).parents[1] / "data" / "goroutines" / "prometheus-a.txt"
    proc = subprocess.Popen([sys.executable, "-m", "godiag", "goroutines", str(dump),
                             "--format", fmt],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, err
    assert "Traceback" not in err and "Exception ignored" not in err


def test_an_empty_dump_is_bad_input(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    r = run("goroutines", str(empty))
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip() == f"godiag: error: {empty}: empty input, not a goroutine dump"


def test_an_output_extension_the_command_cannot_write_is_a_usage_error(tmp_path: Path) -> None:
    """`-o flame.svg` on a command without svg output would get text in a .svg file."""
    dump = tmp_path / "g.txt"
    dump.write_text("goroutine 1 [running]:\nmain.main()\n\t/src/main.go:3 +0x1\n")
    out = tmp_path / "flame.svg"
    r = run("goroutines", str(dump), "-o", str(out))
    assert r.returncode == 2 and not out.exists()
    assert r.stderr.count("\n") == 1 and "does not write svg" in r.stderr
    # an extension that names no format stays text, and --format overrides the extension
    assert run("goroutines", str(dump), "-o", str(tmp_path / "g.out")).returncode == 0
    r = run("goroutines", str(dump), "--format", "text", "-o", str(out))
    assert r.returncode == 0 and out.read_text().strip()
