"""A URL on the command line takes the configured target at that very URL."""

from __future__ import annotations

from pathlib import Path

from godiag import config as cfg

TOML = """
[[targets]]
name = "api"
url = "http://127.0.0.1:6060/"
service_name = "quotes"
build_commit = "0123abc"
go_version = "go1.26.0"
auth = { bearer = "s3cret" }
"""


def _conf(tmp_path: Path) -> cfg.Config:
    p = tmp_path / "godiag.toml"
    p.write_text(TOML)
    return cfg.load(p)


def test_the_same_url_uses_the_configured_target(tmp_path: Path) -> None:
    conf = _conf(tmp_path)
    for url in ("http://127.0.0.1:6060", "http://127.0.0.1:6060/", "HTTP://127.0.0.1:6060"):
        t = conf.target_at(url)
        assert (t.name, t.service_name, t.build_commit, t.go_version) == (
            "api", "quotes", "0123abc", "go1.26.0")  # fmt: skip
        assert t.auth.header() == {"Authorization": "Bearer s3cret"}


def test_another_url_gets_no_configured_credentials(tmp_path: Path) -> None:
    conf = _conf(tmp_path)
    for url in ("http://127.0.0.1:6061", "https://127.0.0.1:6060", "http://127.0.0.1:6060/x",
                "http://localhost:6060"):  # fmt: skip
        t = conf.target_at(url)
        assert t.build_commit is None and t.auth.header() == {}, url


def test_credentials_in_the_url_win(tmp_path: Path) -> None:
    t = _conf(tmp_path).target_at("http://me:pw@127.0.0.1:6060")
    assert t.build_commit == "0123abc"
    assert t.auth.header()["Authorization"].startswith("Basic ")
    assert "pw" not in t.url


def test_a_url_pasted_from_the_browser_names_its_service() -> None:
    """The pprof index, one profile, /metrics or /debug/vars: godiag appends those itself,
    so the service's base URL is what is left (a mount prefix stays; a query is a URL of
    its own and is left alone)."""
    from godiag.config import target_from_url

    assert target_from_url("http://127.0.0.1:18081/debug/pprof/").url == "http://127.0.0.1:18081"
    assert target_from_url("http://h:1/debug/pprof/heap").url == "http://h:1"
    assert target_from_url("http://h:1/admin/debug/pprof").url == "http://h:1/admin"
    assert target_from_url("http://h:9090/metrics").url == "http://h:9090"
    assert target_from_url("http://h:1/api").url == "http://h:1/api"
    q = "http://h:1/debug/pprof/goroutine?debug=2"
    assert target_from_url(q).url == q
