"""Real Go modules built in tmp_path the way users meet them, and a hermetic doctor run."""

from __future__ import annotations

import io
import json
import os
import subprocess
import zipfile
from pathlib import Path
from typing import Any

from godiag import schemas
from godiag.toolchain.doctor import diagnose
from tests.gohelpers import hermetic_go_env

TOOLCHAINS = {"older": "go1.22.12", "newer": "go1.27.4"}


def doctor_env(**over: str | None) -> dict[str, str]:
    """Hermetic env whose own values are no findings (GOSUMDB default, GOFLAGS empty)."""
    env = hermetic_go_env(GOFLAGS="", GOSUMDB="sum.golang.org", GOPROXY="off")
    for k, v in over.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def module(root: Path, files: dict[str, str], path: str = "example.com/app", go: str = "1.21"):
    return write(root, {"go.mod": f"module {path}\n\ngo {go}\n", **files})


def go(root: Path, *args: str, env: dict[str, str], check: bool = True) -> str:
    r = subprocess.run(
        ["go", *args], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )
    if check and r.returncode != 0:
        raise AssertionError(f"go {' '.join(args)} failed: {r.stderr}")
    return r.stdout + r.stderr


def run_doctor(d: Path, env: dict[str, str], **kw: Any) -> dict[str, Any]:
    doc = diagnose(d, env=env, **kw)
    schemas.validate(doc)
    json.dumps(doc)
    return doc


def ids(doc: dict[str, Any], at_least: str = "info") -> set[str]:
    order = {"info": 1, "warning": 2, "error": 3}
    return {f["id"] for f in doc["findings"] if order[f["severity"]] >= order[at_least]}


def of(doc: dict[str, Any], cid: str) -> list[dict[str, Any]]:
    return [f for f in doc["findings"] if f["id"] == cid]


def evidence_text(f: dict[str, Any]) -> str:
    parts = [json.dumps(e) for e in f["evidence"]] + [json.dumps(f["location"])]
    return "\n".join(parts)


def toolchain_bin(version: str) -> Path | None:
    """bin/ of a toolchain fetched by `make install` into the module cache, if present."""
    gopath = os.environ.get("GOPATH") or str(Path.home() / "go")
    modcache = os.environ.get("GOMODCACHE") or os.path.join(gopath.split(":")[0], "pkg", "mod")
    d = Path(modcache) / "golang.org" / f"toolchain@v0.0.1-{version}.linux-amd64" / "bin"
    return d if (d / "go").is_file() else None


def file_proxy(root: Path, mod: str, version: str, files: dict[str, str]) -> str:
    """A GOPROXY=file:// directory serving one module version (no network involved)."""
    base = root / mod / "@v"
    base.mkdir(parents=True, exist_ok=True)
    gomod = files.get("go.mod", f"module {mod}\n\ngo 1.21\n")
    (base / "list").write_text(version + "\n")
    (base / f"{version}.info").write_text(
        json.dumps({"Version": version, "Time": "2024-01-01T00:00:00Z"})
    )
    (base / f"{version}.mod").write_text(gomod)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in {"go.mod": gomod, **files}.items():
            z.writestr(f"{mod}@{version}/{name}", text)
    (base / f"{version}.zip").write_bytes(buf.getvalue())
    return root.as_uri()
