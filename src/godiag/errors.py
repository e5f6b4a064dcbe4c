"""One error hierarchy, mapped to exit codes in one place (`godiag.cli.main`).

Every error a user can cause is a `GodiagError`: it prints as one line on stderr and
exits with `ExitStatus.USAGE` (2). Anything else is a bug: exit 3 with the traceback
written to a file, never to the terminal.
"""

from __future__ import annotations

import enum


class ExitStatus(enum.IntEnum):
    """Exit codes shared by every command (docs/contracts.md)."""

    OK = 0
    FOUND = 1
    USAGE = 2
    INTERNAL = 3


class GodiagError(Exception):
    """Base of every error godiag reports as a clean one-line message."""

    exit_status: ExitStatus = ExitStatus.USAGE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(GodiagError):
    """The command line or an option value is wrong."""


class ConfigError(GodiagError):
    """godiag.toml is missing, unreadable or invalid."""


class ParseError(GodiagError):
    """Input could not be parsed; says which source and where it broke."""

    def __init__(
        self, source: str, why: str, *, line: int | None = None, offset: int | None = None
    ) -> None:
        where = ""
        if line is not None:
            where = f":{line}"
        elif offset is not None:
            where = f" at byte {offset}"
        super().__init__(f"{source}{where}: {why}")
        self.source = source
        self.line = line
        self.offset = offset
        self.why = why


class UnsupportedFormatError(ParseError):
    """The input is a known format godiag deliberately does not read."""


class CollectError(GodiagError):
    """Obtaining bytes from a service, process or file failed."""


class HttpStatusError(CollectError):
    """A server answered with an error status (kept: a 404 says an endpoint is not there,
    which for an optional one is the service's setup, not a failure)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class GoCommandError(GodiagError):
    """The go command is missing, timed out, or answered something unusable."""


class StoreError(GodiagError):
    """The artifact store rejected or could not complete an operation."""


class OverBudget(GodiagError):
    """Mixed into the errors of a capture that went over one of its budgets.

    `budget` names which one ("bytes", "time", "deadline", "memory"), so a diagnosis can
    say which capture hit which budget and go on with the others.
    """

    budget: str = "bytes"


class CaptureBudgetError(CollectError, OverBudget):
    """An answer was larger or slower than the capture's budget allows."""

    def __init__(self, message: str, budget: str) -> None:
        super().__init__(message)
        self.budget = budget


class DecompressBudgetError(ParseError, OverBudget):
    """Compressed data expands beyond the capture's budget (a decompression bomb, or a
    profile larger than the budget allows)."""

    def __init__(self, source: str, why: str, budget: str = "bytes") -> None:
        super().__init__(source, why)
        self.budget = budget
