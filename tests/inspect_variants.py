"""Build the go/inspect/hello program in every variant the inspect tests need, once.

Binaries land in .cache/inspect-variants/<hash of sources + go version>/; a later session
with the same sources and Go reuses them. Two git checkouts (clean and dirty) are made
there too, so `-buildvcs` records real vcs.* settings.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from tests.gohelpers import REPO, go_version, hermetic_go_env

SOURCE = REPO / "go" / "inspect" / "hello"
ROOT = REPO / ".cache" / "inspect-variants"

# name -> (extra go build flags, environment overrides)
VARIANTS: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "plain": ((), {}),
    "stripped": (("-ldflags=-s -w",), {}),
    "trimpath": (("-trimpath",), {}),
    "trimpath-stripped": (("-trimpath", "-ldflags=-s -w"), {}),
    "cgo": ((), {"CGO_ENABLED": "1"}),
    "race": (("-race",), {"CGO_ENABLED": "1"}),
    "pie": (("-buildmode=pie",), {}),
    "darwin": ((), {"GOOS": "darwin", "GOARCH": "amd64"}),
    "windows.exe": ((), {"GOOS": "windows", "GOARCH": "amd64"}),
    "arm64": ((), {"GOARCH": "arm64"}),
    "386": ((), {"GOARCH": "386"}),
}
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_AUTHOR_DATE": "2024-01-02T03:04:05Z",
    "GIT_COMMITTER_DATE": "2024-01-02T03:04:05Z",
}


def _key() -> str:
    h = hashlib.sha256(go_version().encode())
    h.update(repr(sorted(VARIANTS.items())).encode())
    for p in sorted(SOURCE.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(SOURCE)).encode())
            h.update(p.read_bytes())
    h.update(Path(__file__).read_bytes())
    return h.hexdigest()[:16]


def _go_build(src: Path, out: Path, flags: tuple[str, ...], env: dict[str, str]) -> None:
    subprocess.run(
        ["go", "build", *flags, "-o", str(out), "."],
        cwd=src,
        env=hermetic_go_env(**env),
        check=True,
        timeout=900,
    )


def _git(repo: Path, *args: str) -> None:
    import os

    subprocess.run(
        ["git", "-c", "init.defaultBranch=main", *args],
        cwd=repo,
        env={**os.environ, **GIT_ENV},
        check=True,
        capture_output=True,
    )


def _checkout(dst: Path, dirty: bool) -> Path:
    shutil.copytree(SOURCE, dst)
    _git(dst, "init", "-q")
    _git(dst, "add", "-A")
    _git(dst, "commit", "-q", "-m", "initial")
    if dirty:
        with (dst / "main.go").open("a") as fh:
            fh.write("\n// an uncommitted change\n")
    return dst


def build_variants() -> dict[str, Path]:
    """name -> binary path for every variant (plus vcs-clean, vcs-dirty); dirs under 'repo-*'."""
    out = ROOT / _key()
    done = out / ".done"
    names = [*VARIANTS, "vcs-clean", "vcs-dirty"]
    if not done.exists():
        if out.exists():
            shutil.rmtree(out)
        tmp = out.with_name(out.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        (tmp / "bin").mkdir(parents=True)
        for name, (flags, env) in VARIANTS.items():
            _go_build(SOURCE, tmp / "bin" / name, flags, env)
        vcs = {"GOFLAGS": "-buildvcs=true"}
        for state in ("clean", "dirty"):
            repo = _checkout(tmp / f"repo-{state}", dirty=state == "dirty")
            _go_build(repo, tmp / "bin" / f"vcs-{state}", (), vcs)
        (tmp / ".done").touch()
        tmp.rename(out)
    return {n: out / "bin" / n for n in names}


def repo_dir(state: str) -> Path:
    """The git checkout ('clean' or 'dirty') the vcs-* variants were built from."""
    return ROOT / _key() / f"repo-{state}"
