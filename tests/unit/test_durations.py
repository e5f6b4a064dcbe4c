"""One duration notation for every command and for godiag.toml (godiag.durations)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import click
import pytest
from hypothesis import given
from hypothesis import strategies as st

from godiag.cli import COMMANDS
from godiag.cli.common import Duration
from godiag.durations import format_duration, parse_duration
from godiag.errors import ConfigError, UsageError
from godiag.pipeline.settings import parse_serve


@pytest.mark.parametrize(
    ("text", "secs"),
    [
        ("500ms", 0.5),
        ("5s", 5.0),
        ("1m30s", 90.0),
        ("1h", 3600.0),
        ("1.5s", 1.5),
        ("1h2m3.5s", 3723.5),
        ("2m", 120.0),
        (".5s", 0.5),
        ("250us", 250e-6),
        ("250µs", 250e-6),
        ("7ns", 7e-9),
        ("+3s", 3.0),
        ("0", 0.0),
        ("90", 90.0),
        ("2.5", 2.5),
        (" 10s ", 10.0),
    ],
)
def test_go_notation_and_bare_seconds(text: str, secs: float) -> None:
    assert parse_duration(text, "--x") == pytest.approx(secs, rel=1e-12)


@pytest.mark.parametrize(
    "text", ["", "soon", "2x", "1m junk", "5 s", "s", "1e3", "inf", "nan", "1.2.3s", "1hm"]
)
def test_not_a_duration_is_one_line_naming_the_option(text: str) -> None:
    with pytest.raises(UsageError) as exc:
        parse_duration(text, "--window")
    msg = str(exc.value)
    assert msg.startswith("--window: ") and "\n" not in msg and "e.g. 500ms" in msg


def test_negative_and_bare_numbers_where_not_allowed() -> None:
    with pytest.raises(UsageError, match="negative"):
        parse_duration("-1s", "--stall")
    with pytest.raises(ConfigError, match=r"serve\.x: '90' is not a duration"):
        parse_duration("90", "serve.x", bare_seconds=False, error=ConfigError)


@pytest.mark.parametrize(
    ("secs", "text"),
    [
        (0, "0s"),
        (0.5, "500ms"),
        (0.0015, "1.5ms"),
        (1.5, "1.5s"),
        (90, "1m30s"),
        (3600, "1h0m0s"),
        (3723.5, "1h2m3.5s"),
        (1e-9, "1ns"),
    ],
)
def test_format_is_go_notation(secs: float, text: str) -> None:
    assert format_duration(secs) == text


@given(st.integers(min_value=0, max_value=10**15))
def test_format_then_parse_round_trips(ns: int) -> None:
    secs = ns / 1e9
    text = format_duration(secs)
    back = parse_duration(text, "--x", bare_seconds=False)
    assert back == pytest.approx(secs, rel=1e-12, abs=1e-12)
    assert format_duration(back) == text


def _duration_options() -> dict[str, list[click.Option]]:
    """Every command option whose help or name says it is a time, by command."""
    out: dict[str, list[click.Option]] = {}
    for name, (module, attr, _) in COMMANDS.items():
        cmd = getattr(importlib.import_module(module), attr)
        for p in getattr(cmd, "params", []):
            if isinstance(p, click.Option) and p.name in (
                "window", "duration", "timeout", "stall", "cpu", "deadline", "seconds",
            ):  # fmt: skip
                out.setdefault(name, []).append(p)
    return out


def test_every_time_option_of_every_command_parses_through_one_function() -> None:
    found = _duration_options()
    assert {"diagnose", "trace", "run", "check", "profile", "demo"} <= set(found)
    for name, opts in found.items():
        for p in opts:
            assert isinstance(p.type, Duration), f"godiag {name} {p.opts[0]}"


@pytest.mark.parametrize(
    ("command", "option", "text", "secs"),
    [
        ("diagnose", "--window", "1h", 3600.0),  # refused before
        ("trace", "--duration", "1m30s", 90.0),  # refused before
        ("run", "--stall", "90", 90.0),
        ("check", "--window", "1.5s", 1.5),
        ("profile", "--seconds", "10s", 10.0),
        ("demo", "--window", "2s", 2.0),
    ],
)
def test_commands_take_the_same_notation(command: str, option: str, text: str, secs: float) -> None:
    opt = next(p for p in _duration_options()[command] if option in p.opts)
    assert opt.type.convert(text, opt, None) == secs


@pytest.mark.parametrize(
    ("command", "option", "text", "says"),
    [
        ("diagnose", "--window", "500ms", "--window: at least 1s"),
        ("trace", "--duration", "0.5s", "--duration: at least 1s"),
        ("demo", "--window", "2m", "--window: at most 1m0s"),
        ("check", "--window", "0", "--window: at least 1ms"),
    ],
)
def test_each_command_keeps_its_bounds(command: str, option: str, text: str, says: str) -> None:
    opt = next(p for p in _duration_options()[command] if option in p.opts)
    with pytest.raises(UsageError, match=says):
        opt.type.convert(text, opt, None)


def test_a_bad_duration_is_one_line_and_exit_2() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "godiag", "trace", "http://127.0.0.1:9", "--duration", "1x"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().splitlines() == [
        "godiag: error: --duration: '1x' is not a duration "
        "(e.g. 500ms, 5s, 1m30s, 1h or a number of seconds)"
    ]


def test_serve_settings_take_numbers_or_durations() -> None:
    s = parse_serve(
        {
            "window_seconds": "1m30s",
            "lease_seconds": 45,
            "routes": [{"options": {"timeout_seconds": "500ms", "max_capture_mb": 8}}],
            "watch": {"interval_seconds": "1m"},
        },
        "serve",
    )
    assert (s.window_seconds, s.lease_seconds, s.watch_interval) == (90.0, 45.0, 60.0)
    assert s.routes[0].options == {"timeout_seconds": 0.5, "max_capture_mb": 8}
    with pytest.raises(ConfigError, match=r"^serve\.body_timeout_seconds: 'soon' is not"):
        parse_serve({"body_timeout_seconds": "soon"}, "serve")
    with pytest.raises(ConfigError, match=r"serve\.window_seconds: expected a positive"):
        parse_serve({"window_seconds": "0s"}, "serve")
