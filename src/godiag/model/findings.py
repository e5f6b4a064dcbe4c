"""The common finding shape shared by doctor, run, inspect, check and analyze."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Severity(enum.IntEnum):
    """Ordered so that `severity >= fail_on` reads naturally."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.upper()]

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Evidence:
    """What proves a finding: a command and its output, or a file and line."""

    command: str | None = None
    output: str | None = None
    file: str | None = None
    line: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "output": self.output,
            "file": self.file,
            "line": self.line,
        }


@dataclass(frozen=True)
class Location:
    file: str
    line: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line}


@dataclass(frozen=True)
class Finding:
    id: str
    severity: Severity
    title: str
    detail: str = ""
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)
    location: Location | None = None
    fix: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "severity": str(self.severity),
            "title": self.title,
            "detail": self.detail,
            "evidence": [e.to_json() for e in self.evidence],
            "location": self.location.to_json() if self.location else None,
            "fix": self.fix,
        }


def worst(findings: list[Finding]) -> Severity | None:
    """The highest severity among findings, or None when there are none."""
    return max((f.severity for f in findings), default=None)
