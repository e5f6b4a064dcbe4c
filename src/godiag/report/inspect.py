"""Terminal view of `godiag inspect`: `go version -m`-like lines plus container facts."""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console
from rich.markup import escape

TEMPLATE = "generic.html.j2"
SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
COUNTED = re.compile(r"\(\d+ \w+\)")


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def _module(word: str, m: dict[str, Any]) -> list[str]:
    line = f"\t{word}\t{m.get('Path', '')}\t{m.get('Version', '')}"
    if "Replace" in m:
        return [line, *_module("=>", m["Replace"])]
    return [line + f"\t{m.get('Sum', '')}"]


def render_text(doc: dict[str, Any], console: Console, verbose: bool = False) -> None:
    console.soft_wrap = True  # lines like `go version -m`: long values are not wrapped
    by_file: dict[str, list[dict[str, Any]]] = {}
    for f in doc["findings"]:
        by_file.setdefault((f.get("location") or {}).get("file", ""), []).append(f)
    for b in doc["binaries"]:
        bi, facts = b["buildinfo"], b["binary"]
        head = f"[bold]{escape(b['file'])}[/]: "
        head += escape(bi["GoVersion"]) if bi else "[yellow]no Go build info[/]"
        console.print(head)
        if bi:
            lines = []
            if "Path" in bi:
                lines.append(f"\tpath\t{bi['Path']}")
            if bi["Main"]:
                lines += _module("mod", bi["Main"])
            for d in bi.get("Deps", []):
                lines += _module("dep", d)
            for s in bi.get("Settings", []):
                lines.append(f"\tbuild\t{s.get('Key', '')}={s.get('Value', '')}")
            console.print(escape("\n".join(lines)), highlight=False)
        link = facts["linkage"]
        if facts["interp"]:
            link += f" ({facts['interp']})"
        yes = {True: "yes", False: "no", None: "unknown"}
        console.print(
            f"  {facts['format']} {facts['arch']} {facts['kind']}, {_size(facts['size'])}, "
            f"{link}; symbols {yes[facts['symtab']]}, DWARF {yes[facts['dwarf']]}, "
            f"cgo {yes[facts['cgo']]}, race {yes[facts['race']]}",
            highlight=False,
        )
        if facts["needed"]:
            console.print(f"  needs: {escape(', '.join(facts['needed']))}", highlight=False)
        ids = facts["build_id"]
        present = [f"{k} {ids[k]}" for k in ("go", "gnu") if ids.get(k)]
        if verbose and present:
            console.print(f"  build ID: {', '.join(present)}", highlight=False)
        if verbose:
            top = sorted(facts["sections"].items(), key=lambda kv: -kv[1])[:8]
            console.print(
                "  largest sections: " + ", ".join(f"{escape(k)} {_size(v)}" for k, v in top),
                highlight=False,
            )
        for f in by_file.get(b["file"], []):
            style = SEVERITY_STYLE.get(f["severity"], "")
            title = f["title"].removeprefix(b["file"] + ": ")
            console.print(f"  [{style}]{f['severity']}[/] {f['id']}: {escape(title)}")
            # A title that counts things ("3 differences") is useless without them: its
            # evidence is shown by default, the rest only with -v.
            listed = f["evidence"] if verbose or COUNTED.search(title) else []
            for e in listed:
                what = e.get("command") or e.get("file") or ""
                console.print(f"      {escape(what)}: {escape(e.get('output') or '')}")
            if verbose and f["fix"]:
                console.print(f"      fix: {escape(f['fix'])}")
    if verbose:
        for s in doc["skipped"]:
            console.print(f"[dim]skipped {escape(s['file'])}: {escape(s['reason'])}[/]")
    if doc.get("against"):
        a = doc["against"]
        console.print(f"compared with {escape(a['dir'])} (module {escape(a['module'])})")
    if not doc["binaries"]:
        console.print("no Go binaries found")
