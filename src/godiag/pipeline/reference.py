"""The store as memory: a service's earlier heap profile and goroutine dump, as reference.

A slow leak is below a window's noise and below the heap sampler; since a capture taken
minutes earlier it is MBs at one site. Before the analysis, the diagnosis reads the
service's reference captures from the configured store: for each of `heap` and
`goroutine`, its newest marked baseline (`--as-baseline`), else its oldest capture
within the lookback. They join the Recording as `heap@baseline` / `goroutine@baseline`
(time negative: before the window; not stored again), so a saved bundle carries them
and a replay gives the same document. A store that cannot be read is a note, never a
failure of the diagnosis.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from godiag.config import Config
from godiag.errors import GodiagError, ParseError
from godiag.model.capture import Capture, CaptureMeta
from godiag.model.observation import Recorded

TYPES = ("heap", "goroutine")


def _exists(config: Config) -> bool:
    """A local store that was never written to has nothing to read (and opening it would
    create it)."""
    from godiag.store import local_root

    if config.store.backend != "local":
        return True
    return (local_root(config.store) / "index.sqlite3").exists()


def reference(
    config: Config, service: str, started: datetime, lookback_s: float, limit: int | None = None
) -> tuple[list[Recorded], dict[str, Any], list[str]]:
    """(the reference captures, what they decoded to by role, notes): at most one per
    type in TYPES, taken before `started` (the diagnosis's start). A stored capture that
    does not decode is left out with a note."""
    from godiag.formats.observation import decode
    from godiag.store import open_store
    from godiag.store.base import Filter

    if not _exists(config):
        return [], {}, []
    out: list[Recorded] = []
    decoded: dict[str, Any] = {}
    notes: list[str] = []
    try:
        with open_store(config) as st:
            for kind in TYPES:
                base = Filter(service=service, profile_type=kind, until=started)
                marked = st.query(Filter(**{**base.__dict__, "baseline": True, "limit": 1}))
                if marked:
                    art = marked[0]
                else:
                    since = started - timedelta(seconds=lookback_s)
                    within = st.query(Filter(**{**base.__dict__, "since": since}))
                    if not within:
                        continue
                    art = within[-1]  # newest first: the last is the oldest
                data = st.read(art.id)
                m = art.meta
                cap = Capture(data, f"store:{art.id}", m.profile_type, m.captured_at, None,
                              CaptureMeta(m.service_name, m.go_version, m.build_commit,
                                          dict(m.tags), m.host))  # fmt: skip
                age = (started - m.captured_at.astimezone(UTC)).total_seconds()
                rec = Recorded(f"{kind}@baseline", -age, cap, stored=False)
                try:
                    decoded[rec.role] = decode(rec, limit)
                except ParseError as exc:
                    notes.append(f"stored {kind} {art.id} not used as baseline: {exc}")
                    continue
                out.append(rec)
    except (GodiagError, OSError) as exc:
        return [], {}, [f"stored baseline not read: {exc}"]
    return out, decoded, notes
