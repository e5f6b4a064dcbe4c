"""Precision of godiag's static leak analyzer on popular third-party Go modules.

`make fp-corpus` (network) downloads a pinned set of modules through the Go module
proxy into .cache/fp-corpus and copies each into a writable work tree. This script
(offline: GOPROXY=off) then runs the analyzer on every module's ./..., prints each
finding with the verdict recorded in bench/analyzer_fp_verdicts.json after manual
review, and the figures per analyzer: findings, reviewed false positives, FP rate.

    python bench/analyzer_fp.py --download   # what make fp-corpus runs
    python bench/analyzer_fp.py              # analyze + figures (offline)
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

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "fp-corpus"
VERDICTS = REPO / "bench" / "analyzer_fp_verdicts.json"

# Popular modules, pinned; chosen for heavy use of goroutines, channels, locks and HTTP.
MODULES = [
    ("golang.org/x/sync", "v0.10.0"),
    ("golang.org/x/net", "v0.33.0"),
    ("github.com/google/uuid", "v1.6.0"),
    ("github.com/spf13/cobra", "v1.8.1"),
    ("github.com/gorilla/mux", "v1.8.1"),
    ("go.uber.org/zap", "v1.27.0"),
    ("github.com/prometheus/client_golang", "v1.20.5"),
    ("github.com/hashicorp/golang-lru/v2", "v2.0.7"),
    ("github.com/sirupsen/logrus", "v1.9.3"),
    ("github.com/hashicorp/go-retryablehttp", "v0.7.7"),
    ("google.golang.org/grpc", "v1.65.0"),
    ("github.com/redis/go-redis/v9", "v9.5.1"),
    ("github.com/gorilla/websocket", "v1.5.3"),
    ("github.com/go-resty/resty/v2", "v2.13.1"),
    ("github.com/nats-io/nats.go", "v1.36.0"),
    ("github.com/gin-gonic/gin", "v1.10.0"),
]


def go_env(**over: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GO")}
    env.update(
        GOMODCACHE=str(CACHE / "modcache"),
        GOFLAGS="-mod=mod",
        GOWORK="off",
        GOTOOLCHAIN="local",
        GOPATH=str(CACHE / "gopath"),
        GOCACHE=os.environ.get("GOCACHE") or str(Path.home() / ".cache" / "go-build"),
        GOPROXY="off",
    )
    env.update(over)
    return env


def tree(path: str, version: str) -> Path:
    return CACHE / "src" / f"{path.replace('/', '_')}@{version}"


def download() -> None:
    online = go_env(GOPROXY="https://proxy.golang.org", GOSUMDB="sum.golang.org")
    for path, version in MODULES:
        dest = tree(path, version)
        if (dest / ".ready").exists():
            continue
        out = subprocess.run(
            ["go", "mod", "download", "-json", f"{path}@{version}"],
            env=online,
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        )
        src = Path(json.loads(out.stdout)["Dir"])
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(src, dest)
        for p in [dest, *dest.rglob("*")]:
            p.chmod(p.stat().st_mode | stat.S_IWUSR)
        # Dependencies of the packages and their tests, so analysis runs offline.
        subprocess.run(["go", "mod", "download"], env=online, cwd=dest, check=True)
        subprocess.run(
            ["go", "list", "-deps", "-test", "./..."],
            env=online,
            cwd=dest,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        (dest / ".ready").touch()
        print(f"ready: {path}@{version}", file=sys.stderr)


def analyze() -> int:
    from godiag.errors import GoCommandError
    from godiag.toolchain import analyzer

    env = go_env(XDG_CACHE_HOME=str(REPO / ".cache" / "xdg"))
    os.environ.clear()
    os.environ.update(env)
    verdicts: dict[str, dict[str, str]] = json.loads(VERDICTS.read_text())
    per: dict[str, dict[str, int]] = {rid: {"findings": 0, "fp": 0} for rid in analyzer.CATALOG}
    unreviewed = 0
    total_s = 0.0
    for path, version in MODULES:
        dest = tree(path, version)
        if not (dest / ".ready").exists():
            print(f"missing {path}@{version}: run `make fp-corpus` first", file=sys.stderr)
            return 2
        t0 = time.monotonic()
        try:
            found = analyzer.run(dest)
        except GoCommandError as exc:
            # Some test files only build with the Go release they were written for.
            print(f"{path}@{version}: without tests ({exc})")
            found = analyzer.run(dest, tests=False)
        took = time.monotonic() - t0
        total_s += took
        print(f"{path}@{version}: {len(found)} finding(s) in {took:.1f}s")
        for f in found:
            assert f.location is not None
            key = f"{path}@{version} {f.location.file}:{f.location.line} {f.id}"
            v = verdicts.get(key)
            per[f.id]["findings"] += 1
            if v is None:
                unreviewed += 1
                label = "UNREVIEWED"
            else:
                label = v["verdict"].upper()
                per[f.id]["fp"] += v["verdict"] == "fp"
            print(f"  [{label}] {key}: {f.detail}")
            if v:
                print(f"      why: {v['why']}")
    print()
    print(f"{'analyzer':26} {'findings':>8} {'FP':>4} {'FP rate':>8}")
    n_all = fp_all = 0
    for rid, c in per.items():
        n_all += c["findings"]
        fp_all += c["fp"]
        rate = f"{c['fp'] / c['findings']:.0%}" if c["findings"] else "-"
        print(f"{rid:26} {c['findings']:8} {c['fp']:4} {rate:>8}")
    rate_all = f"{fp_all / n_all:.0%}" if n_all else "-"
    print(f"{'total':26} {n_all:8} {fp_all:4} {rate_all:>8}")
    print(f"modules: {len(MODULES)}, analysis time {total_s:.0f}s, unreviewed: {unreviewed}")
    return 1 if unreviewed else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--download", action="store_true", help="fetch the corpus (network)")
    args = ap.parse_args()
    if args.download:
        download()
        return 0
    return analyze()


if __name__ == "__main__":
    sys.exit(main())
