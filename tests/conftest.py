from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.gohelpers import GoProcess, build

settings.register_profile(
    "ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "long", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing at {CORPUS}")
    return CORPUS


@pytest.fixture(scope="session")
def gobuild() -> Callable[..., Path]:
    """Build a program of go/ (e.g. `cmd/leaky`) once per session; returns the binary."""
    return build


@pytest.fixture
def goprog() -> Iterator[Callable[..., GoProcess]]:
    """Start built Go programs on loopback; every one is killed when the test ends."""
    started: list[GoProcess] = []

    def start(pkg: str, *args: str, env: dict[str, str] | None = None) -> GoProcess:
        p = GoProcess(build(pkg), list(args), env=env)
        started.append(p)
        return p

    yield start
    for p in started:
        p.close()
