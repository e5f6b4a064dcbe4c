"""Static corroboration: raise or lower a runtime cause with the analyzer's findings.

Runtime evidence says where goroutines, heap or lock waits pile up; the static analyzer
(`godiag analyze`) says why code can leak. A finding of an analyzer that explains the
cause's kind, in the same file within `NEAR` lines of the cause's location, raises the
cause's probability; a cause of a statically checkable kind with no finding anywhere
near its location is lowered a little (the analyzers favour precision, so their silence
is weak evidence). Every change is written into the cause's evidence.

Paths: the runtime location is the path compiled into the binary (often absolute, from
another machine); the finding's path is relative to the module root. They match when the
runtime path ends with the finding's path.
"""

from __future__ import annotations

from typing import Any

from godiag.analysis.rootcause.kinds import explains
from godiag.model.findings import Finding

NEAR = 5  # lines between the runtime frame (e.g. the blocked send) and the finding
RAISE = 0.5  # a match moves the probability half-way to 1
LOWER = 0.85  # no match keeps 85% of it

# Which fault kinds each analyzer explains (each kind lists its analyzers: kinds/).
EXPLAINS: dict[str, frozenset[str]] = explains()
CHECKABLE = frozenset().union(*EXPLAINS.values())


def _matches(loc: dict[str, Any] | None, finding: Finding) -> bool:
    if loc is None or finding.location is None:
        return False
    runtime_file = str(loc.get("file") or "").replace("\\", "/")
    rel = finding.location.file.lstrip("./")
    if not rel or not (runtime_file == rel or runtime_file.endswith("/" + rel)):
        return False
    line = loc.get("line")
    return isinstance(line, int) and abs(line - (finding.location.line or 0)) <= NEAR


def corroborate(causes: list[dict[str, Any]], findings: list[Finding]) -> list[dict[str, Any]]:
    """Return the causes with adjusted probabilities and evidence, re-ranked.

    A finding says how the code can fail, not which of the kinds it explains is happening
    (a lock held across a send is contention while the receiver drains, a deadlock when it
    never does): of the causes one finding supports, only the most probable is raised; the
    split between them stays the runtime evidence's, and the others keep theirs."""
    out: list[dict[str, Any]] = []
    supported: dict[str, list[Finding]] = {}
    for cause in causes:
        kind = str(cause.get("kind"))
        supported[kind] = [f for f in findings if kind in EXPLAINS.get(f.id, frozenset())
                           and _matches(cause.get("location"), f)]  # fmt: skip
    prob = {str(c.get("kind")): float(c.get("probability") or 0.0) for c in causes}
    for cause in causes:
        kind = str(cause.get("kind"))
        if kind not in CHECKABLE:
            out.append(cause)
            continue
        support = supported[kind]
        p = prob[kind]
        evidence = list(cause.get("evidence") or [])
        above = sorted({k for f in support for k, fs in supported.items()
                        if k != kind and f in fs and prob[k] > p})  # fmt: skip
        if above:
            evidence.append(f"static: the finding(s) at this location also explain "
                            f"{', '.join(above)}, which the runtime evidence ranks higher: "
                            f"probability kept at {p:.2f}")  # fmt: skip
            out.append({**cause, "evidence": evidence,
                        "static_support": [f.to_json() for f in support]})  # fmt: skip
            continue
        if support:
            new_p = p + (1.0 - p) * RAISE
            for f in support:
                assert f.location is not None
                evidence.append(f"static: {f.id} at {f.location.file}:{f.location.line}: "
                                f"{f.detail} (probability {p:.2f} -> {new_p:.2f})")  # fmt: skip
        else:
            new_p = p * LOWER
            evidence.append(f"static: no analyzer finding within {NEAR} lines of the location "
                            f"(probability {p:.2f} -> {new_p:.2f})")  # fmt: skip
        out.append({**cause, "probability": round(new_p, 4), "evidence": evidence,
                    "static_support": [f.to_json() for f in support]})  # fmt: skip
    out.sort(key=lambda c: -float(c.get("probability") or 0.0))
    for rank, cause in enumerate(out, 1):
        cause["rank"] = rank
    return out
