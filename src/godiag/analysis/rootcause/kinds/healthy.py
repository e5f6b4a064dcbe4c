"""healthy: no fault over the window. It points nowhere in the code.

Not ranked when a lock profile shows at least one goroutine waiting on a lock, on average,
over the whole window: that is contention however quiet the rest looks (the training
services with a contended lock were all busy on CPU as well, so the model alone leans to
healthy for a lock held across a slow call in an idle one).
"""

from __future__ import annotations

from godiag.analysis.rootcause.kinds.base import Features, Kind

UNHEALTHY_LOCK_WAIT = 1.0  # s/s: on average a goroutine waited on a lock the whole window


def ruled_out(feats: Features) -> bool:
    waited = feats.get("lock_wait_s_per_s")
    return bool(waited is not None and waited >= UNHEALTHY_LOCK_WAIT)


def title(feats: Features, where: str) -> str:
    return "no fault: the service looks healthy over the window"


# a starved CPU-bound service reads as idle: "healthy" would be a guess, not a finding
KIND = Kind("healthy", title, ruled_out=ruled_out, timing=True)
