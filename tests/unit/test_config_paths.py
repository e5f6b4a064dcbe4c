"""godiag.toml's relative paths and the example configuration of docs/serve.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from godiag import config as cfg
from godiag.cli import main
from godiag.store import local_root
from tests.datapaths import REPO


def test_a_relative_store_path_is_beside_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "etc").mkdir()
    toml = tmp_path / "etc" / "godiag.toml"
    toml.write_text('[store]\npath = "data/store"\n')
    monkeypatch.chdir("/")  # as under a service manager
    monkeypatch.delenv("GODIAG_HOME", raising=False)
    conf = cfg.load(toml)
    assert local_root(conf.store) == tmp_path / "etc" / "data" / "store"
    # `config check` says where that is
    with pytest.raises(SystemExit) as done:
        main(["config", "check", "--config", str(toml)])
    assert done.value.code == 0
    assert f"store: local at {tmp_path / 'etc' / 'data' / 'store'}" in capsys.readouterr().out


def test_config_check_says_when_godiag_home_overrides_the_store_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """GODIAG_HOME wins over `[store] path` (docs/store.md); `config check` names both, or
    the file's path reads as ignored."""
    toml = tmp_path / "godiag.toml"
    toml.write_text('[store]\npath = "kept"\n')
    monkeypatch.setenv("GODIAG_HOME", str(tmp_path / "home"))
    with pytest.raises(SystemExit) as done:
        main(["config", "check", "--config", str(toml)])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert f"store: local at {tmp_path / 'home' / 'store'}" in out
    assert f"GODIAG_HOME is set: it overrides [store] path = {tmp_path / 'kept'}" in out, out


def test_a_relative_godiag_home_is_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GODIAG_HOME", "home")
    root = local_root(cfg.StoreConfig())
    assert root.is_absolute() and root == tmp_path / "home" / "store"
    assert root.as_uri().startswith("file://")


def test_the_example_configuration_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GODIAG_ADMIN_TOKEN", "t")
    monkeypatch.setenv("GODIAG_READ_PASSWORD", "p")
    example = REPO / "docs" / "examples" / "godiag.toml"
    with pytest.raises(SystemExit) as done:
        main(["config", "check", "--config", str(example)])
    assert done.value.code == 0
    conf = cfg.load(example)
    assert [t.name for t in conf.targets] == ["leaky"]
    assert conf.serve is not None and conf.prometheus_url
