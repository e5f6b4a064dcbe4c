from __future__ import annotations

from typing import Any

from godiag.analysis.rootcause.corroborate import corroborate
from godiag.model.findings import Evidence, Finding, Location, Severity


def finding(fid: str, file: str, line: int) -> Finding:
    ev = (Evidence(file=file, line=line),)
    loc = Location(file, line)
    return Finding(id=fid, severity=Severity.WARNING, title=fid, detail="msg", evidence=ev,
                   location=loc)  # fmt: skip


def cause(kind: str, p: float, file: str | None, line: int | None) -> dict[str, Any]:
    loc = {"function": "main.f", "file": file, "line": line} if file else None
    return {"rank": 1, "kind": kind, "probability": p, "title": "t", "location": loc,
            "evidence": []}  # fmt: skip


def test_matching_finding_raises_and_reranks() -> None:
    causes = [cause("memory-leak", 0.5, "/src/cache.go", 10),
              cause("goroutine-leak", 0.4, "/build/svc/cmd/api/main.go", 42)]  # fmt: skip
    out = corroborate(causes, [finding("abandoned-sender", "cmd/api/main.go", 40)])
    assert [c["kind"] for c in out] == ["goroutine-leak", "memory-leak"]
    assert out[0]["probability"] == 0.7 and out[0]["rank"] == 1
    assert "abandoned-sender at cmd/api/main.go:40" in out[0]["evidence"][-1]
    assert out[1]["probability"] == 0.425  # timer-leak could explain it; none near: lowered


def test_no_finding_near_lowers_checkable_kinds_only() -> None:
    causes = [
        cause("goroutine-leak", 0.8, "/x/main.go", 42),
        cause("cpu-saturation", 0.1, None, None),
    ]
    out = corroborate(causes, [finding("abandoned-sender", "main.go", 90),
                               finding("abandoned-sender", "other/main.go", 42)])  # fmt: skip
    g = next(c for c in out if c["kind"] == "goroutine-leak")
    assert g["probability"] == 0.68 and "no analyzer finding" in g["evidence"][-1]
    assert next(c for c in out if c["kind"] == "cpu-saturation")["probability"] == 0.1


def test_wrong_kind_finding_does_not_support() -> None:
    out = corroborate([cause("goroutine-leak", 0.6, "/a/main.go", 5)],
                      [finding("transport-per-request", "main.go", 5)])  # fmt: skip
    assert out[0]["probability"] < 0.6


def test_a_finding_that_explains_two_kinds_raises_the_runtimes_pick_only() -> None:
    # a lock held across a send: contention while the receiver drains, a deadlock when it
    # never does; the runtime evidence (waits that end) ranked contention far higher
    causes = [cause("lock-contention", 0.98, "/t/bug/main.go", 34),
              cause("deadlock", 0.01, "/t/bug/main.go", 33)]  # fmt: skip
    out = corroborate(causes, [finding("lock-held-blocking", "main.go", 33)])
    by = {c["kind"]: c for c in out}
    assert by["lock-contention"]["probability"] == 0.99
    assert by["deadlock"]["probability"] == 0.01
    assert "runtime evidence ranks higher" in by["deadlock"]["evidence"][-1]
    # the same finding alone beside a deadlock the runtime ranks first raises it
    causes = [cause("deadlock", 0.6, "/t/bug/main.go", 33),
              cause("lock-contention", 0.3, "/t/bug/main.go", 34)]  # fmt: skip
    by = {c["kind"]: c for c in corroborate(causes, [finding("lock-held-blocking", "main.go", 33)])}
    assert by["deadlock"]["probability"] == 0.8 and by["lock-contention"]["probability"] == 0.3
