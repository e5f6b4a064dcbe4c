"""`[serve]` in godiag.toml: listen address, credentials, routing rules, limits, notifications.

```toml
[serve]
listen = "127.0.0.1:8080"
public_url = "https://godiag.internal"    # used for report links in notifications
max_body_kb = 1024                        # larger webhook bodies get 413
concurrency = 4                           # diagnoses at once, per process
per_target = 1                            # diagnoses at once per target, across replicas
lease_seconds = 30                        # a crashed worker's job is retried after this
                                          # (every *_seconds key: a number, or "1m30s")
window_seconds = 3                        # default observation window of a diagnosis
header_timeout_seconds = 10               # request headers must arrive within this
body_timeout_seconds = 30                 # and a webhook body within this (408 otherwise)
reference_every_seconds = "10m"           # serve and watch store every target's heap and
                                          # goroutines this often: the reference a later
                                          # diagnosis compares with (off when absent)
[[serve.credentials]]
role = "admin"                            # admin: post alerts, everything; read: pages + GET API
bearer = "env:GODIAG_AM_TOKEN"            # or username = "...", password = "env:..."
[[serve.routes]]
alertnames = ["GoGoroutinesHigh"]         # empty: any alert name
matchers = { severity = "critical", job = "~api-.*" }   # "~" prefix: regular expression
options = { window_seconds = 5 }          # also timeout_seconds, deadline_seconds, max_capture_mb
[serve.notify]
webhook = "http://hooks.internal/godiag"  # JSON; slack = "https://hooks.slack.com/..." too
[serve.watch]                             # `godiag watch`: local rules without Prometheus
interval_seconds = 15
[[serve.watch.rules]]
alertname = "GoGoroutinesHigh"
metric = "go_goroutines"
above = 1000                              # or rise = 200 (increase over over_seconds)
cooldown_seconds = 300
```
With no route configured, every firing alert of a configured target is diagnosed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from godiag.durations import parse_duration
from godiag.errors import ConfigError
from godiag.secrets import resolve_secret


@dataclass(frozen=True)
class Credential:
    role: str  # admin | read
    bearer: str | None = None
    username: str | None = None
    password: str | None = None


@dataclass(frozen=True)
class Route:
    alertnames: tuple[str, ...] = ()
    matchers: tuple[tuple[str, str], ...] = ()  # (label, "exact" or "~regex")
    options: dict[str, Any] = field(default_factory=dict)

    def matches(self, labels: dict[str, str]) -> bool:
        if self.alertnames and labels.get("alertname", "") not in self.alertnames:
            return False
        for key, want in self.matchers:
            have = labels.get(key, "")
            if want.startswith("~"):
                if not re.fullmatch(want[1:], have):
                    return False
            elif have != want:
                return False
        return True


@dataclass(frozen=True)
class WatchRule:
    alertname: str
    metric: str
    above: float | None = None
    rise: float | None = None
    over_seconds: float = 300.0
    cooldown_seconds: float = 300.0
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ServeSettings:
    listen: str = "127.0.0.1:8080"
    public_url: str | None = None
    max_body_kb: int = 1024
    concurrency: int = 4
    per_target: int = 1
    lease_seconds: float = 30.0
    window_seconds: float = 3.0
    max_attempts: int = 3
    credentials: tuple[Credential, ...] = ()
    routes: tuple[Route, ...] = ()
    notify_webhook: str | None = None
    notify_slack: str | None = None
    watch_interval: float = 15.0
    watch_rules: tuple[WatchRule, ...] = ()
    header_timeout_seconds: float = 10.0  # a request's headers must arrive within this
    body_timeout_seconds: float = 30.0  # and its body within this (slow senders)
    reference_every_seconds: float | None = None  # periodic reference captures (reference.py)

    def route(self, labels: dict[str, str]) -> Route | None:
        """The first matching route; with no routes configured, a default one."""
        if not self.routes:
            return Route()
        return next((r for r in self.routes if r.matches(labels)), None)


KEYS = {
    "listen",
    "public_url",
    "max_body_kb",
    "concurrency",
    "per_target",
    "lease_seconds",
    "window_seconds",
    "max_attempts",
    "credentials",
    "routes",
    "notify",
    "watch",
    "header_timeout_seconds",
    "body_timeout_seconds",
    "reference_every_seconds",
}
OPTION_KEYS = {"window_seconds", "timeout_seconds", "deadline_seconds", "max_capture_mb"}


def _keys(table: Any, allowed: set[str], where: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table")
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})"
        )
    return table


def _num(t: dict[str, Any], key: str, default: float, where: str, *, integer: bool = False) -> Any:
    v = t.get(key, default)
    ok = isinstance(v, int) if integer else isinstance(v, int | float)
    if not ok or isinstance(v, bool) or v <= 0:
        kind = "a positive integer" if integer else "a positive number"
        raise ConfigError(f"{where}.{key}: expected {kind}")
    return v


def _seconds(t: dict[str, Any], key: str, default: float, where: str) -> Any:
    """A `*_seconds` key: a positive number of seconds (kept as written), or a duration
    string ("1m30s", read by godiag.durations as the command options are)."""
    v = t.get(key, default)
    if isinstance(v, str):
        s = parse_duration(v, f"{where}.{key}", error=ConfigError)
        if s <= 0:
            raise ConfigError(f"{where}.{key}: expected a positive duration")
        return s
    return _num(t, key, default, where)


def _opt_str(t: dict[str, Any], key: str, where: str) -> str | None:
    v = t.get(key)
    if v is None:
        return None
    if not isinstance(v, str):
        raise ConfigError(f"{where}.{key}: expected a string")
    return v


def _http_url(v: str | None, where: str) -> str | None:
    if v is not None and not re.match(r"https?://[^/\s]+", v):
        raise ConfigError(f"{where}: {v!r} is not an http(s) URL")
    return v


def _credential(t: Any, where: str) -> Credential:
    _keys(t, {"role", "bearer", "username", "password"}, where)
    role = t.get("role", "read")
    if role not in ("admin", "read"):
        raise ConfigError(f"{where}.role: {role!r} is not admin or read")
    if ("bearer" in t) == ("username" in t):
        raise ConfigError(f"{where}: give either bearer or username/password")
    if "username" in t and "password" not in t:
        raise ConfigError(f"{where}: username needs a password")
    sec = {
        k: resolve_secret(t[k], f"{where}.{k}")
        for k in ("bearer", "username", "password")
        if k in t
    }
    if any(v == "" for v in sec.values()):
        raise ConfigError(f"{where}: empty secret")
    return Credential(role=role, **sec)


def _route(t: Any, where: str) -> Route:
    _keys(t, {"alertnames", "matchers", "options"}, where)
    names = t.get("alertnames", [])
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"{where}.alertnames: expected a list of strings")
    matchers = t.get("matchers", {})
    if not isinstance(matchers, dict) or not all(isinstance(v, str) for v in matchers.values()):
        raise ConfigError(f"{where}.matchers: expected a table of strings")
    for k, v in matchers.items():
        if v.startswith("~"):
            try:
                re.compile(v[1:])
            except re.error as exc:
                raise ConfigError(f"{where}.matchers.{k}: bad regular expression: {exc}") from None
    options = _keys(t.get("options", {}), OPTION_KEYS, f"{where}.options")
    opts = {
        k: _seconds(options, k, 1, f"{where}.options")
        if k.endswith("_seconds")
        else _num(options, k, 1, f"{where}.options")
        for k in options
    }
    return Route(tuple(names), tuple(matchers.items()), opts)


def _watch(t: Any, where: str) -> tuple[float, tuple[WatchRule, ...]]:
    _keys(t, {"interval_seconds", "rules"}, where)
    rules = []
    raw = t.get("rules", [])
    if not isinstance(raw, list):
        raise ConfigError(f"{where}.rules: expected an array of tables")
    for i, r in enumerate(raw):
        w = f"{where}.rules[{i}]"
        keys = {
            "alertname",
            "metric",
            "above",
            "rise",
            "over_seconds",
            "cooldown_seconds",
            "labels",
        }
        _keys(r, keys, w)
        name, metric = _opt_str(r, "alertname", w), _opt_str(r, "metric", w)
        if not name or not metric:
            raise ConfigError(f"{w}: alertname and metric are required")
        if ("above" in r) == ("rise" in r):
            raise ConfigError(f"{w}: give exactly one of above, rise")
        labels = r.get("labels", {})
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            raise ConfigError(f"{w}.labels: expected a table of strings")
        rules.append(
            WatchRule(
                alertname=name,
                metric=metric,
                above=float(_num(r, "above", 0, w)) if "above" in r else None,
                rise=float(_num(r, "rise", 0, w)) if "rise" in r else None,
                over_seconds=float(_seconds(r, "over_seconds", 300, w)),
                cooldown_seconds=float(_seconds(r, "cooldown_seconds", 300, w)),
                labels=dict(labels),
            )
        )
    return float(_seconds(t, "interval_seconds", 15, where)), tuple(rules)


def parse_serve(value: Any, where: str = "serve") -> ServeSettings:
    t = _keys(value, KEYS, where)
    creds = t.get("credentials", [])
    routes = t.get("routes", [])
    if not isinstance(creds, list) or not isinstance(routes, list):
        raise ConfigError(f"{where}: credentials and routes are arrays of tables ([[serve.x]])")
    notify = _keys(t.get("notify", {}), {"webhook", "slack"}, f"{where}.notify")
    interval, rules = _watch(t.get("watch", {}), f"{where}.watch")
    listen = _opt_str(t, "listen", where) or "127.0.0.1:8080"
    if not re.fullmatch(r"[^\s:]*:\d{1,5}|\[[0-9a-fA-F:]+\]:\d{1,5}", listen):
        raise ConfigError(f"{where}.listen: {listen!r} is not HOST:PORT")
    return ServeSettings(
        listen=listen,
        public_url=_http_url(_opt_str(t, "public_url", where), f"{where}.public_url"),
        max_body_kb=_num(t, "max_body_kb", 1024, where, integer=True),
        concurrency=_num(t, "concurrency", 4, where, integer=True),
        per_target=_num(t, "per_target", 1, where, integer=True),
        lease_seconds=float(_seconds(t, "lease_seconds", 30, where)),
        window_seconds=float(_seconds(t, "window_seconds", 3, where)),
        max_attempts=_num(t, "max_attempts", 3, where, integer=True),
        credentials=tuple(_credential(c, f"{where}.credentials[{i}]") for i, c in enumerate(creds)),
        routes=tuple(_route(r, f"{where}.routes[{i}]") for i, r in enumerate(routes)),
        notify_webhook=_http_url(
            resolve_secret(notify["webhook"], f"{where}.notify.webhook")
            if "webhook" in notify
            else None,
            f"{where}.notify.webhook",
        ),
        notify_slack=_http_url(
            resolve_secret(notify["slack"], f"{where}.notify.slack") if "slack" in notify else None,
            f"{where}.notify.slack",
        ),
        watch_interval=interval,
        watch_rules=rules,
        header_timeout_seconds=float(_seconds(t, "header_timeout_seconds", 10, where)),
        body_timeout_seconds=float(_seconds(t, "body_timeout_seconds", 30, where)),
        reference_every_seconds=float(_seconds(t, "reference_every_seconds", 1, where))
        if "reference_every_seconds" in t
        else None,
    )
