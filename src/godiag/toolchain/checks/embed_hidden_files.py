"""embed-hidden-files: `//go:embed dir` leaves out `.`/`_` files; `// go:embed` typos."""

from __future__ import annotations

import glob
import os
import re
from pathlib import Path
from typing import Any

from godiag.model.findings import Evidence, Finding, Location, Severity
from godiag.toolchain.checks.base import FILES_SECTION, Check, Context, finding, rel

_DIRECTIVE = re.compile(r"^\s*//go:embed\s+(.*)$")
_TYPO = re.compile(r"^\s*//\s+go:embed\b")


def _sources(p: dict[str, Any]) -> list[Path]:
    d = Path(p.get("Dir", ""))
    keys = ("GoFiles", "CgoFiles", "TestGoFiles", "XTestGoFiles", "IgnoredGoFiles")
    return [d / f for k in keys for f in p.get(k) or []]


def _hidden_under(top: Path) -> list[Path]:
    """Names the embed walk drops: `.x`/`_x` files and directories (not their contents)."""
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(top):
        for name in sorted(dirnames + filenames):
            if name.startswith((".", "_")):
                out.append(Path(dirpath) / name)
        dirnames[:] = [d for d in dirnames if not d.startswith((".", "_"))]
    return out


def _directive_lines(files: list[Path]) -> list[tuple[Path, int, str, bool]]:
    """(file, line, text, is_typo) of every embed directive or typo in files."""
    out = []
    for f in files:
        try:
            lines = f.read_text(errors="replace").splitlines()
        except OSError:
            continue
        for n, line in enumerate(lines, start=1):
            if _DIRECTIVE.match(line):
                out.append((f, n, line.strip(), False))
            elif _TYPO.match(line):
                out.append((f, n, line.strip(), True))
    return out


def run(ctx: Context) -> list[Finding]:
    _, pkgs = ctx.packages()
    out: list[Finding] = []
    for p in pkgs:
        d = Path(p.get("Dir", ""))
        directives = _directive_lines(_sources(p))
        for f, n, text, typo in directives:
            if typo:
                out.append(
                    finding(
                        CHECK,
                        f"{rel(ctx, f)}:{n}: `// go:embed` is a plain comment",
                        detail="With a space after `//` the line is not a directive: the "
                        'variable stays empty (an empty embed.FS or "") and nothing fails '
                        "at build time.",
                        evidence=[Evidence(file=rel(ctx, f), line=n, output=text)],
                        location=Location(rel(ctx, f), n),
                        fix="Write `//go:embed` with no space.",
                    )
                )
        patterns = {
            *(p.get("EmbedPatterns") or []),
            *(p.get("TestEmbedPatterns") or []),
            *(p.get("XTestEmbedPatterns") or []),
        }
        for pat in sorted(patterns):
            if pat.startswith("all:"):
                continue
            for match in sorted(glob.glob(str(d / pat))):
                top = Path(match)
                if not top.is_dir():
                    continue
                hidden = _hidden_under(top)
                if not hidden:
                    continue
                where = next(
                    ((f, n, t) for f, n, t, typo in directives if not typo and pat in t.split()),
                    None,
                )
                loc = Location(rel(ctx, where[0]), where[1]) if where else Location(rel(ctx, d))
                names = [rel(ctx, h) for h in hidden]
                out.append(
                    finding(
                        CHECK,
                        f"//go:embed {pat} leaves out {len(hidden)} file(s) starting with "
                        "'.' or '_'",
                        detail=f"Directory patterns skip names beginning with '.' or '_': "
                        f"{', '.join(names[:5])} exist on disk under {rel(ctx, top)}/ but are "
                        "not in the binary (go list EmbedFiles omits them).",
                        evidence=[
                            *(
                                [Evidence(file=loc.file, line=loc.line, output=where[2])]
                                if where
                                else []
                            ),
                            *(Evidence(file=h) for h in names[:20]),
                        ],
                        location=loc,
                        fix=f"Use `//go:embed all:{pat}` if they are meant to ship, or move "
                        "them out of the embedded directory (secrets such as .env!).",
                    )
                )
    return out


CHECK = Check(
    "embed-hidden-files",
    FILES_SECTION,
    Severity.WARNING,
    "`//go:embed` directory patterns that silently leave out `.`/`_` files present on "
    "disk, and `// go:embed` lines that are plain comments.",
    run,
)
