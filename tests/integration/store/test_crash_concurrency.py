"""Crash safety and concurrency of both backends, with real processes.

Crash: a writer is SIGKILLed at random moments while it stores a sequence of artifacts,
then restarted until the sequence is complete. Whatever moment the kill hits (temp file
half written, object renamed/uploaded but row not committed, ...), `godiag store verify`
must find no row without its object and no object whose sha256 differs, and every
artifact must be there exactly once. Concurrency: 8 processes write and read at once.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from godiag import schemas
from godiag.store import open_store
from godiag.store.base import Filter
from tests.integration.store.conftest import StoreEnv, make_store_env
from tests.integration.store.worker import SHARED, payload

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]


def worker(env: StoreEnv, first: int, last: int, *flags: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.integration.store.worker", str(env.toml),
         str(first), str(last), *flags],
        cwd=ROOT,
        env=env.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def godiag_json(env: StoreEnv, *args: str) -> tuple[int, dict[str, object]]:
    r = subprocess.run(
        [sys.executable, "-m", "godiag", *args, "--format", "json"],
        env=env.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in r.stderr, r.stderr
    doc = json.loads(r.stdout)
    schemas.validate(doc)
    return r.returncode, doc


def assert_complete(env: StoreEnv, n: int) -> dict[str, object]:
    with open_store(env.conf) as st:
        arts = st.query(Filter(tags={"env": "test"}))
        seqs = sorted(int(a.meta.tags["seq"]) for a in arts)
        assert [s for s in seqs if s != SHARED] == list(range(n)), "lost or duplicated write"
        for a in random.Random(0).sample(arts, min(20, len(arts))):
            assert st.read(a.id) == payload(int(a.meta.tags["seq"]))
    rc, doc = godiag_json(env, "store", "verify")
    verify = doc["verify"]
    assert isinstance(verify, dict)
    assert verify["problems"] == [] and rc == 0, verify
    assert verify["checked"] == len(arts)
    return verify


def crash_run(env: StoreEnv, total: int, seed: int, burst: int) -> int:
    """Kill the writer at random moments until `total` writes are done; returns kills.

    Each run is killed after a random number of committed writes plus a random delay of
    up to a few milliseconds, so the kill lands inside a write (temp file, fsync, rename
    or upload, INSERT, COMMIT) rather than during interpreter start-up.
    """
    rnd = random.Random(seed)
    kills = 0
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        p = worker(env, 0, total)
        assert p.stdout is not None and p.stderr is not None
        target = rnd.randint(0, burst)
        seen = 0
        for line in p.stdout:
            if line.startswith("done"):
                seen += 1
            if seen >= target:
                time.sleep(rnd.uniform(0, 0.008))
                break
        if p.poll() is None:
            p.kill()  # SIGKILL: no handler, no cleanup, at whatever point it is
            kills += 1
        p.wait()
        p.stdout.close()
        err = p.stderr.read()
        p.stderr.close()
        if p.returncode == 0:
            return kills
        assert p.returncode == -9, err
    raise AssertionError(f"writer did not finish {total} writes in 240 s")


def test_crash_safety_local(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    env = make_store_env("local", tmp_path, request)
    kills = crash_run(env, 1000, seed=1, burst=150)
    assert kills >= 3, "the writer was never interrupted: the test proved nothing"
    verify = assert_complete(env, 1000)
    # Kills that hit a write in progress leave invisible temp files (or unreferenced
    # objects): proof the kills landed inside writes, not between them.
    assert int(str(verify["temp_files"])) + int(str(verify["orphan_objects"])) >= 1, verify


def test_crash_safety_fleet(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    env = make_store_env("fleet", tmp_path, request)
    kills = crash_run(env, 120, seed=2, burst=30)
    assert kills >= 3, "the writer was never interrupted: the test proved nothing"
    assert_complete(env, 120)


@pytest.mark.parametrize("backend", ["local", "fleet"])
def test_eight_concurrent_writers_and_readers(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    env = make_store_env(backend, tmp_path, request)
    per = 30 if backend == "local" else 12
    procs = [worker(env, i * per, (i + 1) * per, "--read", "--shared") for i in range(8)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert out.count("done ") == per + 1
    assert_complete(env, 8 * per)
    with open_store(env.conf) as st:
        shared = st.query(Filter(tags={"seq": str(SHARED)}))
        assert len(shared) == 1, "the same artifact written 8 times must be stored once"
