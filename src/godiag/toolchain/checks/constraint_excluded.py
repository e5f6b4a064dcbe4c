"""constraint-excluded-files: files and packages that no build configuration ever selects.

Excluded "here" is the normal state of portable Go code: `_windows.go` files, Go-version
gates (`//go:build go1.22 && !go1.23`), `purego`/`integration` tags. What is lost is a
file that no configuration of the module's matrix builds: every port of the toolchain,
cgo on and off, gc and gccgo, every Go release from the go line on, any custom tag
(`godiag.toolchain.constraints`). Lost test files and packages are warnings (their
tests never run anywhere); a lost non-test file is info. Test files and packages that
only other ports or opt-in tags build are info (they do not run here); where they do
run is read off the constraint over every port of the matrix ("darwin, ios", "every
port but windows", "linux with cgo"), never one sample configuration. Go-version gates
and files only `-tags ignore` selects are not reported.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from godiag.model.findings import Evidence, Finding, Location, Severity
from godiag.toolchain import constraints as bc
from godiag.toolchain.checks.base import FILES_SECTION, NO_NETWORK, Check, Context, ev, finding, rel

_IMPORT_C = re.compile(r'^\s*(?:import\s+)?"C"\s*$', re.M)
_EXCLUDE_ALL = "build constraints exclude all Go files"


def _deliberate(path: Path, expr: bc.Expr, m: bc.Matrix, cgo_off: bool) -> bool:
    """Files only `-tags ignore` would build (generators, cgo -godefs inputs, whatever
    else their constraint names), and cgo files with cgo off (cgo-disabled reports those)."""
    if bc.requires(m, expr, "ignore"):
        return True
    if not cgo_off:
        return False
    try:
        head = path.read_text(errors="replace")[:4096]
    except OSError:
        return True
    return bool(_IMPORT_C.search(head))


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


def matrix(ctx: Context) -> bc.Matrix:
    """The module's build matrix: the toolchain's ports, its go line, later releases."""
    res = ctx.runner.run("tool", "dist", "list", "-json", env_over=NO_NETWORK)
    ports: list[tuple[str, str, bool]] = []
    if res.ok:
        try:
            rows = json.loads(res.stdout)
            # First-class ports with this machine's GOARCH first: `builds` stops at the first
            # configuration that selects a file, so the common ones answer soonest. What a
            # finding says about where a file builds comes from `Matrix.where`, every port.
            arch = ctx.env.get("GOARCH")
            rows.sort(key=lambda r: (not r.get("FirstClass"), r.get("GOARCH") != arch))
            ports = [(r["GOOS"], r["GOARCH"], bool(r.get("CgoSupported"))) for r in rows]
        except (ValueError, KeyError, TypeError):
            ports = []
    if not ports:  # an over-approximation reports less, never more
        ports = [(o, a, True) for o in sorted(bc.KNOWN_OS) for a in sorted(bc.KNOWN_ARCH)]
    line = ctx.go_line()
    # The go line is a floor only since Go 1.21; older toolchains build anything.
    if line and line[:2] >= (1, 21):
        return bc.Matrix(tuple(ports), line[1], ctx.goversion[1], "go.mod")
    why = f"go line go1.{line[1]} is not enforced before Go 1.21" if line else "no go line"
    return bc.Matrix(tuple(ports), 1, ctx.goversion[1], why)


@dataclass
class Excluded:
    file: str
    expr: bc.Expr
    line: int | None
    built_by: bc.Config | None  # None: lost
    opt_in: bool  # built here with some -tags
    matrix: bc.Matrix

    def named(self) -> str:
        return f"{self.file} (`{bc.to_text(self.expr)}`)"

    def where(self) -> str:
        """The ports (and cgo, compiler, -tags) its constraint selects, all of them."""
        return self.matrix.where(self.expr).text()

    def why(self) -> str:
        c = bc.to_text(self.expr)
        if self.built_by is None:
            return f"{self.file} ({c}): no configuration builds it"
        if self.opt_in:
            flag = "-race" if "race" in bc.idents(self.expr) else "-tags"
            return f"{self.file} ({c}): built here only with {flag}"
        return f"{self.file} ({c}): built on {self.where()}"


def _classify(
    d: Path, names: list[str], m: bc.Matrix, here: bc.Config, cgo_off: bool
) -> list[Excluded]:
    out: list[Excluded] = []
    for f in names:
        path = d / f
        try:
            expr, line = bc.file_constraint(path)
        except (OSError, bc.ConstraintError):
            continue  # go list says why it is excluded; we cannot: say nothing
        if _deliberate(path, expr, m, cgo_off):
            continue
        if m.builds(expr, here, tags=False) is not None:
            continue  # a Go-version gate: this port builds it with another release
        if m.builds(expr, here) is not None:
            out.append(Excluded(f, expr, line, here, True, m))
            continue
        out.append(Excluded(f, expr, line, m.builds(expr), False, m))
    return out


def _package_where(items: list[Excluded], m: bc.Matrix) -> str:
    """Where any file of the package builds: the OR of its files' constraints."""
    built = [x.expr for x in items if x.built_by is not None]
    if not built:
        return "no configuration"
    expr = built[0]
    for e in built[1:]:
        expr = ("or", expr, e)
    return m.where(expr).text()


def _evidence(ctx: Context, d: Path, items: list[Excluded]) -> list[Evidence]:
    return [Evidence(file=rel(ctx, d / x.file), line=x.line, output=x.why()) for x in items[:10]]


