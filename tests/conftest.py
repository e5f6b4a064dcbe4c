from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests import datapaths
from tests.gohelpers import GoProcess, build

datapaths.install_guard()

settings.register_profile(
    "ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "long", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite the expected documents of golden tests (tests/data/diagnose/*/expected.json)"
        " from what the code gives now, on purpose; review the diff before committing it.",
    )


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True under --update-golden: golden tests write their expected files, then pass."""
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The third-party dumps and profiles of tests/data/corpus (see tests/data/README.md)."""
    return datapaths.CORPUS


@pytest.fixture(autouse=True)
def _reads_stay_in_the_repository() -> Iterator[None]:
    """Fail a test that read a file beside the checkout: a user's clone has none."""
    before = len(datapaths.violations)
    yield
    seen = datapaths.violations[before:]
    if seen:
        pytest.fail(f"read outside the repository: {seen[:3]}", pytrace=False)


@pytest.fixture(autouse=True)
def _own_default_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Each test's default artifact store is its own (XDG_DATA_HOME; GODIAG_HOME and
    `[store] path` still win): a diagnosis stores what it captured, and one test's
    captures must neither land in the user's store nor be another test's reference."""
    mp = pytest.MonkeyPatch()
    mp.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))
    yield
    mp.undo()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Reads at collection time (module-level globs) happen outside any test.
    if datapaths.violations and exitstatus == 0:
        print(f"\nread outside the repository: {sorted(set(datapaths.violations))[:5]}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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
