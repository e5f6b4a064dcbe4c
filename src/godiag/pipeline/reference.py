"""The store as memory: a service's earlier heap profile and goroutine dump, as reference.

A slow leak is below a window's noise and below the heap sampler; since a capture taken
minutes earlier it is MBs at one site. Before the analysis, the diagnosis reads the
service's reference captures from the configured store: for each of `heap` and
`goroutine`, its newest marked baseline (`--as-baseline`), else its oldest capture
within the lookback. They join the Recording as `heap@baseline` / `goroutine@baseline`
(time negative: before the window; not stored again), so a saved bundle carries them
and a replay gives the same document. A store that cannot be read is a note, never a
failure of the diagnosis.

For that memory to exist before an alert, `serve` and `watch` take a light reference
capture of every configured target every `[serve] reference_every_seconds` (`Periodic`):
one heap profile after a forced GC and one goroutine dump, stored unmarked with the tag
`capture=periodic`, so the oldest within the lookback is the reference (a marked baseline
still wins). `godiag store gc --keep-days` ages them out like any other capture.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from godiag.analysis.rootcause.longterm.common import CLOCK_SLACK_S, LOCAL_SLACK_S
from godiag.config import Config, Target
from godiag.errors import GodiagError, ParseError
from godiag.model.capture import Capture, CaptureMeta
from godiag.model.observation import Recorded
from godiag.pipeline.settings import ServeSettings

TYPES = ("heap", "goroutine")


def _exists(config: Config) -> bool:
    """A local store that was never written to has nothing to read (and opening it would
    create it)."""
    from godiag.store import local_root

    if config.store.backend != "local":
        return True
    return (local_root(config.store) / "index.sqlite3").exists()


# A reference is history when it reaches well before the window: one taken seconds earlier
# (the diagnosis run just before this one, stored by default) sees what the window sees, and
# its few seconds of difference read as "growth since the baseline" (a write cache filling
# between two diagnoses 6 s apart was "memory-leak 75%"). At least this many windows and
# MIN_REFERENCE_S before the window's start.
REFERENCE_WINDOWS = 3
MIN_REFERENCE_S = 15.0


def min_reference_age(window_s: float) -> float:
    return max(MIN_REFERENCE_S, REFERENCE_WINDOWS * window_s)


def reference(
    config: Config,
    service: str,
    started: datetime,
    lookback_s: float,
    limit: int | None = None,
    not_before: datetime | None = None,
    min_age_s: float = 0.0,
) -> tuple[list[Recorded], dict[str, Any], list[str]]:
    """(the reference captures, what they decoded to by role, notes): at most one per
    type in TYPES, taken `min_age_s` or more before `started` (the diagnosis's start) and,
    when the process's start is known (`not_before`), after it: a capture of the process
    that ran before a restart is another process's heap and goroutines, nothing this one
    grew from. A stored capture that does not decode is left out with a note."""
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
                until = started - timedelta(seconds=min_age_s)
                base = Filter(service=service, profile_type=kind, until=until,
                              since=not_before)  # fmt: skip
                marked = st.query(Filter(**{**base.__dict__, "baseline": True, "limit": 1}))
                if marked:
                    art = marked[0]
                else:
                    since = started - timedelta(seconds=lookback_s)
                    if not_before is not None:
                        since = max(since, not_before)
                    within = st.query(Filter(**{**base.__dict__, "since": since}))
                    if not within:
                        if not_before is not None and (old := _before(st, base, not_before)):
                            notes.append(old)
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


def _before(st: Any, base: Any, not_before: datetime) -> str | None:
    """The note for the newest capture of `base`'s kind left out for predating the process."""
    from godiag.store.base import Filter

    old = st.query(Filter(**{**base.__dict__, "since": None, "until": not_before, "limit": 1}))
    if not old:
        return None
    age = (not_before - old[0].meta.captured_at.astimezone(UTC)).total_seconds() + CLOCK_SLACK_S
    return (f"stored {base.profile_type} {old[0].id} not used as reference: taken "
            f"{age / 60:.0f} min before the process started (another process's)")  # fmt: skip


def process_start(samples: list[Any], started: datetime) -> datetime | None:
    """When the observed process started, from its samples: process_start_time_seconds
    (the target's clock), a local process's /proc age first (`godiag_proc_uptime_seconds`,
    read `at` seconds after `started`, godiag's own clock), less the clock slack the
    analysis's own check (longterm.before_start) allows: only a capture taken that long
    before the start is another process's. None when unknown."""
    for s in reversed(samples):
        if (up := s.values.get("godiag_proc_uptime_seconds")) is not None:
            return started + timedelta(seconds=s.at - up - LOCAL_SLACK_S)
    for s in reversed(samples):
        if (t := s.values.get("process_start_time_seconds")) and t > 0:
            return datetime.fromtimestamp(t, UTC) - timedelta(seconds=CLOCK_SLACK_S)
    return None


log = logging.getLogger("godiag.reference")
PERIODIC_TAG = ("capture", "periodic")


def capture(config: Config, target: Target, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Take and store one reference pair of `target`: its heap after a forced GC (what the
    diagnosis's own heap snapshots are) and a goroutine dump. The metadata is found as
    the capture commands find it (service-exposed, then the target's configuration), so
    the diagnosis of the same service finds them. Returns the store's entries."""
    from godiag.collect.goroutines import fetch_url
    from godiag.collect.pprof import collect_profile
    from godiag.pipeline.storing import base_of, keep, service_metadata, target_client, target_meta

    client = target_client(target)
    url = base_of(target.url)
    meta = service_metadata(url, client=client, configured=target_meta(target))
    meta = replace(meta, tags={**meta.tags, PERIODIC_TAG[0]: PERIODIC_TAG[1]})
    heap = collect_profile(client, url, "heap", gc=True, timeout=timeout, meta=meta)
    dump = fetch_url(url, client=client, timeout=timeout)
    dump = replace(dump, meta=dump.meta.merged(meta))
    return keep([heap, dump], config, enabled=True)


class Periodic:
    """A thread that captures every configured target's reference every `every` seconds,
    the first time right away. A target that does not answer is logged and tried again
    at the next round; it never stops the others."""

    def __init__(self, config: Config, every: float) -> None:
        self.config, self.every = config, every
        self.stopped = threading.Event()
        self.rounds = 0
        self._thread = threading.Thread(target=self._loop, name="godiag-reference", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def round(self) -> int:
        """Capture every target once; returns how many captures were stored."""
        stored = 0
        for t in self.config.targets:
            if self.stopped.is_set():
                break
            try:
                entries = capture(self.config, t)
            except (GodiagError, OSError) as exc:
                log.warning("reference capture of %s: %s", t.name, exc)
                continue
            for e in entries:
                if e.get("stored"):
                    stored += 1
                else:
                    log.warning("reference capture of %s not stored: %s", t.name,
                                e.get("message") or e.get("missing"))  # fmt: skip
        self.rounds += 1
        return stored

    def _loop(self) -> None:
        while not self.stopped.is_set():
            self.round()
            self.stopped.wait(self.every)


def periodic_references(config: Config, settings: ServeSettings) -> Periodic | None:
    """The reference captures `[serve] reference_every_seconds` asks for, not started."""
    every = settings.reference_every_seconds
    return Periodic(config, every) if every and config.targets else None
