"""Which godiag made a document or a bundle: every JSON document and every capture bundle
names it (`tool`), and a replay says when the bundle was recorded by another godiag."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

import godiag
from godiag import provenance, schemas
from godiag.collect import bundle
from godiag.errors import ParseError
from godiag.pipeline.diagnose import DiagnoseOptions, replay
from tests.datapaths import DATA, DIAGNOSE

OLD = DIAGNOSE / "healthy-kvstore"  # recorded before bundles named their godiag


def godiag_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "godiag", *args], capture_output=True,
                          text=True, timeout=120)  # fmt: skip


def replayed(path: Path) -> dict[str, Any]:
    return replay(path, DiagnoseOptions(store=False))


def copied(tmp_path: Path, change: Any = None) -> Path:
    dst = tmp_path / "bundle"
    shutil.copytree(OLD, dst)
    if change is not None:
        m = json.loads((dst / bundle.MANIFEST).read_text())
        change(m)
        (dst / bundle.MANIFEST).write_text(json.dumps(m))
    return dst


def test_the_version_is_the_installed_distributions() -> None:
    t = provenance.tool()
    assert t["name"] == "godiag" and t["version"] == metadata.version("godiag")
    # `godiag --version` and the SARIF/HTML views say the same
    assert godiag.__version__ == t["version"]


@pytest.mark.parametrize(
    ("direct_url", "commit"),
    [
        (
            '{"url": "https://x/godiag.git", "vcs_info": {"vcs": "git", "commit_id": "ab12"}}',
            "ab12",
        ),
        ('{"url": "file:///src/godiag", "dir_info": {"editable": true}}', None),
        ("not json", None),
        ('["a list"]', None),
        (None, None),
    ],
)
def test_the_commit_is_only_the_one_the_installer_recorded(
    direct_url: str | None, commit: str | None
) -> None:
    assert provenance._commit(direct_url) == commit


def test_an_old_bundle_replays_and_says_its_godiag_is_unknown(tmp_path: Path) -> None:
    doc = replayed(OLD)
    schemas.validate(doc)
    assert doc["tool"] == provenance.tool()
    assert doc["replay"]["recorded_by"] is None
    assert doc["replay"]["warning"].startswith("recorded by an unknown version, replayed by godiag")
    r = godiag_cli("diagnose", str(OLD))
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("replay:")]
    assert lines == [f"replay: {doc['replay']['warning']}"], r.stdout


def test_a_bundle_saved_now_names_this_godiag_and_replays_without_a_warning(
    tmp_path: Path,
) -> None:
    bundle.save(tmp_path / "again", bundle.load(OLD, 64 << 20))
    manifest = json.loads((tmp_path / "again" / bundle.MANIFEST).read_text())
    assert manifest["tool"] == provenance.tool()
    doc = replayed(tmp_path / "again")
    assert doc["replay"] == {"recorded_by": provenance.tool(), "warning": None}
    r = godiag_cli("diagnose", str(tmp_path / "again"))
    assert "replay:" not in r.stdout and f"godiag {provenance.tool()['version']}" in r.stdout


def test_a_bundle_of_another_version_says_so_in_text_and_json(tmp_path: Path) -> None:
    old = {"name": "godiag", "version": "0.0.1", "commit": "0123456789abcdef0123"}
    path = copied(tmp_path, lambda m: m.update(tool=old))
    r = godiag_cli("diagnose", str(path), "--format", "json")
    doc = json.loads(r.stdout)
    schemas.validate(doc)
    now = provenance.tool()["version"]
    assert doc["replay"]["recorded_by"] == old
    assert doc["replay"]["warning"] == (
        f"recorded by godiag 0.0.1 (0123456789ab), replayed by godiag {now}: the analysis "
        "may differ from the verdict given when it was recorded"
    )
    text = godiag_cli("diagnose", str(path)).stdout
    assert [ln for ln in text.splitlines() if ln.startswith("replay:")] == [
        f"replay: {doc['replay']['warning']}"
    ]


@pytest.mark.parametrize(
    ("tool", "field"),
    [(5, "tool: expected an object"), ({"name": "godiag"}, "tool.version: missing"),
     ({"name": "godiag", "version": 1}, "tool.version: expected a string")],
)  # fmt: skip
def test_a_tool_field_out_of_shape_is_one_parse_error(
    tmp_path: Path, tool: Any, field: str
) -> None:
    path = copied(tmp_path, lambda m: m.update(tool=tool))
    with pytest.raises(ParseError) as err:
        replayed(path)
    assert field in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    "args",
    [
        ["goroutines", str(DATA / "goroutines" / "prometheus-a.txt")],
        ["doctor", "--list"],
    ],
    ids=["goroutines", "catalog"],
)
def test_every_commands_json_document_names_its_godiag(args: list[str]) -> None:
    r = godiag_cli(*args, "--format", "json")
    assert r.returncode in (0, 1), r.stderr
    doc = json.loads(r.stdout)
    assert list(doc)[:2] == ["schema", "tool"] and doc["tool"] == provenance.tool()
    schemas.validate(doc)
