"""connection-leak's doubt: connections that grew to the service's own address are its
requests to itself (an in-process client, a self-call), not a leak shown yet."""

from __future__ import annotations

import pytest

from godiag.analysis.rootcause.features import _peer_growth
from godiag.analysis.rootcause.kinds import doubt
from godiag.formats.observation import PEER
from godiag.model.observation import MetricSample, Observation


def _obs(url: str, first: dict[str, float], last: dict[str, float]) -> Observation:
    def sample(at: float, peers: dict[str, float]) -> MetricSample:
        return MetricSample(at=at, values={"process_open_fds": 10.0,
                                           **{PEER + k: v for k, v in peers.items()}})  # fmt: skip

    return Observation(url=url, samples=[sample(0.0, first), sample(5.0, last)])


def test_growth_to_its_own_port_is_told_apart() -> None:
    obs = _obs("http://127.0.0.1:7708", {"127.0.0.1:7708": 269, "127.0.0.1:5432": 4},
               {"127.0.0.1:7708": 340, "127.0.0.1:5432": 4})  # fmt: skip
    assert _peer_growth(obs) == (71, 71)
    why = doubt("connection-leak", {"self_conn_growth": 71.0, "peer_conn_growth": 71.0})
    assert why is not None and why.startswith("71 of the 71 TCP connections gained")
    # localhost in the URL, the kernel's 127.0.0.1 in /proc: the same address
    assert (
        _peer_growth(_obs("http://localhost:7708", {"127.0.0.1:7708": 2}, {"127.0.0.1:7708": 9}))[0]
        == 7
    )


@pytest.mark.parametrize(
    ("mine", "total"),
    [
        (0.0, 58.0),  # all to another port (a backend, an in-process server of its own)
        (10.0, 40.0),  # most elsewhere
        (2.0, 2.0),  # one connection's worth
        (None, None),  # no /proc: not a local process
    ],
)
def test_growth_elsewhere_keeps_the_verdict(mine: float | None, total: float | None) -> None:
    assert doubt("connection-leak", {"self_conn_growth": mine, "peer_conn_growth": total}) is None


def test_another_port_of_the_same_host_is_not_its_own() -> None:
    obs = _obs("http://127.0.0.1:7703", {"127.0.0.1:40501": 482}, {"127.0.0.1:40501": 540})
    assert _peer_growth(obs) == (0, 58)
