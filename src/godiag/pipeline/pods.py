"""`godiag diagnose k8s://...`: a pod's diagnosis, and its siblings as a reference.

The diagnosis itself is the live one of any service (pipeline/diagnose.py), on the pod's
proxy URL with the client carrying the cluster's credentials; this module only adds what
is Kubernetes' own: the pod's metadata, and with `--siblings N` a reference taken from up
to N other ready pods of the same controller (ReplicaSet, StatefulSet, DaemonSet) in the
same window: their goroutine count and heap in use, read once near the end of the window
at the same moment as the pod's own. The reference is a line of the document
(`kubernetes.siblings`, and a note); it never enters the ranking or the verdict.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from godiag.collect.kube.pods import PodEndpoint, Resolver
from godiag.config import Target
from godiag.errors import CollectError, ParseError

if TYPE_CHECKING:
    from godiag.pipeline.diagnose import DiagnoseOptions

MAX_SIBLINGS = 10
SAMPLE_LEAD = 0.5  # seconds before the window's end when the reference is read


def pod_target(ep: PodEndpoint) -> Target:
    """The pod as a diagnosis target: its proxy URL, its metadata as configured values."""
    meta = ep.meta()
    return Target(name=ep.name, url=ep.url, service_name=meta.service_name, tags=meta.tags)


def pod_doc(ep: PodEndpoint) -> dict[str, Any]:
    return {"namespace": ep.namespace, "pod": ep.pod, "port": ep.port, "owner": ep.owner,
            "images": list(ep.images)}  # fmt: skip


def sample(ep: PodEndpoint, timeout: float) -> dict[str, Any]:
    """Goroutines and heap in use of one pod now: /metrics (go_goroutines,
    go_memstats_heap_inuse_bytes), else the goroutine profile's total and /debug/vars."""
    from godiag.collect.pprof import collect_metrics
    from godiag.formats import prometheus

    out: dict[str, Any] = {"pod": ep.pod, "goroutines": None, "heap_inuse_bytes": None}
    try:
        cap = collect_metrics(ep.client, ep.url, timeout)
        fams = prometheus.parse(cap.data, cap.source)
        for key, name in (("goroutines", "go_goroutines"),
                          ("heap_inuse_bytes", "go_memstats_heap_inuse_bytes")):  # fmt: skip
            fam = fams.get(name)
            if fam is not None and fam.samples:
                out[key] = fam.samples[0].value
    except (CollectError, ParseError):
        pass
    if out["goroutines"] is None:
        out["goroutines"] = _goroutine_total(ep, timeout)
    if out["heap_inuse_bytes"] is None:
        out["heap_inuse_bytes"] = _heap_from_vars(ep, timeout)
    if out["goroutines"] is None and out["heap_inuse_bytes"] is None:
        out["error"] = "neither /metrics, the goroutine profile nor /debug/vars answered"
    return out


def _goroutine_total(ep: PodEndpoint, timeout: float) -> float | None:
    from godiag.collect.pprof import profile_url

    res = None
    try:
        res = ep.client.get(profile_url(ep.url, "goroutine", debug=1), timeout)
    except CollectError:
        return None
    head = res.body[:100].split(b"\n", 1)[0]
    prefix = b"goroutine profile: total "
    if head.startswith(prefix) and head[len(prefix) :].strip().isdigit():
        return float(head[len(prefix) :].strip())
    return None


def _heap_from_vars(ep: PodEndpoint, timeout: float) -> float | None:
    from godiag.collect.pprof import collect_vars
    from godiag.formats import expvar

    try:
        cap = collect_vars(ep.client, ep.url, timeout)
        value = expvar.memstats(expvar.parse(cap.data, cap.source)).get("HeapInuse")
    except (CollectError, ParseError):
        return None
    return float(value) if value is not None else None


def _span(values: list[float], fmt: Callable[[float], str]) -> str:
    lo, hi = min(values), max(values)
    return fmt(lo) if lo == hi else f"{fmt(lo)}–{fmt(hi)}"


def _mb(v: float) -> str:
    return f"{v / (1 << 20):,.0f}"


def _count(v: float) -> str:
    return f"{v:,.0f}"


def reference_line(own: dict[str, Any], sibs: list[dict[str, Any]], owner: str | None) -> str:
    """ "this pod: 4,210 goroutines, 812 MB heap in use; its 3 siblings: 12–15 goroutines,
    40–44 MB" (only the figures both sides have)."""
    ok = [s for s in sibs if "error" not in s]
    mine: list[str] = []
    theirs: list[str] = []
    for key, fmt, unit in (("goroutines", _count, " goroutines"),
                           ("heap_inuse_bytes", _mb, " MB heap in use")):  # fmt: skip
        vals = [float(s[key]) for s in ok if s.get(key) is not None]
        if own.get(key) is None or not vals:
            continue
        mine.append(fmt(float(own[key])) + unit)
        theirs.append(_span(vals, fmt) + unit)
    of = f" (same {owner.partition('/')[0]})" if owner else ""
    if not mine:
        return f"siblings{of}: no figure to compare ({len(sibs)} asked, {len(ok)} answered)"
    n = len(ok)
    return (f"this pod: {', '.join(mine)}; its {n} sibling{'s' if n != 1 else ''}{of}: "
            f"{', '.join(theirs)}")  # fmt: skip


def diagnose_pod(
    ep: PodEndpoint,
    options: DiagnoseOptions,
    *,
    resolver: Resolver | None = None,
    siblings: int = 0,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The live diagnosis of one pod, with the sibling reference when asked."""
    from godiag.pipeline.diagnose import diagnose

    sibs: list[PodEndpoint] = []
    notes: list[str] = []
    if siblings > 0:
        if resolver is None or ep.owner_uid is None:
            notes.append("--siblings: the pod has no controller, so no siblings")
        else:
            try:
                sibs = resolver.siblings(ep, min(siblings, MAX_SIBLINGS))
            except CollectError as exc:
                notes.append(f"--siblings: cannot list the pod's siblings: {exc}")
            if not sibs and not notes:
                notes.append(f"--siblings: no other ready pod of {ep.owner}")
    taken: dict[str, Any] = {}
    done = threading.Event()

    def reference() -> None:
        # near the end of the window, the pod and its siblings at the same moment
        if done.wait(max(0.0, options.window - SAMPLE_LEAD)):
            return
        with ThreadPoolExecutor(max(1, min(len(sibs) + 1, 4))) as pool:
            found = list(pool.map(lambda e: sample(e, options.timeout), [ep, *sibs]))
        taken["own"], taken["siblings"] = found[0], found[1:]

    sampler = threading.Thread(target=reference, name="godiag-siblings", daemon=True)
    if sibs:
        sampler.start()
    try:
        doc = diagnose(pod_target(ep), options, client=ep.client, progress=progress)
    except BaseException:
        done.set()  # no reference without a diagnosis
        raise
    finally:
        if sibs:
            sampler.join(options.timeout * 3 + options.window)
    kube: dict[str, Any] = pod_doc(ep)
    if "own" in taken:
        line = reference_line(taken["own"], taken["siblings"], ep.owner)
        kube["siblings"] = {"line": line, "pod": taken["own"], "others": taken["siblings"]}
        doc["notes"].append(line)
    doc["notes"].extend(notes)
    doc["kubernetes"] = kube
    return doc
