"""Precision of `godiag doctor` on real third-party Go modules at pinned versions.

`make doctor-corpus` (network) downloads a pinned set of modules through the Go module
proxy into .cache/doctor-corpus, copies each into a writable work tree, fetches what its
packages and tests import, and builds three layouts users meet besides a plain module: a
go.work workspace of two corpus modules, a vendored module (`go mod vendor`), and a module
with cgo (go-sqlite3). Each step fails soft: a module that cannot be fetched is reported and
left out. This script (offline for doctor: its probes run with GOPROXY=off) then runs
`godiag doctor` on every tree the way a user would (no GOFLAGS, no GOENV file, the module
cache filled), prints each finding with the verdict recorded in
bench/doctor_fp_verdicts.json after review, and the table: modules, findings, false
positives at warning and above.

    python bench/doctor_fp.py --download   # what make doctor-corpus runs
    python bench/doctor_fp.py              # doctor + figures (offline)
    python bench/doctor_fp.py --json F     # also write every finding to F

The verdicts file also holds the reviewed findings of the doctor before issue 18 (main at
23f33ad, run with this script and PYTHONPATH pointing at that checkout's src/), so both
columns of the table in docs/evaluation.md can be reproduced.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "doctor-corpus"
VERDICTS = REPO / "bench" / "doctor_fp_verdicts.json"

# Large and popular modules, pinned; chosen to cover many packages and tests, platform and
# Go-version build constraints, testdata fixtures, nested modules and cgo.
MODULES = [
    ("golang.org/x/tools", "v0.28.0"),
    ("github.com/prometheus/client_golang", "v1.20.5"),
    ("github.com/gin-gonic/gin", "v1.10.0"),
    ("google.golang.org/grpc", "v1.65.0"),
    ("go.etcd.io/etcd/client/v3", "v3.5.17"),
    ("github.com/prometheus/prometheus", "v0.54.1"),
    ("k8s.io/client-go", "v0.31.3"),
    ("github.com/spf13/cobra", "v1.8.1"),
    ("golang.org/x/sync", "v0.10.0"),
    ("golang.org/x/net", "v0.33.0"),
    ("golang.org/x/sys", "v0.28.0"),
    ("golang.org/x/crypto", "v0.31.0"),
    ("golang.org/x/text", "v0.21.0"),
    ("github.com/google/uuid", "v1.6.0"),
    ("github.com/gorilla/mux", "v1.8.1"),
    ("github.com/gorilla/websocket", "v1.5.3"),
    ("go.uber.org/zap", "v1.27.0"),
    ("github.com/hashicorp/golang-lru/v2", "v2.0.7"),
    ("github.com/sirupsen/logrus", "v1.9.3"),
    ("github.com/hashicorp/go-retryablehttp", "v0.7.7"),
    ("github.com/redis/go-redis/v9", "v9.5.1"),
    ("github.com/go-resty/resty/v2", "v2.13.1"),
    ("github.com/nats-io/nats.go", "v1.36.0"),
    ("github.com/stretchr/testify", "v1.9.0"),
    ("github.com/spf13/viper", "v1.19.0"),
    ("github.com/fsnotify/fsnotify", "v1.7.0"),
    ("github.com/pkg/errors", "v0.9.1"),
    ("github.com/json-iterator/go", "v1.1.12"),
    ("github.com/cespare/xxhash/v2", "v2.3.0"),
    ("github.com/klauspost/compress", "v1.17.9"),
    ("github.com/prometheus/common", "v0.55.0"),
    ("github.com/mattn/go-sqlite3", "v1.14.22"),  # cgo
]
# Built from corpus modules by --download: (name, how).
WORKSPACE = "workspace:client_golang+common"  # go.work using both trees
VENDORED = "vendored:github.com/spf13/cobra"  # cobra with `go mod vendor`
# etcd's modules replace each other by relative path (client/v3 => ../../api): a module
# zip alone is not how anyone builds it, so it is laid out as in its repository.
ETCD = ("go.etcd.io/etcd/client/v3", "v3.5.17")
ETCD_LAYOUT = "etcd-repo:client/v3"
ETCD_SIBLINGS = {"api": "go.etcd.io/etcd/api/v3", "client/pkg": "go.etcd.io/etcd/client/pkg/v3"}


def base_env(**over: str) -> dict[str, str]:
    """A user's environment: no GOFLAGS, no GOENV file, this corpus's module cache."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GO") and k != "CGO_ENABLED"}
    env.update(
        GOMODCACHE=str(CACHE / "modcache"),
        GOPATH=str(CACHE / "gopath"),
        GOENV="off",
        GOFLAGS="",
        GOTOOLCHAIN="local",
        GOCACHE=os.environ.get("GOCACHE") or str(Path.home() / ".cache" / "go-build"),
    )
    env.update(over)
    return env


