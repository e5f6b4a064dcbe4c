"""[serve] validation: every mistake is a ConfigError naming the key."""

from __future__ import annotations

from typing import Any

import pytest

from godiag import config
from godiag.errors import ConfigError
from godiag.pipeline.settings import parse_serve


def test_full_section(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AM_TOKEN", "s3cret")
    conf = config.parse(
        {
            "serve": {
                "listen": "0.0.0.0:9000",
                "credentials": [{"role": "admin", "bearer": "env:AM_TOKEN"}],
                "routes": [
                    {
                        "alertnames": ["GoGoroutinesHigh"],
                        "matchers": {"env": "~prod|stage"},
                        "options": {"window_seconds": 5},
                    },
                ],
                "notify": {"slack": "https://hooks.slack.test/x"},
                "watch": {"rules": [{"alertname": "G", "metric": "go_goroutines", "above": 10}]},
            }
        }
    )
    s = conf.serve
    assert s is not None and s.credentials[0].bearer == "s3cret"
    assert s.route({"alertname": "GoGoroutinesHigh", "env": "prod"}) is not None
    assert s.route({"alertname": "GoGoroutinesHigh", "env": "dev"}) is None
    assert s.route({"alertname": "Other", "env": "prod"}) is None
    assert s.watch_rules[0].above == 10 and s.watch_interval == 15


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ({"bogus": 1}, "unknown key 'bogus'"),
        ({"listen": "8080"}, "listen"),
        ({"concurrency": 0}, "concurrency"),
        ({"credentials": [{"role": "root", "bearer": "x"}]}, "role"),
        ({"credentials": [{"bearer": "x", "username": "u", "password": "p"}]}, "either"),
        ({"credentials": [{"username": "u"}]}, "password"),
        ({"credentials": [{"bearer": "env:NOPE_NOT_SET"}]}, "NOPE_NOT_SET"),
        ({"routes": [{"matchers": {"a": "~("}}]}, "regular expression"),
        ({"routes": [{"options": {"window": 3}}]}, "unknown key 'window'"),
        ({"notify": {"webhook": "ftp://x"}}, "not an http"),
        ({"watch": {"rules": [{"alertname": "a", "metric": "m"}]}}, "exactly one of"),
    ],
)
def test_errors(raw: dict[str, Any], why: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_serve(raw)
    assert why in str(err.value)


def test_periodic_references() -> None:
    assert parse_serve({}).reference_every_seconds is None  # off unless asked
    assert parse_serve({"reference_every_seconds": "10m"}).reference_every_seconds == 600.0
    with pytest.raises(ConfigError, match="reference_every_seconds"):
        parse_serve({"reference_every_seconds": 0})


def test_periodic_references_need_targets() -> None:
    from godiag.pipeline.reference import periodic_references
    from godiag.pipeline.settings import ServeSettings

    every = ServeSettings(reference_every_seconds=60)
    assert periodic_references(config.Config(path=None), every) is None  # nothing to capture
    t = config.Target(name="api", url="http://127.0.0.1:9")
    conf = config.Config(path=None, targets=(t,))
    assert periodic_references(conf, ServeSettings()) is None
    ref = periodic_references(conf, every)
    assert ref is not None and ref.every == 60
    assert ref.round() == 0 and ref.rounds == 1  # a target that does not answer is skipped
