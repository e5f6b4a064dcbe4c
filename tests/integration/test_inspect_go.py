"""godiag inspect against `go version -m -json` on real binaries: the installed toolchain,
variants of go/inspect/hello built by the tests, and real pre-1.18 esbuild releases."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from godiag.schemas import validate
from tests.gohelpers import REPO, hermetic_go_env
from tests.inspect_variants import build_variants, repo_dir

pytestmark = pytest.mark.integration

GOROOT = Path(
    subprocess.run(
        ["go", "env", "GOROOT"], capture_output=True, text=True, check=True
    ).stdout.strip()
)
OLD = REPO / ".cache" / "old-go-binaries"
OLD_BINARIES = {
    "linux-64": "esbuild-linux-64/package/bin/esbuild",
    "linux-32": "esbuild-linux-32/package/bin/esbuild",
    "linux-s390x": "esbuild-linux-s390x/package/bin/esbuild",
    "darwin-64": "esbuild-darwin-64/package/bin/esbuild",
    "windows-64": "esbuild-windows-64/package/esbuild.exe",
}


def godiag(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "godiag", *args], capture_output=True, text=True, timeout=120
    )


def inspect_json(*args: str, rc: int | None = None) -> dict[str, Any]:
    p = godiag("inspect", "--format", "json", *args)
    assert "Traceback" not in p.stderr
    if rc is not None:
        assert p.returncode == rc, p.stderr
    doc: dict[str, Any] = json.loads(p.stdout)
    validate(doc)
    return doc


def go_version_m(*paths: Path) -> list[dict[str, Any]]:
    """Every object `go version -m -json` prints (it concatenates one per binary)."""
    p = subprocess.run(
        ["go", "version", "-m", "-json", *map(str, paths)],
        capture_output=True,
        text=True,
        env=hermetic_go_env(),
        timeout=120,
    )
    dec = json.JSONDecoder()
    text, i, out = p.stdout, 0, []
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        obj, i = dec.raw_decode(text, i)
        out.append(obj)


@pytest.fixture(scope="session")
def variants() -> dict[str, Path]:
    return build_variants()


def facts(doc: dict[str, Any]) -> dict[str, Any]:
    b: dict[str, Any] = doc["binaries"][0]["binary"]
    return b


def ids(doc: dict[str, Any]) -> set[str]:
    return {f["id"] for f in doc["findings"]}


@pytest.mark.parametrize("tree", ["bin", "pkg/tool"])
def test_toolchain_binaries_equal_go_version(tree: str) -> None:
    root = GOROOT / tree
    want = go_version_m(root)
    doc = inspect_json(str(root), "--fail-on", "never", rc=0)
    assert len(want) >= 2
    assert [b["buildinfo"] for b in doc["binaries"]] == want
    for b in doc["binaries"]:
        assert b["layout"] == "inline"


def test_variants_equal_go_version_field_by_field(variants: dict[str, Path]) -> None:
    for name, path in variants.items():
        (want,) = go_version_m(path)
        got = inspect_json(str(path), "--fail-on", "never")["binaries"][0]["buildinfo"]
        for key in ("GoVersion", "Path", "Main", "Deps", "Settings"):
            assert got.get(key) == want.get(key), (name, key)
        assert got == want, name


def test_variant_directory_matches_go_version_order(variants: dict[str, Path]) -> None:
    bindir = variants["plain"].parent
    doc = inspect_json(str(bindir), "--fail-on", "never")
    assert [b["buildinfo"] for b in doc["binaries"]] == go_version_m(bindir)


# name -> expected (format, arch, ptr_size, kind, linkage, symtab, dwarf, cgo, race, pie)
EXPECTED = {
    "plain": ("elf", "amd64", 8, "exec", "static", True, True, False, False, False),
    "stripped": ("elf", "amd64", 8, "exec", "static", False, False, False, False, False),
    "trimpath": ("elf", "amd64", 8, "exec", "static", True, True, False, False, False),
    "trimpath-stripped": ("elf", "amd64", 8, "exec", "static", False, False, False, False, False),
    "cgo": ("elf", "amd64", 8, "exec", "dynamic", True, True, True, False, False),
    "race": ("elf", "amd64", 8, "exec", "dynamic", True, True, True, True, False),
    "pie": ("elf", "amd64", 8, "pie", "dynamic", True, True, False, False, True),
    "darwin": ("macho", "amd64", 8, "pie", "dynamic", True, True, False, False, True),
    "windows.exe": ("pe", "amd64", 8, "pie", "dynamic", True, True, False, False, True),
    "arm64": ("elf", "arm64", 8, "exec", "static", True, True, False, False, False),
    "386": ("elf", "386", 4, "exec", "static", True, True, False, False, False),
    "vcs-clean": ("elf", "amd64", 8, "exec", "static", True, True, False, False, False),
    "vcs-dirty": ("elf", "amd64", 8, "exec", "static", True, True, False, False, False),
}
FINDINGS = {
    "stripped": {"stripped-binary"},
    "trimpath-stripped": {"stripped-binary"},
    "cgo": {"dynamic-libc"},
    "race": {"dynamic-libc"},
    "pie": {"dynamic-libc"},
    "vcs-dirty": {"vcs-modified"},
}
KEYS = ("format", "arch", "ptr_size", "kind", "linkage", "symtab", "dwarf", "cgo", "race", "pie")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_variant_facts_and_findings(variants: dict[str, Path], name: str) -> None:
    doc = inspect_json(str(variants[name]), "--fail-on", "never", rc=0)
    f = facts(doc)
    assert tuple(f[k] for k in KEYS) == EXPECTED[name]
    assert ids(doc) == FINDINGS.get(name, set())
    assert f["build_id"]["go"], "every Go binary carries a Go build ID"
    assert f["sections"].get(".text", f["sections"].get("__text", 0)) > 0
    if name in ("cgo", "race"):
        assert any(n.startswith("libc.so") for n in f["needed"])
        assert f["interp"]
    if name == "stripped":
        finding = doc["findings"][0]
        assert "-s -w" in json.dumps(finding["evidence"])
    if name.startswith("vcs"):
        settings = {s["Key"]: s.get("Value") for s in doc["binaries"][0]["buildinfo"]["Settings"]}
        assert settings["vcs"] == "git"
        assert settings["vcs.modified"] == ("true" if name == "vcs-dirty" else "false")


def test_exit_status_follows_fail_on(variants: dict[str, Path]) -> None:
    assert godiag("inspect", str(variants["cgo"])).returncode == 1  # dynamic-libc: warning
    assert godiag("inspect", str(variants["stripped"])).returncode == 0  # info only
    assert godiag("inspect", "--fail-on", "info", str(variants["stripped"])).returncode == 1


def test_against_own_clean_checkout_is_quiet(variants: dict[str, Path]) -> None:
    doc = inspect_json(str(variants["vcs-clean"]), "--against", str(repo_dir("clean")), rc=0)
    assert doc["findings"] == []
    assert doc["against"]["module"] == "example.com/inspecthello"
    assert doc["against"]["dirty"] is False
    rev = next(
        s["Value"]
        for s in doc["binaries"][0]["buildinfo"]["Settings"]
        if s["Key"] == "vcs.revision"
    )
    assert doc["against"]["head"] == rev


def test_against_catches_dirty_tree(variants: dict[str, Path]) -> None:
    doc = inspect_json(str(variants["vcs-dirty"]), "--against", str(repo_dir("dirty")), rc=1)
    assert ids(doc) == {"vcs-modified", "buildinfo-version-drift"}
    drift = next(f for f in doc["findings"] if f["id"] == "buildinfo-version-drift")
    assert any("main.go" in (e["output"] or "") for e in drift["evidence"])
    # A binary built clean, compared with a checkout that has changed since.
    doc = inspect_json(str(variants["vcs-clean"]), "--against", str(repo_dir("dirty")), rc=1)
    assert ids(doc) == {"buildinfo-version-drift"}
    # The text view lists the differences its title counts, without -v.
    text = godiag("inspect", str(variants["vcs-dirty"]), "--against", str(repo_dir("dirty")))
    assert "difference" in text.stdout and "(1 differences)" not in text.stdout
    assert "git status --porcelain" in text.stdout and "main.go" in text.stdout
    assert "gnu None" not in godiag("inspect", "-v", str(variants["plain"])).stdout


def test_against_catches_binary_from_another_module(variants: dict[str, Path]) -> None:
    doc = inspect_json(str(variants["plain"]), "--against", str(REPO / "go"), rc=1)
    (finding,) = doc["findings"]
    assert finding["id"] == "buildinfo-main-mismatch"
    assert finding["severity"] == "error"
    assert "godiag.test" in finding["title"] and "example.com/inspecthello" in finding["title"]


def test_against_reports_required_version_drift(variants: dict[str, Path], tmp_path: Path) -> None:
    src = tmp_path / "m"
    shutil.copytree(REPO / "go" / "inspect" / "hello", src)
    gomod = src / "go.mod"
    gomod.write_text(gomod.read_text().replace("greet v0.0.0", "greet v0.3.0"))
    doc = inspect_json(str(variants["plain"]), "--against", str(src), rc=1)
    (finding,) = doc["findings"]
    assert finding["id"] == "buildinfo-version-drift"
    assert "v0.3.0" in json.dumps(finding["evidence"])


def test_non_go_executable_is_missing_buildinfo() -> None:
    doc = inspect_json("/bin/ls", rc=1)
    assert ids(doc) == {"missing-buildinfo"}
    assert doc["binaries"][0]["buildinfo"] is None


def test_directory_skips_non_go_files_quietly(variants: dict[str, Path], tmp_path: Path) -> None:
    shutil.copy(variants["plain"], tmp_path / "hello")
    shutil.copy("/bin/ls", tmp_path / "ls")
    (tmp_path / "notes.txt").write_text("not a binary\n")
    p = godiag("inspect", str(tmp_path))
    assert p.returncode == 0, p.stderr
    assert "/ls" not in p.stdout and "notes" not in p.stdout and p.stderr == ""
    p = godiag("inspect", "-v", str(tmp_path))
    assert "skipped" in p.stdout and "notes.txt" in p.stdout
    doc = inspect_json(str(tmp_path))
    assert [Path(b["file"]).name for b in doc["binaries"]] == ["hello"]


@pytest.mark.parametrize("name", sorted(OLD_BINARIES))
def test_pre_118_binaries_match_go_version(name: str) -> None:
    path = OLD / OLD_BINARIES[name]
    if not path.exists():
        pytest.skip(f"{path} not fetched (run `make old-go-binaries`)")
    doc = inspect_json(str(path), "--fail-on", "never")
    (b,) = doc["binaries"]
    assert b["layout"] == "pointer"
    assert b["buildinfo"]["GoVersion"].startswith("go1.17")
    want = go_version_m(path)
    if want:  # go version -m reads all of these today; compare whatever it reads
        assert [b["buildinfo"]] == want
    expect = {
        "linux-64": ("elf", 8, "little"),
        "linux-32": ("elf", 4, "little"),
        "linux-s390x": ("elf", 8, "big"),
        "darwin-64": ("macho", 8, "little"),
        "windows-64": ("pe", 8, "little"),
    }[name]
    assert (b["binary"]["format"], b["binary"]["ptr_size"], b["binary"]["endian"]) == expect


OLD_TOOLCHAIN = "go1.19.13"  # build settings, but -buildmode recorded only from Go 1.20


def test_stripped_go119_binary_race_from_settings(tmp_path: Path) -> None:
    """No symbols to look for __tsan_init: the build settings alone must answer."""
    from tests.integration.doctor.modules import toolchain_bin

    b = toolchain_bin(OLD_TOOLCHAIN)
    if b is None:
        pytest.skip(f"{OLD_TOOLCHAIN} not in the module cache (make test-deps)")
    src = tmp_path / "m"
    src.mkdir()
    (src / "go.mod").write_text("module example.com/old\n\ngo 1.19\n")
    (src / "main.go").write_text('package main\n\nimport "fmt"\n\nfunc main() { fmt.Println(1) }\n')
    env = hermetic_go_env(PATH=f"{b}:{hermetic_go_env()['PATH']}", CGO_ENABLED="1")
    for name, flags in (("plain", ()), ("race", ("-race",))):
        subprocess.run(
            [str(b / "go"), "build", *flags, "-ldflags=-s -w", "-o", str(tmp_path / name), "."],
            cwd=src,
            env=env,
            check=True,
            timeout=600,
        )
    docs = {n: inspect_json(str(tmp_path / n)) for n in ("plain", "race")}
    for name, doc in docs.items():
        (b_,) = doc["binaries"]
        assert b_["buildinfo"]["GoVersion"] == OLD_TOOLCHAIN
        assert b_["binary"]["symtab"] is False
        assert b_["binary"]["race"] is (name == "race")
