"""`godiag check` and `--store` against real Go services built from go/cmd.

heapleak retains a buffer per tick at one allocation site, steady allocates at the same
pace but keeps a bounded ring, leaky abandons a goroutine per tick. Baselines go into a
local store under a per-test GODIAG_HOME.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from godiag.schemas import validate
from tests.gohelpers import GO_DIR

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GODIAG_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("GODIAG_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # no stray godiag.toml
    return tmp_path / "home"


def godiag(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "godiag", *args], capture_output=True, text=True, timeout=120
    )


def json_of(res: subprocess.CompletedProcess[str], code: int) -> dict[str, Any]:
    assert res.returncode == code, res.stderr
    doc: dict[str, Any] = json.loads(res.stdout)
    validate(doc)
    return doc


def line_of(path: Path, text: str) -> int:
    return next(i for i, ln in enumerate(path.read_text().splitlines(), 1) if text in ln)


def store_heap_baseline(url: str) -> str:
    res = godiag("profile", url, "--type", "heap", "--gc", "--store", "--as-baseline",
                 "--build-commit", "0123abc", "--format", "json")  # fmt: skip
    doc = json_of(res, 0)
    [entry] = doc["stored"]
    assert entry["stored"] is True and entry["missing"] == []
    assert f"stored heap as {entry['id']}" in res.stderr
    return str(entry["id"])


def test_memory_leak_found_against_latest_baseline(goprog: Callable[..., Any]) -> None:
    svc = goprog("cmd/heapleak")
    baseline = store_heap_baseline(svc.url)
    time.sleep(3)
    doc = json_of(godiag("check", "--rule", "memory-leak", svc.url, "--baseline", "latest",
                         "--format", "json"), 1)  # fmt: skip
    assert doc["violated"] is True and doc["verdict"] == "violated"
    assert doc["baseline"]["artifact"] == baseline
    assert doc["elapsed_s"] >= 3
    src = GO_DIR / "cmd" / "heapleak" / "main.go"
    [finding] = doc["findings"]
    assert finding["id"] == "memory-leak"
    assert finding["location"] == {"file": str(src), "line": line_of(src, "buf := make(")}
    assert "main.cacheResponse" in finding["title"]
    site = doc["sites"][0]
    assert site["function"] == "main.cacheResponse" and site["violates"]
    # 64 KiB every 20 ms is about 190 MB/min; sleeps and GC make it somewhat less.
    assert 40 * 2**20 < site["per_minute"] < 400 * 2**20
    text = godiag("check", "--rule", "memory-leak", svc.url, "--baseline", baseline[:8])
    assert text.returncode == 1, text.stderr
    assert "VIOLATED" in text.stdout and "main.cacheResponse" in text.stdout


def test_steady_service_is_not_a_memory_leak(goprog: Callable[..., Any]) -> None:
    # 256 KiB buffers: the ring's 16 hold 4 MiB, each sampled with probability 1-e^-0.5 by
    # the 512 KiB heap sampler, so the profile holding none of them (the assertion on
    # inuse_after below) is a 1-in-3000 event; at 64 KiB it was 1 in 8
    svc = goprog("cmd/steady", "-size", str(256 << 10))
    # the ring fills in its first 16 requests (320 ms): a baseline taken before that sees
    # its filling, 4 MiB, the rule's size bar, as growth. The steady state is what is tested
    time.sleep(2)
    store_heap_baseline(svc.url)
    time.sleep(3)
    doc = json_of(godiag("check", "--rule", "memory-leak", svc.url, "--baseline", "latest",
                         "--format", "json"), 0)  # fmt: skip
    assert doc["violated"] is False and doc["findings"] == []
    # It did allocate all along: the rule saw the site, it just did not grow.
    assert doc["measurements"]["inuse_after"] > 0


def test_memory_leak_without_baseline_takes_two_snapshots(goprog: Callable[..., Any]) -> None:
    # A faster leak than the default (256 KiB per 20 ms): a 2 s window on a loaded machine
    # must still clear the noise threshold of 8 sampling periods by a wide margin.
    svc = goprog("cmd/heapleak", "-size", str(256 << 10))
    doc = json_of(godiag("check", "--rule", "memory-leak", svc.url, "--window", "2s",
                         "--format", "json"), 1)  # fmt: skip
    assert doc["baseline"]["ref"] is None and doc["baseline"]["artifact"] is None
    assert 1.9 < doc["elapsed_s"] < 10
    assert doc["sites"][0]["function"] == "main.cacheResponse"


def test_goroutine_leak_found_and_steady_quiet(goprog: Callable[..., Any]) -> None:
    leaky, steady = goprog("cmd/leaky"), goprog("cmd/steady")
    for svc in (leaky, steady):
        # A PID source: go_version comes from /proc/PID/exe (leaky serves no /metrics).
        res = godiag("goroutines", str(svc.pid), "--store", "--as-baseline",
                     "--build-commit", "feed42", "--format", "json")  # fmt: skip
        [entry] = json_of(res, 0)["stored"]
        assert entry["stored"] is True, entry
        shown = json_of(godiag("store", "show", entry["id"], "--format", "json"), 0)
        assert shown["artifacts"][0]["go_version"].startswith("go1.")
        assert shown["artifacts"][0]["baseline"] is True
    time.sleep(2)
    bad = json_of(godiag("check", "--rule", "goroutine-leak", leaky.url, "--baseline",
                         "latest", "--format", "json"), 1)  # fmt: skip
    src = GO_DIR / "cmd" / "leaky" / "main.go"
    top = bad["sites"][0]
    assert top["violates"] and top["category"] == "channel"
    assert (top["file"], top["line"]) == (str(src), line_of(src, 'ch <- "value"'))
    assert top["growth"] >= 20
    good = json_of(godiag("check", "--rule", "goroutine-leak", steady.url, "--baseline",
                          "latest", "--format", "json"), 0)  # fmt: skip
    assert good["violated"] is False and not any(s["violates"] for s in good["sites"])


def test_missing_metadata_still_analysed_not_stored(goprog: Callable[..., Any]) -> None:
    svc = goprog("cmd/steady")
    res = godiag("profile", svc.url, "--type", "heap", "--store", "--format", "json")
    doc = json_of(res, 0)
    assert doc["top"], "the profile is analysed even though it cannot be stored"
    [entry] = doc["stored"]
    # go_version comes from go_info on /metrics and service_name from host:port.
    assert entry["stored"] is False and entry["missing"] == ["build_commit"]
    assert "build_commit" in res.stderr and "--build-commit" in res.stderr
    assert "godiag.toml" in entry["message"]
    listed = json_of(godiag("store", "ls", "--format", "json"), 0)
    assert listed["artifacts"] == []
    # The same for check --store: verdict given, nothing stored.
    chk = godiag("check", "--rule", "goroutine-leak", svc.url, "--window", "0.5s", "--store",
                 "--format", "json")  # fmt: skip
    cdoc = json_of(chk, 0)
    assert [e["missing"] for e in cdoc["stored"]] == [["build_commit"], ["build_commit"]]
    assert json_of(godiag("store", "ls", "--format", "json"), 0)["artifacts"] == []


def test_no_baseline_is_a_usage_error(goprog: Callable[..., Any]) -> None:
    svc = goprog("cmd/steady")
    res = godiag("check", "--rule", "memory-leak", svc.url, "--baseline", "latest")
    assert res.returncode == 2
    assert res.stdout == ""
    [line] = res.stderr.strip().splitlines()
    assert "no usable baseline" in line and "--as-baseline" in line
    bad = godiag("check", "--rule", "no-such-rule", svc.url)
    assert bad.returncode == 2


def test_profile_reads_a_stored_artifact_by_id(goprog: Callable[..., Any]) -> None:
    svc = goprog("cmd/heapleak")
    # the heap profile reports the last completed GC cycle: on a loaded machine the first
    # one can precede the first retained buffer, so wait until the profile has the site
    deadline = time.monotonic() + 60
    while b"main.cacheResponse" not in httpx.get(f"{svc.url}/debug/pprof/heap?gc=1&debug=1",
                                                 timeout=10).content:  # fmt: skip
        assert time.monotonic() < deadline, "heapleak's heap profile never showed its site"
        time.sleep(0.2)
    aid = store_heap_baseline(svc.url)
    doc = json_of(godiag("profile", aid[:10], "--format", "json"), 0)
    assert doc["profile_type"] == "heap"
    assert any(r["function"] == "main.cacheResponse" for r in doc["top"])
    missing = godiag("profile", "abcdef0123")
    assert missing.returncode == 2 and "no artifact" in missing.stderr


def test_lock_contention_on_a_contended_mutex(goprog: Callable[..., Any]) -> None:
    svc = goprog("cmd/profiled", "-mutexfrac=1")
    doc = json_of(godiag("check", "--rule", "lock-contention", svc.url, "--window", "2s",
                         "--format", "json"), 1)  # fmt: skip
    assert doc["findings"][0]["id"] == "lock-contention"
    assert doc["sites"][0]["wait_per_second"] >= 0.05


def test_gc_pressure_reads_runtime_metrics(goprog: Callable[..., Any]) -> None:
    svc = goprog("cmd/steady")
    doc = json_of(godiag("check", "--rule", "gc-pressure", svc.url, "--window", "1s",
                         "--format", "json"), 0)  # fmt: skip
    now = doc["measurements"]["now"]
    assert now["gc_cycles_per_s"] >= 0 and 0 <= now["gc_cpu_fraction"] < 0.10
    assert doc["measurements"]["reference"] is None
    # A stored metrics snapshot becomes the reference period of a later check.
    kept = json_of(godiag("check", "--rule", "gc-pressure", svc.url, "--window", "0.5s",
                          "--store", "--as-baseline", "--build-commit", "b1", "--format",
                          "json"), 0)  # fmt: skip
    assert [e["stored"] for e in kept["stored"]] == [True, True]
    later = json_of(godiag("check", "--rule", "gc-pressure", svc.url, "--baseline", "latest",
                           "--window", "0.5s", "--format", "json"), 0)  # fmt: skip
    assert later["baseline"]["artifact"] == kept["stored"][1]["id"]
    assert later["measurements"]["reference"]["seconds"] > 0


def test_configured_target_metadata_and_command_line_precedence(
    goprog: Callable[..., Any], tmp_path: Path
) -> None:
    svc = goprog("cmd/heapleak")
    conf = tmp_path / "godiag.toml"
    conf.write_text(
        f'[[targets]]\nname = "cache"\nurl = "{svc.url}"\nservice_name = "cache-svc"\n'
        'build_commit = "c0ffee1"\ngo_version = "go0.0-from-config"\n'
        'tags = { env = "test", team = "core" }\n'
    )
    res = godiag("profile", "cache", "--config", str(conf), "--type", "heap", "--gc", "--store",
                 "--as-baseline", "--go-version", "go9.9-cli", "--tag", "team=perf",
                 "--format", "json")  # fmt: skip
    [entry] = json_of(res, 0)["stored"]
    art = json_of(godiag("store", "show", entry["id"], "--format", "json"), 0)["artifacts"][0]
    # service name, commit and env from the target; the command line beats both the
    # configuration and what /metrics says (go_info would give the real version).
    assert art["service_name"] == "cache-svc" and art["build_commit"] == "c0ffee1"
    assert art["go_version"] == "go9.9-cli"
    assert art["tags"]["env"] == "test" and art["tags"]["team"] == "perf"
    assert art["tags"]["module"] == "godiag.test"  # from go_build_info on /metrics
    # The URL of a configured target picks up its metadata too; configuration beats /metrics.
    by_url = godiag("profile", svc.url, "--config", str(conf), "--type", "heap", "--store",
                    "--format", "json")  # fmt: skip
    [e2] = json_of(by_url, 0)["stored"]
    art2 = json_of(godiag("store", "show", e2["id"], "--format", "json"), 0)["artifacts"][0]
    assert art2["service_name"] == "cache-svc" and art2["go_version"] == "go0.0-from-config"
    time.sleep(2)
    doc = json_of(godiag("check", "--rule", "memory-leak", "cache", "--config", str(conf),
                         "--baseline", "latest", "--format", "json"), 1)  # fmt: skip
    assert doc["target"]["service_name"] == "cache-svc"
    assert doc["baseline"]["artifact"] == entry["id"]  # the marked baseline, not the newest
