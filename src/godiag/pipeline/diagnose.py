"""`diagnose(target, options)`: observe a live service, rank fault kinds, locate, store.

Returns the `godiag.diagnosis/v1` document (docs/contracts.md). Never raises for a service
that is down, slow, or serves only some endpoints: the document is then partial and its
`missing` list says what could not be read and why. Capture first: the observation is
recorded raw (collect/sources.py), decoded by formats/observation.py, then analysed;
`--save-captures` writes the recording and `replay(dir, options)` analyses it again
offline, to the same document (docs/diagnose.md "Replay").
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from godiag import provenance
from godiag.analysis.rootcause import chain, kinds, locate, longterm
from godiag.analysis.rootcause.derived import Derived, derive
from godiag.analysis.rootcause.kinds.base import UNCONFIRMED, place_unsure, unconfirmed
from godiag.collect.http import HttpClient, shown_url
from godiag.config import Config, Target
from godiag.limits import CAPTURE_MB, CAPTURE_SECONDS, DEADLINE_SLACK_SECONDS, IN_FLIGHT, MB, Budget
from godiag.model.capture import Capture, CaptureMeta
from godiag.model.observation import Observation, Recording
from godiag.pipeline.observe import Observer, Progress
from godiag.pipeline.storing import build_identity, metrics_client, service_host

SCHEMA = "godiag.diagnosis/v1"
NO_DIAGNOSIS = "no diagnosis: the service could not be observed"
MAX_CAUSES = 3
# exit 1 at or above this by default: the ranker's confidence floor (ranker.FLOOR; a unit
# test keeps them equal), so a fault the verdict names is a fault the exit status reports
MIN_PROBABILITY = 0.4


@dataclass(frozen=True)
class DiagnoseOptions:
    window: float = 5.0
    cpu: float | None = None  # None: automatic (CPU use high or not exported), 0: never, N: seconds
    source: str | None = None  # module directory for static corroboration
    store: bool = True
    baseline: bool = False  # mark the stored artifacts as the service's baseline
    min_probability: float = MIN_PROBABILITY
    overrides: CaptureMeta = field(default_factory=CaptureMeta)  # the command line's metadata
    config: Config | None = None
    timeout: float = CAPTURE_SECONDS  # one capture's time budget, connect to last byte
    max_capture_mb: int = CAPTURE_MB  # one capture's budget, bytes after decompression
    deadline: float | None = None  # seconds for the whole diagnosis (None: window + slack)
    flames: bool = True  # carry CPU / heap-growth flame rows for the HTML report
    incident_id: str | None = None  # set by `godiag serve`: artifacts belong to the incident
    save_captures: Path | None = None  # write every raw capture and manifest.json here
    # how far back the Prometheus history and the store's reference captures reach
    # (0: no stored reference; the Prometheus history then covers 5 minutes)
    lookback: float = 1800.0


def _service_name(target: Target) -> str:
    """The service name its captures are stored under (as `_service_meta` makes it)."""
    host = service_host(target.url)
    return target.service_name or (target.name if target.name != host else host)


def _local_pid(target: Target) -> int | None:
    """The PID of a target given as a local process (`diagnose PID` tags it), whose /proc
    this machine can read."""
    from godiag.collect import hostcpu

    pid = target.tags.get("pid", "")
    return int(pid) if pid.isdigit() and hostcpu.is_local(target.url) else None


def _bind_local(target: Target, client: HttpClient, timeout: float) -> tuple[Target, str]:
    """A loopback target bound to the local process serving it, when one can be told for
    sure (collect/localproc.py), so /proc gives its open fds; and the sentence saying so."""
    from godiag.collect.localproc import serving_pid
    from godiag.pipeline.storing import bind_pid

    found = serving_pid(target.url, client, min(timeout, 5.0))
    return (target if found.pid is None else bind_pid(target, found.pid)), found.why


def _service_meta(obs: Observation, target: Target) -> CaptureMeta:
    """What the service says about itself (its /metrics), under the target's and user's values."""
    from godiag.errors import ParseError
    from godiag.formats import prometheus

    said = CaptureMeta()
    for cap in obs.captures:
        if cap.profile_type == "metrics":
            try:
                said = prometheus.self_described(prometheus.parse(cap.data, cap.source))
            except ParseError:
                continue
            break
    host = service_host(target.url)
    exposed = replace(said, service_name=host, host=host)
    configured = CaptureMeta(
        target.service_name or (target.name if target.name != host else None),
        target.go_version, target.build_commit, dict(target.tags),
    )  # fmt: skip
    return build_identity(exposed.merged(configured))


def _store(
    captures: list[Capture], meta: CaptureMeta, options: DiagnoseOptions, replayed: bool = False
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    from godiag.store import store_outcome
    from godiag.store.metadata import describe_missing

    if not options.store:
        why = "a replay stores only with --store" if replayed else "--no-store"
        return [], {"stored": 0, "missing": [], "message": f"not stored ({why})"}
    arts: list[dict[str, Any]] = []
    missing: set[str] = set()
    for cap in captures:
        out = store_outcome(
            replace(cap, meta=meta),
            options.overrides,
            options.config,
            baseline=options.baseline,
            incident_id=options.incident_id,
        )
        if out.get("stored"):
            aid = str(out["id"])
            arts.append({"id": aid, "profile_type": cap.profile_type,
                         "uri": f"godiag-store:{aid}", "source": cap.source})  # fmt: skip
        else:
            missing.update(str(m) for m in out.get("missing", []))  # type: ignore[attr-defined]
    msg = f"{len(arts)} artifacts stored"
    if missing:
        msg = f"artifacts not stored: {describe_missing(sorted(missing))}"
    return arts, {"stored": len(arts), "missing": sorted(missing), "message": msg}


def _series(obs: Observation) -> dict[str, list[list[float]]]:
    names = ("go_goroutines", "go_memstats_heap_inuse_bytes", "process_open_fds",
             "process_cpu_seconds_total", "go_gc_duration_seconds_count")  # fmt: skip
    out: dict[str, list[list[float]]] = {}
    for n in names:
        pts = [[round(s.at, 3), s.values[n]] for s in obs.samples if n in s.values]
        if pts:
            out[n] = pts
    return out


def _history(lt: longterm.LongTerm, obs: Observation) -> dict[str, Any]:
    """Which history the diagnosis used: the summary line, the Prometheus series (for the
    HTML plots) with their trends, and the stored baseline captures."""
    trends = {
        name: {"points": [[round(t, 3), v] for t, v in obs.trends.get(name, [])],
               "shape": t.shape, "delta": t.delta, "slope_per_min": round(t.slope_per_min, 4),
               "monotonicity": round(t.monotonicity, 4), "minutes": round(t.minutes, 3)}
        for name, t in lt.trends.items()
    }  # fmt: skip
    return {
        "summary": longterm.summary(lt),
        "lookback_s": obs.lookback,
        "series": trends,
        "baseline": {"sources": list(obs.baseline_sources),
                     "age_s": {k: round(v, 3) for k, v in obs.baseline_ages.items()}},
    }  # fmt: skip


def _groups(derived: Derived) -> list[dict[str, Any]]:
    """The ten fastest-growing goroutine groups over the window (none without two dumps)."""
    from godiag.analysis.goroutines import group_doc

    if derived.total_growth is None:
        return []
    keep = ("signature", "count", "growth", "state", "category", "user_frame", "created_by")
    docs = (group_doc(g, diffed=True) for g in derived.groups[:10])
    return [{k: d[k] for k in keep} for d in docs]


def _flames(obs: Observation) -> dict[str, Any]:
    from godiag.analysis.flame import flame_rows
    from godiag.analysis.profiles import NodeTable, build_stacks, subtract

    out: dict[str, Any] = {}
    if obs.cpu is not None:
        out["cpu"] = {"unit": "nanoseconds", **flame_rows(build_stacks(obs.cpu, "cpu"))}
    if len(obs.heap) == 2:
        table = NodeTable()
        a = build_stacks(obs.heap[0], "inuse_space", table=table)
        b = build_stacks(obs.heap[1], "inuse_space", table=table)
        grow = subtract(b, a)
        grow.stacks[:] = [(s, v) for s, v in grow.stacks if v > 0]
        if grow.stacks:
            out["heap_growth"] = {"unit": "bytes", **flame_rows(grow)}
    return out


def _corroborate(
    source: str | None, causes: list[dict[str, Any]], notes: list[str]
) -> list[dict[str, Any]]:
    """Adjust the causes with the static analyzer's findings on the module in `source`."""
    if not source:
        return causes
    from pathlib import Path

    from godiag.analysis.rootcause.corroborate import corroborate
    from godiag.errors import GodiagError
    from godiag.toolchain import analyzer

    try:
        findings = analyzer.run(Path(source))
    except GodiagError as exc:
        notes.append(f"--source: static analysis failed, causes not adjusted: {exc}")
        return causes
    notes.append(
        f"--source: {len(findings)} static finding(s) in {source} compared with the causes"
    )
    return corroborate(causes, findings)


