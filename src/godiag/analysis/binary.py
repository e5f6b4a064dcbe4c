"""Findings about inspected Go binaries, and drift against a module checkout."""

from __future__ import annotations

from dataclasses import dataclass

from godiag.formats.gomod import GoMod
from godiag.model.binary import LIBC_NAMES, InspectedBinary
from godiag.model.findings import Evidence, Finding, Location, Severity


@dataclass(frozen=True)
class Checkout:
    """What `--against DIR` knows about the source: go.mod and, in a git checkout, git state."""

    dir: str
    gomod: GoMod
    head: str | None  # git HEAD, None when not a git checkout
    status: str | None  # `git status --porcelain` output, None when unknown


def binary_findings(b: InspectedBinary) -> list[Finding]:
    loc = Location(b.path)
    f = b.facts
    info = b.buildinfo
    out: list[Finding] = []
    if info is None:
        out.append(
            Finding(
                "missing-buildinfo",
                Severity.WARNING,
                f"{b.path}: no Go build info ({f.format} {f.arch} executable)",
                "The file is an executable but carries no Go build information: it was not "
                "built by the Go toolchain, or the build info was removed.",
                (Evidence(command=f"go version -m {b.path}", output="not a Go executable"),),
                loc,
                "Check that this is the Go binary you meant; rebuild it with `go build`.",
            )
        )
        return out
    if not f.symtab or not f.dwarf:
        gone = [n for n, present in (("symbol table", f.symtab), ("DWARF", f.dwarf)) if not present]
        ldflags = info.setting("-ldflags") or ""
        out.append(
            Finding(
                "stripped-binary",
                Severity.INFO,
                f"{b.path}: {' and '.join(gone)} removed",
                "Without the symbol table and DWARF, debuggers (dlv, gdb) and some profilers "
                "cannot name functions or variables; Go's own pclntab still gives stack traces.",
                (
                    Evidence(
                        command="section headers",
                        output=f"symbol table: {'yes' if f.symtab else 'no'}, "
                        f"DWARF: {'yes' if f.dwarf else 'no'}",
                    ),
                    *((Evidence(command="build -ldflags", output=ldflags),) if ldflags else ()),
                ),
                loc,
                "Build without -ldflags=-s/-w when the binary must be debugged "
                "(or keep an unstripped copy next to the release).",
            )
        )
    if f.format == "elf" and f.linkage == "dynamic":
        libc = [n for n in f.needed if n.startswith(LIBC_NAMES)]
        if libc or f.interp:
            what = "the C library" if libc else f"the dynamic loader {f.interp}"
            out.append(
                Finding(
                    "dynamic-libc",
                    Severity.WARNING,
                    f"{b.path}: dynamically linked, needs {what}",
                    f"The binary needs {what} at run time: it will not start in scratch or "
                    "distroless-static images, and a glibc build fails on Alpine (musl) with a "
                    "confusing 'no such file or directory'.",
                    (
                        Evidence(command="ELF PT_INTERP", output=f.interp or ""),
                        Evidence(command="ELF DT_NEEDED", output=", ".join(f.needed)),
                        Evidence(
                            command="build CGO_ENABLED", output=info.setting("CGO_ENABLED") or "?"
                        ),
                        Evidence(
                            command="build -buildmode", output=info.setting("-buildmode") or "?"
                        ),
                    ),
                    loc,
                    "Build with CGO_ENABLED=0 (and without -buildmode=pie) if no C code is "
                    "needed, or link statically (-ldflags '-linkmode external -extldflags "
                    "-static'), or ship a base image with the same libc.",
                )
            )
    if info.setting("vcs.modified") == "true":
        rev = info.setting("vcs.revision") or "?"
        out.append(
            Finding(
                "vcs-modified",
                Severity.WARNING,
                f"{b.path}: built from a work tree with uncommitted changes",
                f"The binary claims revision {rev}, but the tree it was built from differed from "
                "that commit: the source that produced it may exist nowhere else.",
                (
                    Evidence(command="build vcs.modified", output="true"),
                    Evidence(command="build vcs.revision", output=rev),
                ),
                loc,
                "Commit (or stash) the changes and rebuild from a clean checkout.",
            )
        )
    return out


def against_findings(b: InspectedBinary, co: Checkout) -> list[Finding]:
    """Compare the binary with the module checkout in `co.dir`."""
    info = b.buildinfo
    if info is None:
        return []
    loc = Location(b.path)
    gomod_file = f"{co.dir}/go.mod"
    mod = co.gomod
    out: list[Finding] = []
    main = info.main.path
    if main != mod.module:
        out.append(
            Finding(
                "buildinfo-main-mismatch",
                Severity.ERROR,
                f"{b.path}: built from module {main or '(none)'}, not {mod.module}",
                f"The binary's main module is {main or 'unknown'} (main package {info.path}); "
                f"the module in {co.dir} is {mod.module}. This binary was not built from this "
                "source.",
                (
                    Evidence(command=f"go version -m {b.path}", output=f"mod\t{main}"),
                    Evidence(file=gomod_file, output=f"module {mod.module}"),
                ),
                loc,
                "Point --against at the module the binary comes from, or rebuild the binary.",
            )
        )
        return out
    drift: list[Evidence] = []
    bin_go = info.go_version.split()[0] if info.go_version else ""
    for line, want in (("go", mod.go), ("toolchain", mod.toolchain.removeprefix("go"))):
        # A devel toolchain ("devel go1.27-abc") has no comparable number.
        if want and bin_go.startswith("go") and _version_key(bin_go[2:]) < _version_key(want):
            drift.append(
                Evidence(
                    command=f"Go version {info.go_version} older than go.mod {line} line",
                    output=f"{line} {want}",
                    file=gomod_file,
                )
            )
    for dep in info.deps:
        req = mod.require.get(dep.path)
        if req is not None and req != dep.version:
            drift.append(
                Evidence(
                    command=f"dependency {dep.path}",
                    output=f"binary {dep.version}, go.mod requires {req}",
                    file=gomod_file,
                )
            )
    rev = info.setting("vcs.revision")
    if co.head and rev and rev != co.head:
        drift.append(Evidence(command="git rev-parse HEAD", output=f"{co.head} (binary: {rev})"))
    if co.head and co.status:
        drift.append(Evidence(command="git status --porcelain", output=co.status.strip()))
    if drift:
        out.append(
            Finding(
                "buildinfo-version-drift",
                Severity.WARNING,
                f"{b.path}: differs from the source in {co.dir} ({len(drift)} "
                f"difference{'' if len(drift) == 1 else 's'})",
                "The binary was built from another revision, toolchain or dependency set than "
                "what the checkout holds now, or the checkout has uncommitted changes: what "
                "runs is not what you are reading.",
                tuple(drift),
                loc,
                "Rebuild the binary from this checkout (clean and committed) before comparing "
                "behaviour or debugging.",
            )
        )
    return out


def _version_key(v: str) -> tuple[int, ...]:
    """go1.21.3 / 1.21rc1 -> comparable tuple (pre-releases sort before the release)."""
    parts: list[int] = []
    for chunk in v.replace("rc", ".-1.").replace("beta", ".-2.").split("."):
        digits = chunk.split("-")[0] if not chunk.startswith("-") else chunk
        try:
            parts.append(int(digits))
        except ValueError:
            break
    return tuple(parts)
