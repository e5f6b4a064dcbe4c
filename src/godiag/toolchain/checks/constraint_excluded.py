"""constraint-excluded-files: files dropped by build constraints or file-name suffixes."""

from __future__ import annotations

import os
import re
from pathlib import Path

from godiag.model.findings import Evidence, Finding, Location, Severity
from godiag.toolchain.checks.base import FILES_SECTION, NO_NETWORK, Check, Context, ev, finding, rel

_IGNORE_TAG = re.compile(r"^//go:build\s+ignore\s*$|^// \+build ignore\s*$", re.M)
_IMPORT_C = re.compile(r'^\s*(?:import\s+)?"C"\s*$', re.M)


def _deliberate(path: Path, cgo_off: bool) -> bool:
    """`//go:build ignore` generators, and cgo files (cgo-disabled reports those)."""
    try:
        head = path.read_text(errors="replace")[:4096]
    except OSError:
        return True
    return bool(_IGNORE_TAG.search(head)) or (cgo_off and bool(_IMPORT_C.search(head)))


def _unlisted_dirs(ctx: Context, listed: set[Path]) -> list[Path]:
    """Dirs `./...` walks that hold .go files but that it did not list (all excluded)."""
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(ctx.dir):
        here = Path(dirpath)
        dirnames[:] = [
            d
            for d in dirnames
            if not d.startswith((".", "_"))
            and d not in ("testdata", "vendor")
            and not (here / d).is_symlink()
            and not (here / d / "go.mod").is_file()
        ]
        if here not in listed and any(f.endswith(".go") for f in filenames):
            out.append(here)
    return out


def run(ctx: Context) -> list[Finding]:
    res, pkgs = ctx.packages()
    # Since Go 1.2x `./...` drops packages whose files are all excluded without a word;
    # list those directories by name to get the go command's own explanation.
    missing = _unlisted_dirs(ctx, {Path(p["Dir"]) for p in pkgs if p.get("Dir")})
    if missing:
        res, extra = ctx.runner.list_packages(
            *("./" + rel(ctx, m) for m in missing), flags=ctx.list_flags(), env_over=NO_NETWORK
        )
        pkgs = [*pkgs, *extra]
    platform = f"GOOS={ctx.env.get('GOOS')} GOARCH={ctx.env.get('GOARCH')}"
    tags = ctx.env.get("GOFLAGS")
    cgo_off = ctx.env.get("CGO_ENABLED") == "0"
    out: list[Finding] = []
    for p in pkgs:
        d = Path(p.get("Dir", ""))
        ignored = [f for f in p.get("IgnoredGoFiles") or [] if not _deliberate(d / f, cgo_off)]
        err = (p.get("Error") or {}).get("Err", "")
        if "build constraints exclude all Go files" in err:
            first = rel(ctx, d / ignored[0]) if ignored else rel(ctx, d)
            out.append(
                finding(
                    CHECK,
                    f"{p.get('ImportPath')}: build constraints exclude every Go file",
                    detail=f"For {platform}{' ' + tags if tags else ''} no file of "
                    f"{rel(ctx, d)}/ is compiled: the package silently disappears from "
                    "`./...` builds and its tests never run here.",
                    evidence=[
                        ev(res, f"{p.get('ImportPath')}: {err}"),
                        *(Evidence(file=rel(ctx, d / f)) for f in ignored[:10]),
                    ],
                    location=Location(first),
                    fix="Add a file for the other platforms (a stub with the opposite "
                    "constraint), or test it with GOOS/GOARCH/-tags set explicitly in CI.",
                )
            )
            continue
        if not ignored:
            continue
        tests = [f for f in ignored if f.endswith("_test.go")]
        out.append(
            finding(
                CHECK,
                f"{p.get('ImportPath')}: {len(ignored)} file(s) excluded for {platform}",
                detail=f"{', '.join(ignored[:5])} {'are' if len(ignored) > 1 else 'is'} not "
                "compiled here (file-name suffix or //go:build line)"
                + (f"; {len(tests)} of them hold tests that never run here" if tests else "")
                + ".",
                evidence=[
                    ev(res, f"{p.get('ImportPath')} IgnoredGoFiles: {' '.join(ignored)}"),
                    *(Evidence(file=rel(ctx, d / f)) for f in ignored[:10]),
                ],
                location=Location(rel(ctx, d / (tests or ignored)[0])),
                severity=Severity.WARNING if tests else Severity.INFO,
                fix="Run the excluded tests in CI with the matching GOOS/GOARCH/-tags.",
            )
        )
    return out


CHECK = Check(
    "constraint-excluded-files",
    FILES_SECTION,
    Severity.WARNING,
    "Files dropped by build constraints or file-name suffixes for the current "
    "GOOS/GOARCH/tags, and packages where every file is excluded.",
    run,
)
