"""Rules `godiag check` evaluates: compare a capture taken now with an earlier one.

One module per rule. Each says which stored artifact type it compares against
(`PROFILE_TYPE`) and exposes a pure `evaluate(...)` over decoded models returning a
`Verdict`: violated or not, one summary line, numbers, and the call sites that prove it
(file:line). Thresholds are explicit arguments with defaults chosen to ignore the noise
of sampled profiles; the CLI only collects and reports.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from godiag.errors import UsageError
from godiag.model.findings import Finding

RULES: dict[str, str] = {
    "memory-leak": "godiag.analysis.rules.memory_leak",
    "goroutine-leak": "godiag.analysis.rules.goroutine_leak",
    "gc-pressure": "godiag.analysis.rules.gc_pressure",
    "lock-contention": "godiag.analysis.rules.lock_contention",
}


@dataclass
class Verdict:
    rule: str
    violated: bool
    summary: str
    measurements: dict[str, Any] = field(default_factory=dict)
    sites: list[dict[str, Any]] = field(default_factory=list)  # evidence rows, biggest first
    findings: list[Finding] = field(default_factory=list)
    thresholds: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "violated": self.violated,
            "summary": self.summary,
            "measurements": self.measurements,
            "thresholds": self.thresholds,
            "sites": self.sites,
            "findings": [f.to_json() for f in self.findings],
        }


def rule_module(name: str) -> ModuleType:
    mod = RULES.get(name)
    if mod is None:
        raise UsageError(f"unknown rule {name!r} (one of {', '.join(sorted(RULES))})")
    return importlib.import_module(mod)


def where(site: dict[str, Any]) -> str:
    """`function (file:line)` of an evidence row."""
    loc = f"{site['file']}:{site['line']}" if site.get("file") else "?"
    return f"{site['function']} ({loc})"


def per_minute(amount: float, elapsed_s: float) -> float:
    return amount * 60.0 / elapsed_s if elapsed_s > 0 else 0.0


def human(value: float, unit: str) -> str:
    """A value in the unit pprof would print it in (`12.5MB`, `340ms`)."""
    from godiag.analysis.units import fmt_value, pick_unit

    suffix, div = pick_unit(unit, int(value))
    return fmt_value(int(value), suffix, div)