def tree(name: str, version: str = "") -> Path:
    return CACHE / "src" / (f"{name}@{version}" if version else name).replace("/", "_")


def _go(args: list[str], cwd: Path, env: dict[str, str], quiet: bool = False) -> str:
    out = subprocess.run(
        ["go", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    if out.returncode != 0 and not quiet:
        raise RuntimeError(f"go {' '.join(args)}: {out.stderr.strip()[-500:]}")
    return out.stdout


def _writable(dest: Path) -> None:
    for p in [dest, *dest.rglob("*")]:
        if not p.is_symlink():
            p.chmod(p.stat().st_mode | stat.S_IWUSR)


def fetch(path: str, version: str, online: dict[str, str]) -> bool:
    dest = tree(path, version)
    if (dest / ".ready").exists():
        return True
    try:
        info = json.loads(_go(["mod", "download", "-json", f"{path}@{version}"], REPO, online))
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(info["Dir"], dest, symlinks=True)
        _writable(dest)
        # What the packages and their tests import, so doctor's probes answer offline.
        # Some test files need another Go release; what could be fetched is kept.
        _go(["list", "-e", "-deps", "-test", "./..."], dest, online, quiet=True)
    except (RuntimeError, subprocess.TimeoutExpired, KeyError, OSError) as exc:
        print(f"warning: could not fetch {path}@{version}: {exc}", file=sys.stderr)
        return False
    (dest / ".ready").touch()
    print(f"ready: {path}@{version}", file=sys.stderr)
    return True


def build_layouts(online: dict[str, str]) -> None:
    ws = tree(WORKSPACE)
    client, common = (
        tree("github.com/prometheus/client_golang", "v1.20.5"),
        tree("github.com/prometheus/common", "v0.55.0"),
    )
    if (
        not (ws / ".ready").exists()
        and (client / ".ready").exists()
        and (common / ".ready").exists()
    ):
        shutil.rmtree(ws, ignore_errors=True)
        ws.mkdir(parents=True)
        shutil.copytree(client, ws / "client_golang", symlinks=True)
        shutil.copytree(common, ws / "common", symlinks=True)
        (ws / "go.work").write_text("go 1.21\n\nuse (\n\t./client_golang\n\t./common\n)\n")
        (ws / ".ready").touch()
        print(f"ready: {WORKSPACE}", file=sys.stderr)
    vend, cobra = tree(VENDORED), tree("github.com/spf13/cobra", "v1.8.1")
    if not (vend / ".ready").exists() and (cobra / ".ready").exists():
        shutil.rmtree(vend, ignore_errors=True)
        shutil.copytree(cobra, vend, symlinks=True)
        (vend / ".ready").unlink()
        try:
            _go(["mod", "vendor"], vend, online)
        except RuntimeError as exc:
            print(f"warning: could not vendor cobra: {exc}", file=sys.stderr)
            return
        (vend / ".ready").touch()
        print(f"ready: {VENDORED}", file=sys.stderr)


def build_etcd(online: dict[str, str]) -> None:
    dest = tree(ETCD_LAYOUT)
    if (dest / ".ready").exists() or not (tree(*ETCD) / ".ready").exists():
        return
    shutil.rmtree(dest, ignore_errors=True)
    try:
        for sub, path in ETCD_SIBLINGS.items():
            info = json.loads(_go(["mod", "download", "-json", f"{path}@{ETCD[1]}"], REPO, online))
            shutil.copytree(info["Dir"], dest / sub, symlinks=True)
        shutil.copytree(tree(*ETCD), dest / "client" / "v3", symlinks=True)
        (dest / "client" / "v3" / ".ready").unlink()
        _writable(dest)
        _go(["list", "-e", "-deps", "-test", "./..."], dest / "client" / "v3", online, quiet=True)
    except (RuntimeError, KeyError, OSError) as exc:
        print(f"warning: could not lay out etcd: {exc}", file=sys.stderr)
        return
    (dest / ".ready").touch()
    print(f"ready: {ETCD_LAYOUT}", file=sys.stderr)


def download() -> int:
    online = base_env(GOPROXY="https://proxy.golang.org", GOSUMDB="sum.golang.org", GOWORK="off")
    ok = sum(fetch(p, v, online) for p, v in MODULES)
    build_layouts(online)
    build_etcd(online)
    print(f"{ok} of {len(MODULES)} modules ready in {CACHE}", file=sys.stderr)
    return 0  # fails soft: the bench reports what is missing


def targets() -> list[tuple[str, Path, Path]]:
    """(label, tree, directory doctor runs in) of every corpus entry."""
    out = [(f"{p}@{v}", tree(p, v), tree(p, v)) for p, v in MODULES if (p, v) != ETCD]
    etcd = tree(ETCD_LAYOUT)
    out.insert(4, (f"{ETCD[0]}@{ETCD[1]} ({ETCD_LAYOUT})", etcd, etcd / "client" / "v3"))
    ws = tree(WORKSPACE)
    out.append((WORKSPACE, ws, ws / "client_golang"))
    out.append((VENDORED, tree(VENDORED), tree(VENDORED)))
    return out


def run_doctor(directory: Path) -> dict[str, Any]:
    from godiag.toolchain.doctor import diagnose

    env = base_env()
    env.pop("GOWORK", None)
    doc: dict[str, Any] = diagnose(directory, env=env, timeout=600)
    return doc


def key_of(label: str, f: dict[str, Any], root: Path) -> str:
    """Stable across machines: paths inside the corpus tree are made relative to it."""
    loc = f.get("location") or {}
    file = str(loc.get("file", ""))
    for r in (str(root), str(root.resolve())):  # doctor reports paths with links resolved
        if file.startswith(r + os.sep):
            file = file[len(r) + 1 :]
            break
    where = f"{file}:{loc.get('line') or ''}".rstrip(":")
    return f"{label} {f['severity']} {f['id']} {where}"


def bench(json_out: Path | None) -> int:
    verdicts: dict[str, dict[str, str]] = json.loads(VERDICTS.read_text())
    rows: list[tuple[str, int, int, int, int]] = []
    unreviewed = 0
    dump: dict[str, Any] = {}
    for label, root, directory in targets():
        if not (root / ".ready").exists():
            print(f"missing {label}: run `make doctor-corpus` first", file=sys.stderr)
            continue
        t0 = time.monotonic()
        doc = run_doctor(directory)
        took = time.monotonic() - t0
        found = doc["findings"]
        dump[label] = found
        warn = [f for f in found if f["severity"] in ("warning", "error")]
        print(f"{label}: {len(found)} finding(s), {len(warn)} at warning+ in {took:.1f}s")
        fp_warn = fp_all = 0
        for f in found:
            key = key_of(label, f, root)
            v = verdicts.get(key)
            if v is None:
                unreviewed += 1
                verdict = "UNREVIEWED"
            else:
                verdict = v["verdict"].upper()
                if v["verdict"] == "fp":
                    fp_all += 1
                    fp_warn += f["severity"] in ("warning", "error")
            print(f"  [{verdict}] {f['severity']}: {key}: {f['title']}")
            if v:
                print(f"      why: {v['why']}")
        rows.append((label, len(found), len(warn), fp_all, fp_warn))
    print()
    print(f"{'module':54} {'findings':>8} {'warning+':>8} {'FP':>4} {'FP warning+':>11}")
    for label, n, w, fpa, fpw in rows:
        print(f"{label:54} {n:8} {w:8} {fpa:4} {fpw:11}")
    tot = [sum(r[i] for r in rows) for i in range(1, 5)]
    print(
        f"{'total (' + str(len(rows)) + ' trees)':54} {tot[0]:8} {tot[1]:8} {tot[2]:4} {tot[3]:11}"
    )
    print(f"unreviewed: {unreviewed}")
    if json_out:
        json_out.write_text(json.dumps(dump, indent=1))
    return 1 if unreviewed or len(rows) < len(targets()) else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--download", action="store_true", help="fetch the corpus (network)")
    ap.add_argument("--json", type=Path, help="also write every finding to this file")
    args = ap.parse_args()
    if args.download:
        return download()
    return bench(args.json)


if __name__ == "__main__":
    sys.exit(main())
