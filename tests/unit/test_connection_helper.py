"""connection-leak's location when a pool's get is shared by several code paths."""

from __future__ import annotations

from godiag.analysis import sites
from godiag.analysis.rootcause.kinds import connection_leak
from tests.profile_fixtures import heap

DIAL = [("net.DialTimeout", "/go/src/net/dial.go", 333),
        ("main.(*pool).get", "/src/inv/main.go", 139)]  # fmt: skip


def _from(caller: str, line: int) -> list[tuple[str, str, int]]:
    return [*DIAL, (caller, "/src/inv/main.go", line), ("main.handle", "/src/inv/main.go", 240)]


def test_a_pool_get_called_from_several_paths_is_named_with_its_callers() -> None:
    """Connections dialed under `get` by stock and by reserve: the leak is whichever caller
    keeps them, which the dial's live memory cannot tell; name `get`, list both."""
    prof = heap([(_from("main.(*pool).stock", 197), 2 << 20),
                  (_from("main.(*pool).reserve", 177), 1 << 20)])  # fmt: skip
    dials = sites.has_prefix(sites.DIAL)
    owner = sites.top(sites.by_site(prof, "inuse_space", "main", dials, sites.pick_owner))
    assert owner is not None and owner[0][0] == "main.(*pool).stock"
    shared = connection_leak._shared_helper(prof, dials, "main", owner[0])
    assert shared is not None
    helper, callers = shared
    assert helper == ("main.(*pool).get", "/src/inv/main.go", 139)
    assert callers == [("main.(*pool).stock", 2 << 20), ("main.(*pool).reserve", 1 << 20)]
    # one caller: it owns, and leaks, the connections (pick_owner's handover stands)
    one = heap([(_from("main.(*pool).reserve", 177), 1 << 20)])
    owner = sites.top(sites.by_site(one, "inuse_space", "main", dials, sites.pick_owner))
    assert owner is not None
    assert connection_leak._shared_helper(one, dials, "main", owner[0]) is None