def diagnose(
    target: Target,
    options: DiagnoseOptions,
    *,
    client: HttpClient | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Observe the live service `target`, then analyse what was recorded."""
    from godiag.collect import hostcpu
    from godiag.collect.sources import Source
    from godiag.formats.observation import build

    started = datetime.now(UTC)
    t0 = time.monotonic()
    deadline_s = deadline_of(options)
    # Every fetch of this diagnosis, whatever the target sends, ends by the deadline and
    # holds at most max_capture_mb; concurrent fetches share the process's pool.
    budget = Budget(options.max_capture_mb * MB, deadline=t0 + deadline_s)
    client = client or HttpClient(
        headers=target.auth.header(), tls_verify=target.tls_verify, ca_file=target.ca_file
    )
    client = replace(client, budget=budget, pool=client.pool or IN_FLIGHT)
    prom = options.config.prometheus_url if options.config is not None else None
    prom_headers = options.config.prometheus_auth.header() if options.config is not None else {}
    local = hostcpu.is_local(target.url)
    cpu_before = hostcpu.read() if local else None
    bound: str | None = None
    if local and "pid" not in target.tags:
        target, bound = _bind_local(target, client, options.timeout)
    live = Observer(
        target.url, client, options.window, options.cpu, CaptureMeta(), options.timeout, progress,
        prometheus=prom, prometheus_headers=prom_headers, pid=_local_pid(target),
        lookback=options.lookback or 300.0, metrics_url=target.metrics_url,
        metrics_client=metrics_client(target, client),
    )  # fmt: skip
    observer: Source = live
    rec = observer.record()
    if bound is not None:
        rec.notes.append(bound)
    rec.lookback = rec.lookback or options.lookback  # the span read, or asked for
    decoded = dict(observer.decoded)
    if options.lookback > 0 and options.config is not None:
        from godiag.pipeline.reference import min_reference_age, process_start, reference

        service = options.overrides.service_name or _service_name(target)
        refs, ref_decoded, ref_notes = reference(
            options.config, service, started, options.lookback, limit=budget.max_bytes,
            not_before=process_start(live.samples, started),
            min_age_s=min_reference_age(options.window),
        )  # fmt: skip
        rec.captures.extend(refs)
        rec.notes.extend(ref_notes)
        decoded.update(ref_decoded)
    rec.host_busy = hostcpu.busy_cpus(cpu_before, hostcpu.read() if local else None)
    rec.cpu_count = hostcpu.cpu_count()
    rec.url = shown_url(target.url)
    rec.metrics_url = shown_url(target.metrics_url) if target.metrics_url else None
    rec.started_at = started.isoformat().replace("+00:00", "Z")
    rec.limits = {"capture_mb": options.max_capture_mb, "capture_s": options.timeout,
                  "deadline_s": round(deadline_s, 3)}  # fmt: skip
    obs = build(rec, limit=budget.max_bytes, pool=client.pool, decoded=decoded)
    rec.meta = _service_meta(obs, target)
    doc = _analyse(rec, obs, options)
    rec.diagnosis_s = doc["duration_s"] = round(time.monotonic() - t0, 3)
    if options.save_captures is not None:
        from godiag.collect import bundle

        try:
            bundle.save(options.save_captures, rec)
        except OSError as exc:  # the diagnosis stands; say why its captures are not there
            doc["notes"].append(f"--save-captures: not saved: {exc}")
            if progress is not None:
                progress(f"captures not saved to {options.save_captures}: {exc}")
    return doc


def replay(path: Path, options: DiagnoseOptions) -> dict[str, Any]:
    """The diagnosis of a bundle saved by `--save-captures`: no network; the document is
    the recorded one's, but for what was stored (`options.store`; the command sets it
    only with an explicit --store)."""
    from godiag.collect.sources import BundleSource, Source
    from godiag.formats.observation import build

    source: Source = BundleSource(path, options.max_capture_mb * MB)
    rec = source.record()
    obs = build(rec, limit=options.max_capture_mb * MB, pool=IN_FLIGHT, decoded=source.decoded)
    doc = _analyse(rec, obs, options, replayed=True)
    doc["duration_s"] = rec.diagnosis_s
    return doc


NO_EVIDENCE = (
    "nothing in the captures points at it (no allocation site, goroutine group, "
    "profile frame or series carries it); a longer --window would decide"
)


def _analyse(
    rec: Recording, obs: Observation, options: DiagnoseOptions, replayed: bool = False
) -> dict[str, Any]:
    """The document of one recorded observation: pure but for storing and --source."""
    from godiag.analysis.rootcause import hostload, ranker
    from godiag.analysis.rootcause.features import extract

    meta = rec.meta
    # the dumps' groups and growth, made once for the features, the locators and the document
    derived = derive(obs)
    # the stored baseline and the Prometheus history: evidence after the model, not inputs
    lt = longterm.gather(obs, derived)
    feats = {**extract(obs, derived), **longterm.features(lt)}
    answered = bool(obs.samples or obs.dumps or obs.heap)
    causes: list[dict[str, Any]] = []
    notes = list(obs.notes)
    set_aside: dict[str, str] = {}  # kinds ranked after the top for lack of evidence
    ranked: list[tuple[str, float]] = []  # every kind, as the causes list them first
    raised: dict[str, str] = {}  # kinds the long-term rules moved, and how
    proven: frozenset[str] = frozenset()  # of those, set on evidence of their own
    where: dict[str, locate.Located] = {}  # every kind's location and evidence
    if answered:
        where = locate.locate_all(obs, derived)
        ranked, raised = longterm.adjust(ranker.rank(feats), lt, where.get("deadlock", (None,))[0])
        proven = longterm.evidenced(raised)
        ranked, set_aside = ranker.by_evidence(ranked, feats, proven)
        for kind, p in _listed(ranked, set_aside):
            loc, ev = where.get(kind, (None, []))
            if (measured := kinds.KINDS[kind].measured) is not None:
                ev = [*ev, *measured(feats, obs.duration)]
            d5 = feats.get("goroutines_delta_5m")
            # a bundle recorded before the lookback has the last 5 minutes only
            only_5m = "go_goroutines" not in lt.trends
            if only_5m and kinds.KINDS[kind].goroutine_history and d5 is not None:
                ev = [*ev, f"Prometheus: go_goroutines changed by {d5:+.0f} over the last "
                      f"5 minutes"]  # fmt: skip
            ev = [*ev, *longterm.evidence(kind, lt)]
            if kind in raised:
                ev = [*ev, raised[kind]]
            # why a more probable kind ranks lower: in the evidence, and as a field for scripts
            aside = {"set_aside": set_aside[kind]} if kind in set_aside else {}
            if aside:
                ev = [*ev, f"ranked after kinds with evidence, its own is absent: "
                      f"{set_aside[kind]}"]  # fmt: skip
            elif kind not in proven and (why := kinds.unsupported(kind, feats)) is not None:
                # what it shows does not make its case: the reason, beside what it shows
                ev = [*ev, f"{UNCONFIRMED}{why}"]
            title = _title(kind, feats, loc, kind in proven)
            if kind != "healthy" and loc is None and not ev and not title.startswith(UNCONFIRMED):
                # nothing points at it: its title ("live heap keeps growing") is not a finding
                title = f"{UNCONFIRMED}{title}"
            causes.append({"rank": len(causes) + 1, "kind": kind, "probability": round(p, 4),
                           "title": title, "location": loc, "evidence": ev, **aside})  # fmt: skip
        causes = _corroborate(options.source, causes, notes)
    notes += [f"{k} ranked after kinds with evidence: {w}" for k, w in set_aside.items()]
    top = causes[0] if causes else None
    confident = top is not None and top["probability"] >= ranker.FLOOR
    starved = hostload.starved(rec.host_busy, rec.cpu_count or 1, feats.get("cpu_seconds_per_s"))
    if starved and answered:
        notes.append(starved)
    if options.flames and answered:
        try:
            flames = _flames(obs)
        except Exception as exc:  # a report extra must never sink the diagnosis
            flames = {}
            notes.append(f"flame graphs skipped: {type(exc).__name__}")
    else:
        flames = {}
    artifacts, store = _store(obs.captures, meta, options, replayed)
    # fault kinds with evidence of their own that the causes leave unlisted (kinds without
    # it scored above them took the rows): a contest and "one place" weigh them too
    unlisted = _unlisted(ranked, where, causes, feats, proven)
    if not answered:
        verdict = NO_DIAGNOSIS
    elif (
        starved
        and top is not None
        and hostload.undecidable(top["kind"], obs, derived.prefix)
        # what reached before the window decided it (goroutines parked for minutes, growth
        # since a baseline): a busy machine now did not make that
        and top["kind"] not in longterm.decisive(lt)
    ):
        confident = False
        verdict = (f"not sure: {top['kind']} ranks first ({_ranked_at(top)}), but "
                   f"{starved}")  # fmt: skip
    elif top is not None and (
        (top["kind"] not in proven and (why := kinds.unsupported(top["kind"], feats)) is not None)
        # a fault is named with what proves it, or not at all: the model's score alone,
        # with no site, group or series behind it, is a guess
        or (top["kind"] != "healthy" and not top["evidence"] and (why := NO_EVIDENCE))
        # evidence a service doing its usual work gives as well (a hot request path)
        or (confident and (why := kinds.doubt(top["kind"], feats)) is not None)
        # a confident "healthy" that what grew before the window contradicts
        or (confident and (why := longterm.doubt(top["kind"], lt)) is not None)
        # a kind that what grew before the window put first without deciding it (one the
        # model put first on the window's own evidence keeps the model's verdict)
        or (top["kind"] in raised and (why := longterm.undecided(top["kind"], lt)) is not None)
        # goroutines named as stuck that the reference shows looping
        or (
            top["kind"] == "deadlock"
            and (why := longterm.looping_line(top["location"], lt)) is not None
        )
        # a runner-up close behind with evidence of its own
        or (confident and (why := _contest(causes, ranked, feats, obs, unlisted)) is not None)
        # "no fault" at odds with every fault together
        or (confident and (why := _outweighed(ranked, feats, proven)) is not None)
    ):
        confident = False
        verdict = f"not sure: {top['kind']} ranks first ({_ranked_at(top)}), but {why}"
        verdict += _if_it_is(top, why)
    elif not confident:
        share = ranker.shown_at(top["kind"], top["probability"])  # type: ignore[index]
        verdict = (f"not sure: the most likely cause, {top['kind']}, has only "  # type: ignore[index]
                   f"{share} (below the {ranker.FLOOR:.0%} floor)")  # fmt: skip
        listed = {c["kind"] for c in causes}
        if named := {k: w for k, w in set_aside.items() if k in listed}:
            verdict += "; " + _set_aside(named, dict(ranked))
        if (place := _one_place([*causes, *unlisted], obs)) is not None:
            verdict += "; " + place
        verdict += "; " + _undecided(feats)
    else:
        verdict = f"{top['kind']} ({top['probability']:.0%})"  # type: ignore[index]
    # what storing will see: the recorded metadata under the command line's
    stored_as = meta.merged(options.overrides)
    now = bool(store.get("stored"))
    verdict = _store_flags(verdict, stored_as, now)
    for c in causes:
        c["evidence"] = [_store_flags(e, stored_as, now) for e in c["evidence"]]
    shown = {c["kind"] for c in causes}
    return {
        "schema": SCHEMA,
        "tool": provenance.tool(),
        # a replay names the godiag that recorded the bundle: another one may answer otherwise
        **({"replay": _replay(rec)} if replayed else {}),
        "target": {
            "url": rec.url,
            "service_name": meta.service_name,
            **({"metrics_url": rec.metrics_url} if rec.metrics_url else {}),
        },
        "started_at": rec.started_at,
        "duration_s": rec.diagnosis_s,
        "window_s": rec.window,
        "status": "complete" if answered and not obs.missing else "partial",
        "verdict": verdict,
        "confident": confident,
        "min_probability": options.min_probability,
        "features": feats,
        "causes": causes,
        # the kinds not listed, as the model scored them: a verdict may name one of them;
        # one scored above a listed cause says why it is not listed (`set_aside`)
        "others": [
            {"kind": k, "probability": p, **_left_out(k, p, causes, feats, set_aside)}
            for k, p in sorted(ranked, key=lambda kv: -kv[1])
            if k not in shown
        ],
        "missing": list(obs.missing),
        "notes": notes,
        "metrics_source": obs.metrics_source,
        "series": _series(obs),
        "goroutine_groups": _groups(derived),
        "history": _history(lt, obs),
        "flames": flames,
        "artifacts": artifacts,
        "store": store,
        "budgets": {**rec.limits, "hits": list(obs.budget_hits)},
    }


def _left_out(
    kind: str, p: float, causes: list[dict[str, Any]], feats: dict[str, Any], aside: dict[str, str]
) -> dict[str, str]:
    """`{"set_aside": why}` for a kind not listed although scored above a listed cause: it
    was ranked after kinds with evidence for lack of its own (`kinds.unsupported`)."""
    why = aside.get(kind)
    if why is None and causes and p > min(c["probability"] for c in causes):
        why = kinds.unsupported(kind, feats)
    return {"set_aside": why} if why else {}


def _replay(rec: Recording) -> dict[str, Any]:
    """Who recorded the replayed bundle, and the one line saying so when it was not this
    godiag (null when it was)."""
    return {"recorded_by": rec.tool, "warning": provenance.replay_line(rec.tool)}


def _title(
    kind: str, feats: dict[str, Any], loc: dict[str, Any] | None, proven: bool = False
) -> str:
    """The cause's title; a kind whose own evidence is absent (`kinds.unsupported`) says it
    is unconfirmed rather than stating its fault as a fact ("the garbage collector runs
    constantly" of an idle service), unless a lead put it first on evidence of its own
    (`proven`)."""
    title = kinds.title(kind, feats, loc)
    absent = not proven and kinds.unsupported(kind, feats) is not None
    return f"{UNCONFIRMED}{title}" if absent else title


# a cause scored under this is not worth a row: "lock-contention 0%" listed second hides a
# kind scored far higher and set aside for lack of evidence (which is then listed)
MIN_LISTED = 0.005


def _listed(
    ranked: list[tuple[str, float]], set_aside: dict[str, str] | None = None
) -> list[tuple[str, float]]:
    """The causes the document lists: the first MAX_CAUSES of the ranking, the top always,
    the others only when scored MIN_LISTED or more; and the kinds set aside for lack of
    evidence (the two scored highest), in place of the last others when they crowd them
    out (the verdict names those: a script reading `causes` finds each there, with its
    `set_aside` reason). A set-aside kind already listed is not the one replaced to make
    room for another."""
    aside = set(set_aside or {})
    shown = [kv for i, kv in enumerate(ranked) if i == 0 or kv[1] >= MIN_LISTED][:MAX_CAUSES]
    # the set-aside kinds the model scored highest, as many as fit beside the top (the
    # document's schema lists MAX_CAUSES at most; the verdict names those listed)
    named = sorted((kv for kv in ranked if kv[0] in aside), key=lambda kv: -kv[1])
    named = named[: MAX_CAUSES - 1]
    if all(kv in shown for kv in named):
        return shown
    room = MAX_CAUSES - len(named)
    others = [kv for i, kv in enumerate(shown) if i == 0 or kv[0] not in aside][:room]
    return [kv for kv in ranked if kv in others or kv in named]


# What decides when no cause reaches the floor: the window saw too little of any fault (a
# slow one shows over minutes, an intermittent one while it is on), or one window cannot
# tell a fault from the service's usual state (a reference can).
_SOONER = "a longer --window (slow faults show over minutes), a diagnosis while the symptom is on"
UNDECIDED = (f"{_SOONER}, or a baseline stored now (`godiag diagnose URL --store --as-baseline`) "
             "and a diagnosis minutes later would decide")  # fmt: skip


def _undecided(feats: dict[str, Any]) -> str:
    """UNDECIDED, where a stored reference was compared already: the later diagnosis against
    it, not a baseline to store (advised beside a reference 25 s old, a trial user read it
    as the baseline just stored having been ignored)."""
    from godiag.analysis.rootcause.longterm.common import against_reference

    age = feats.get("baseline_age_minutes")
    if age is None:
        return UNDECIDED
    return f"{_SOONER}, or {against_reference(age * 60)} would decide"


def _ranked_at(top: dict[str, Any]) -> str:
    """The top cause's probability in a "not sure" verdict, never rounded up to the floor its
    kind needs for a verdict (healthy at 0.5476 is "54.7%": "55%" would meet the floor the
    same sentence says it missed)."""
    from godiag.analysis.rootcause import ranker

    return ranker.shown_at(top["kind"], top["probability"])


def _contest(
    causes: list[dict[str, Any]],
    ranked: list[tuple[str, float]],
    feats: dict[str, Any],
    obs: Observation,
    unlisted: Sequence[dict[str, Any]] = (),
) -> str | None:
    """Why a top cause with a runner-up close behind is no verdict (ranker.contested over
    the whole ranking). The runner-up may be unlisted (kinds without evidence scored above
    it fill the rows): it is then one of `unlisted` (`_unlisted`)."""
    from godiag.analysis.rootcause import ranker

    # the listed causes as the report gives them (a static finding may have moved one),
    # then the kinds not listed
    listed = {c["kind"] for c in causes}
    ranked = [(c["kind"], c["probability"]) for c in causes] + [
        (k, p) for k, p in ranked if k not in listed
    ]
    rival = ranker.contested(ranked, feats)
    second = next((c for c in [*causes, *unlisted] if rival and c["kind"] == rival[0]), None)
    if rival is None or second is None or not second["evidence"]:
        return None
    head = (f"{rival[0]} is close behind ({rival[1]:.0%}) with evidence of its own "
            f"({second['evidence'][0]})")  # fmt: skip
    here, there = causes[0].get("location"), second.get("location")
    if here and there and (place := _code_to_change([here, there], obs)) is not None:
        # one piece of code doing both (a regexp compiled per call burns CPU and churns
        # the heap): which name it gets matters less than where it is, and that is known
        return f"{head}, {place}"
    return (f"{head}: both read the same captures; a diagnosis while the symptom is "
            f"stronger, or a longer --window, would decide")  # fmt: skip


def _if_it_is(top: dict[str, Any], why: str) -> str:
    """Where a withheld fault's own evidence places it, when the reason does not already
    say: the kind is not sure, the code it would be is (a hot request path is a fault or
    a busy day, and either way that is where the time goes)."""
    loc = top.get("location")
    if (top["kind"] == "healthy" or not loc or not top["evidence"] or unconfirmed(top)
            or place_unsure(top) or loc["function"] in why):  # fmt: skip
        return ""
    return f"; if it is {top['kind']}, the code to change is {locate.where(loc)}"


def _code_to_change(locs: list[dict[str, Any]], obs: Observation) -> str | None:
    """Where the code to change is when several causes' locations are one function, or
    one call chain in the captured stacks (chain.outermost); None otherwise."""
    if len({loc["function"] for loc in locs}) == 1:
        return f"at the same place: whichever it is, the code to change is {locate.where(locs[0])}"
    if (i := chain.outermost(locs, chain.stacks(obs))) is None:
        return None
    inner = ", ".join(locate.where(loc) for loc in locs if loc["function"] != locs[i]["function"])
    return (f"at one call chain: {locate.where(locs[i])} calls {inner} (in the captured stacks): "
            f"whichever it is, the code to change is that call")  # fmt: skip


def _unlisted(
    ranked: list[tuple[str, float]],
    where: dict[str, locate.Located],
    causes: list[dict[str, Any]],
    feats: dict[str, Any],
    proven: frozenset[str],
) -> list[dict[str, Any]]:
    """The fault kinds with evidence of their own the causes do not list (unconfirmed kinds
    scored above them took their rows), as causes with the locator's location and evidence:
    what `_contest` and `_one_place` weigh besides the listed ones."""
    listed = {c["kind"] for c in causes}
    return [{"kind": k, "probability": p, "location": where[k][0], "evidence": where[k][1]}
            for k, p in ranked
            if k not in listed and k != "healthy" and k in where
            and (k in proven or kinds.unsupported(k, feats) is None)]  # fmt: skip


def _one_place(causes: list[dict[str, Any]], obs: Observation) -> str | None:
    """When no cause reaches the floor but the faults listed with evidence of their own all
    locate in one function, or on one call chain, and together reach it: the kind is
    undecided, the code to change is not (a lock held while marshalling JSON contends,
    burns CPU and churns the heap at once)."""
    from godiag.analysis.rootcause import ranker

    faults = [c for c in causes if c["kind"] != "healthy" and c["evidence"] and c.get("location")
              and not unconfirmed(c)]  # fmt: skip
    if len(faults) < 2:
        return None
    together = sum(c["probability"] for c in faults)
    place = _code_to_change([c["location"] for c in faults], obs)
    if together < ranker.FLOOR or place is None:
        return None
    names = ", ".join(f"{c['kind']} {c['probability']:.0%}" for c in faults)
    return f"{names} ({together:.0%} together) point {place}"


# the baseline command the verdicts and evidence advise, and the flags each mandatory field
# it lacks needs on the command line: as printed it must store (a pprof-only service exposes
# neither its Go version nor its commit)
BASELINE_COMMANDS = ("`godiag diagnose URL --store --as-baseline`",
                     "`godiag diagnose URL --as-baseline`")  # fmt: skip
STORE_FLAGS = (("service_name", "--service NAME"), ("go_version", "--go-version VERSION"),
               ("build_commit", "--build-commit REV"))  # fmt: skip


# what the baseline advice says instead when this diagnosis was stored: its captures are the
# reference of the diagnoses after it (pipeline/reference.py: the newest marked baseline,
# else the oldest capture within the lookback), so the command would only store it again
STORED_NOW = "this diagnosis, stored now, is a later one's reference within --lookback"


def _store_flags(text: str, meta: CaptureMeta, stored: bool = False) -> str:
    """`text` with its baseline command completed by the flags the metadata lacks, or,
    when this diagnosis was stored, saying that it is the reference the advice asks for."""
    if stored:
        for cmd in BASELINE_COMMANDS:
            text = text.replace(f"({cmd} now, ", f"({STORED_NOW}; ").replace(
                f"({cmd})", f"({STORED_NOW})"
            )
        return text
    flags = " ".join(flag for name, flag in STORE_FLAGS if not getattr(meta, name))
    if not flags:
        return text
    for cmd in BASELINE_COMMANDS:
        text = text.replace(cmd, f"{cmd[:-1]} {flags}`")
    return text


def _outweighed(
    ranked: list[tuple[str, float]], feats: dict[str, Any], proven: frozenset[str] = frozenset()
) -> str | None:
    """Why a healthy top below ranker.HEALTHY_FLOOR is no verdict (ranker.outweighed): the
    faults' total over every kind, not only those listed. A named fault without evidence of
    its own says so: the causes list ranks it after those with evidence (or leaves it out),
    and a verdict naming it with no word of that reads as a list out of order."""
    from godiag.analysis.rootcause import kinds, ranker

    out = ranker.outweighed(ranked)
    if out is None:
        return None
    total, faults = out
    than = "more" if total > ranked[0][1] else "nearly as much"
    # more, shown so: 0.5004 is "50.1%", not the "50%" healthy's 0.4996 shows as
    more = (f"{math.ceil(total * 1000) / 10:.1f}%" if than == "more" and round(total * 100) <= 50
            else f"{total:.0%}")  # fmt: skip

    def bare(k: str) -> bool:
        return k not in proven and kinds.unsupported(k, feats) is not None

    shown = [(k, p) for k, p in faults[:3] if p >= MIN_LISTED]
    if shown and all(bare(k) for k, _ in shown):
        # nothing points at a fault, yet the window cannot rule one out: say so plainly
        named = ", ".join(f"{k} {p:.0%}" for k, p in shown)
        return (f"the faults together score {than} ({more}: {named}), none of them with "
                f"evidence of its own in this window: no fault was seen, but one window does not "
                f"rule out a slow or intermittent one (no fault is a verdict only at "
                f"{ranker.HEALTHY_FLOOR:.0%} or more); {_undecided(feats)}")  # fmt: skip
    named = ", ".join(f"{k} {p:.0%}" + (" (not confirmed by its own evidence)" if bare(k) else "")
                      for k, p in shown)  # fmt: skip
    return (f"the faults together score {than} ({more}: {named}): no fault is a verdict "
            f"only at {ranker.HEALTHY_FLOOR:.0%} or more; {_undecided(feats)}")  # fmt: skip


def _set_aside(why: dict[str, str], p: dict[str, float]) -> str:
    """The kinds the model scored higher, ranked after the top for lack of evidence."""
    named = ", ".join(f"{k} ({p[k]:.0%})" for k in why)
    return f"scored higher but not confirmed by their own evidence: {named}"


def deadline_of(options: DiagnoseOptions) -> float:
    """Seconds the whole diagnosis may take: the window, a CPU profile that may start
    after it began, and the slack for the captures at both ends."""
    if options.deadline is not None:
        return options.deadline
    return options.window + (options.cpu or 0.0) + DEADLINE_SLACK_SECONDS


def unobserved(doc: dict[str, Any]) -> str | None:
    """Why nothing at all could be read from the target (None when something was).

    A script reads exit 0 as healthy, so the command turns this into an error; serve keeps
    the partial document, which says what was tried.
    """
    if doc.get("verdict") != NO_DIAGNOSIS:
        return None
    missing = [str(m) for m in doc.get("missing") or []]
    silent = next((m for m in missing if "cannot connect" in m or "timed out" in m), None)
    why = silent or next(iter(missing), "no answer")
    # a service that answered every request with an error (401, 404) did answer
    what = "nothing answered" if silent or not missing else "nothing could be read"
    return f"cannot diagnose {doc['target']['url']}: {what} ({why})"


def is_fault(doc: dict[str, Any], suspect: bool = False) -> bool:
    """The exit-status rule: the verdict names a fault (not "not sure") at or above
    min_probability. A fault ranked first that the verdict is not sure of pages no one: the
    document says what would decide (`confident` false); `suspect` (`--fail-on suspect`)
    counts it, for a script that would rather look at every fault ranked first."""
    causes = doc.get("causes") or []
    if suspect and causes and causes[0]["kind"] != "healthy":
        return True
    return bool(
        causes
        and doc.get("confident", True)
        and causes[0]["kind"] != "healthy"
        and causes[0]["probability"] >= doc.get("min_probability", MIN_PROBABILITY)
    )
