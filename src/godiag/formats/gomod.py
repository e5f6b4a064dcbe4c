"""The few go.mod facts `inspect --against` compares: module path, go/toolchain lines,
requirements and replacements. A line-level reader (no go command needed)."""

from __future__ import annotations

from dataclasses import dataclass, field

from godiag.errors import ParseError


@dataclass
class GoMod:
    module: str = ""
    go: str = ""
    toolchain: str = ""
    require: dict[str, str] = field(default_factory=dict)
    # old path (and optional version) -> (new path, new version or "")
    replace: dict[str, tuple[str, str]] = field(default_factory=dict)


def _tokens(line: str) -> list[str]:
    line = line.split("//", 1)[0].strip()
    return [t.strip('"`') for t in line.split()]


def parse_gomod(text: str, source: str) -> GoMod:
    mod = GoMod()
    block: str | None = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        toks = _tokens(raw)
        if not toks:
            continue
        if block is not None:
            if toks == [")"]:
                block = None
                continue
            _directive(mod, block, toks, source, lineno)
            continue
        verb, rest = toks[0], toks[1:]
        if rest == ["("]:
            block = verb
            continue
        _directive(mod, verb, rest, source, lineno)
    if block is not None:
        raise ParseError(source, f"unterminated {block} ( block")
    if not mod.module:
        raise ParseError(source, "no module line")
    return mod


def _directive(mod: GoMod, verb: str, args: list[str], source: str, line: int) -> None:
    if verb == "module" and args:
        mod.module = args[0]
    elif verb == "go" and args:
        mod.go = args[0]
    elif verb == "toolchain" and args:
        mod.toolchain = args[0]
    elif verb == "require":
        if len(args) < 2:
            raise ParseError(source, "require needs a path and a version", line=line)
        mod.require[args[0]] = args[1]
    elif verb == "replace":
        if "=>" not in args:
            raise ParseError(source, "replace without =>", line=line)
        i = args.index("=>")
        old, new = args[:i], args[i + 1 :]
        if not old or not new:
            raise ParseError(source, "incomplete replace", line=line)
        key = old[0] if len(old) == 1 else f"{old[0]}@{old[1]}"
        mod.replace[key] = (new[0], new[1] if len(new) > 1 else "")