def _package_findings(
    ctx: Context,
    p: dict[str, Any],
    res: Any,
    m: bc.Matrix,
    here: bc.Config,
    port: bc.Config,
    cgo_off: bool,
) -> list[Finding]:
    d = Path(p.get("Dir", ""))
    ipath = p.get("ImportPath")
    err = (p.get("Error") or {}).get("Err", "")
    items = _classify(d, list(p.get("IgnoredGoFiles") or []), m, here, cgo_off)
    considered = f"Matrix considered: {m.describe()}."
    if _EXCLUDE_ALL in err:
        if not items:
            return []
        lost_all = all(x.built_by is None for x in items)
        first = next((x for x in items if x.built_by is None), items[0])
        return [
            finding(
                CHECK,
                f"{ipath}: no configuration builds any file of the package"
                if lost_all
                else f"{ipath}: not built for {port.label()}",
                detail=(
                    f"Every file of {rel(ctx, d)}/ is excluded in every configuration: the "
                    "package and its tests are dead code that nothing compiles or runs. "
                    if lost_all
                    else f"No file of {rel(ctx, d)}/ is compiled for {port.label()}; it is "
                    f"built on {_package_where(items, m)}, so its tests run only there. "
                )
                + considered,
                evidence=[ev(res, f"{ipath}: {err}"), *_evidence(ctx, d, items)],
                location=Location(rel(ctx, d / first.file), first.line),
                severity=Severity.WARNING if lost_all else Severity.INFO,
                fix="Fix or delete the constraints no configuration satisfies (a go line "
                "newer than a `!go1.N` gate, contradictory GOOS/GOARCH)."
                if lost_all
                else "Nothing to fix if those ports are tested in CI (GOOS/GOARCH or -tags).",
            )
        ]
    out: list[Finding] = []
    tests = [x for x in items if x.file.endswith("_test.go")]
    lost_tests = [x for x in tests if x.built_by is None]
    lost_code = [x for x in items if x.built_by is None and not x.file.endswith("_test.go")]
    elsewhere = [x for x in tests if x.built_by is not None]
    if lost_tests:
        out.append(
            finding(
                CHECK,
                f"{ipath}: {len(lost_tests)} test file(s) no configuration builds",
                detail=f"{', '.join(x.named() for x in lost_tests[:5])}: the build constraints "
                "exclude them in every configuration, so their tests never run anywhere. "
                + considered,
                evidence=[ev(res, f"{ipath} IgnoredGoFiles"), *_evidence(ctx, d, lost_tests)],
                location=Location(rel(ctx, d / lost_tests[0].file), lost_tests[0].line),
                fix="Fix the constraint (a `!go1.N` gate at or below the go line, a "
                "contradiction) or delete the file.",
            )
        )
    if lost_code:
        out.append(
            finding(
                CHECK,
                f"{ipath}: {len(lost_code)} file(s) no configuration builds",
                detail=f"{', '.join(x.named() for x in lost_code[:5])}: dead code, never "
                "compiled. " + considered,
                evidence=[ev(res, f"{ipath} IgnoredGoFiles"), *_evidence(ctx, d, lost_code)],
                location=Location(rel(ctx, d / lost_code[0].file), lost_code[0].line),
                severity=Severity.INFO,
                fix="Delete the file or fix its constraint.",
            )
        )
    if elsewhere:
        out.append(
            finding(
                CHECK,
                f"{ipath}: {len(elsewhere)} test file(s) do not run on {port.label()}",
                detail="; ".join(x.why() for x in elsewhere[:5])
                + ". `go test` here passes without them; they run where CI sets that "
                "port or those tags.",
                evidence=[ev(res, f"{ipath} IgnoredGoFiles"), *_evidence(ctx, d, elsewhere)],
                location=Location(rel(ctx, d / elsewhere[0].file), elsewhere[0].line),
                severity=Severity.INFO,
                fix="Run them in CI with the matching GOOS/GOARCH or -tags.",
            )
        )
    return out


def run(ctx: Context) -> list[Finding]:
    res, pkgs = ctx.packages()
    # Since Go 1.2x `./...` drops packages whose files are all excluded without a word;
    # list those directories by name to get the go command's own explanation.
    missing = _unlisted_dirs(ctx, {Path(p["Dir"]) for p in pkgs if p.get("Dir")})
    extra_res, listed = res, len(pkgs)
    if missing:
        extra_res, extra = ctx.runner.list_packages(
            *("./" + rel(ctx, m) for m in missing), flags=ctx.list_flags(), env_over=NO_NETWORK
        )
        pkgs = [*pkgs, *extra]
    m = matrix(ctx)
    cgo_off = ctx.env.get("CGO_ENABLED") == "0"
    here = bc.Config(
        ctx.env.get("GOOS"),
        ctx.env.get("GOARCH"),
        ctx.goversion[1],
        not cgo_off,
        "gc",
    )
    here_port = bc.Config(here.goos, here.goarch, here.go_minor, False, "gc")  # for titles
    out: list[Finding] = []
    for i, p in enumerate(pkgs):
        out += _package_findings(
            ctx, p, res if i < listed else extra_res, m, here, here_port, cgo_off
        )
    return out


CHECK = Check(
    "constraint-excluded-files",
    FILES_SECTION,
    Severity.WARNING,
    "Test files and packages that no configuration of the module's matrix builds (every "
    "port, cgo on/off, gc/gccgo, Go releases from the go line on, any -tags); Go-version "
    "gates are normal. Tests that run only on other ports or with -tags are info, naming "
    "every port their constraint selects; `ignore` files are never reported.",
    run,
)
