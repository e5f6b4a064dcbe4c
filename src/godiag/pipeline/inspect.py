"""`godiag inspect`: files and directories -> one godiag.inspect/v1 document."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from godiag.errors import ParseError, UsageError
from godiag.model.binary import InspectedBinary
from godiag.model.findings import Finding

if TYPE_CHECKING:
    from godiag.analysis.binary import Checkout


def walk(dir: Path) -> Iterator[Path]:
    """Regular files (and symlinks to them) under dir, in lexical order like filepath.WalkDir."""
    try:
        entries = sorted(os.scandir(dir), key=lambda e: e.name)
    except OSError as exc:
        raise ParseError(str(dir), f"cannot list directory: {exc.strerror or exc}") from exc
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            yield from walk(Path(entry.path))
        elif entry.is_file(follow_symlinks=True):
            yield Path(entry.path)


def load_checkout(dir: Path) -> Checkout:
    from godiag.analysis.binary import Checkout
    from godiag.collect import gitrepo
    from godiag.formats.gomod import parse_gomod

    gomod = dir / "go.mod"
    try:
        text = gomod.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise UsageError(f"--against {dir}: no readable go.mod ({exc.strerror or exc})") from exc
    head = gitrepo.head(dir)
    status = gitrepo.status(dir) if head else None
    return Checkout(str(dir), parse_gomod(text, str(gomod)), head, status)


def _reason(exc: ParseError) -> str:
    """The error without its file name, keeping where in the file it broke."""
    if exc.line is not None:
        return f"line {exc.line}: {exc.why}"
    if exc.offset is not None:
        return f"at byte {exc.offset}: {exc.why}"
    return exc.why


def inspect_paths(paths: list[Path], against: Path | None = None) -> dict[str, Any]:
    """Inspect every named file (strictly) and every file under named directories (leniently).

    A named file that cannot be read or is not an executable, a missing path or a
    directory that cannot be listed is an entry of `errors` (file, reason); the other
    inputs are reported as usual."""
    from godiag.analysis.binary import against_findings, binary_findings
    from godiag.formats.gobinary import inspect_path

    checkout = load_checkout(against) if against is not None else None
    binaries: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    findings: list[Finding] = []

    def add(b: InspectedBinary) -> None:
        fs = binary_findings(b)
        if checkout is not None:
            fs += against_findings(b, checkout)
        findings.extend(fs)
        binaries.append(
            {
                "file": b.path,
                "buildinfo": b.buildinfo.to_go_json() if b.buildinfo else None,
                "layout": b.buildinfo.layout if b.buildinfo else None,
                "binary": b.facts.to_json(),
                "findings": [f.id for f in fs],
            }
        )

    def add_dir(d: Path) -> None:
        for f in walk(d):
            try:
                b = inspect_path(f)
            except ParseError as exc:
                skipped.append({"file": str(f), "reason": exc.why})
                continue
            if b.buildinfo is None:
                skipped.append({"file": str(f), "reason": "not a Go binary"})
                continue
            add(b)

    errors: list[dict[str, str]] = []
    for p in paths:
        # one bad input must not cost the others their report: it becomes an error entry
        try:
            if p.is_dir():
                add_dir(p)
            elif p.exists():
                add(inspect_path(p))
            else:
                raise ParseError(str(p), "no such file or directory")
        except ParseError as exc:
            errors.append({"file": str(p), "reason": _reason(exc)})
    return {
        "schema": "godiag.inspect/v1",
        "binaries": binaries,
        "skipped": skipped,
        "errors": errors,
        "against": None
        if checkout is None
        else {
            "dir": checkout.dir,
            "module": checkout.gomod.module,
            "go": checkout.gomod.go or None,
            "head": checkout.head,
            "dirty": bool(checkout.status) if checkout.head else None,
        },
        "findings": [f.to_json() for f in findings],
    }
