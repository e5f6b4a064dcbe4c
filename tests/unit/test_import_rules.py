"""The import rules of docs/architecture.md ("Import rules"), checked on every module's ast.

Every import counts: at module level, inside functions (the lazy imports the CLI uses to
start fast are still dependencies) and under `if TYPE_CHECKING:` (a type named in a
signature is a dependency of the design even when it costs nothing at run time).
A violation is reported as `path:line: module imports target (rule)`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.datapaths import REPO

SRC = REPO / "src"

# (importing module, imported module) pairs allowed for a while, each with its reason; the
# test below fails once a pair no longer occurs, so the list cannot go stale. (The last two,
# analysis/rootcause reading Observation from pipeline/observe.py, went when it moved to
# model/observation.py.)
KNOWN_EXCEPTIONS: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class Import:
    path: str
    line: int
    module: str  # the importing module, dotted
    target: str  # the imported module, dotted (`from a import b` is `a.b` when b is a module)


@dataclass(frozen=True)
class Rule:
    """Modules under `scope` may import godiag modules only under `allow` (when given),
    and never anything under `deny` (godiag modules or third-party/stdlib names)."""

    name: str
    scope: str
    allow: tuple[str, ...] | None = None
    deny: tuple[str, ...] = ()

    def applies(self, module: str) -> bool:
        return _under(module, self.scope)

    def broken_by(self, imp: Import) -> bool:
        if any(_under(imp.target, d) for d in self.deny):
            return True
        if self.allow is None or not _under(imp.target, "godiag"):
            return False
        return not any(_under(imp.target, a) for a in self.allow)


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


_BASE = ("godiag.errors", "godiag.limits", "godiag.words")
RULES = (
    Rule(
        "analysis/ is pure: model, formats, errors, limits, words and itself",
        "godiag.analysis",
        allow=("godiag.analysis", "godiag.model", "godiag.formats", *_BASE),
        deny=("click", "subprocess"),
    ),
    Rule(
        "model/ imports nothing of godiag but errors",
        "godiag.model",
        allow=("godiag.model", "godiag.errors"),
    ),
    Rule(
        "formats/ imports only model, errors, limits, words",
        "godiag.formats",
        allow=("godiag.formats", "godiag.model", *_BASE),
    ),
    Rule(
        "report/ does not run tools or collect",
        "godiag.report",
        deny=("godiag.toolchain", "godiag.collect", "godiag.pipeline"),
    ),
)
CLICK_FREE_EXEMPT = ("godiag.cli",)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(source: str, module: str, path: str, *, is_package: bool = False,
               known: Iterable[str] = ()) -> Iterator[Import]:  # fmt: skip
    """Every import of a module's source, at any depth of the tree. `known` is the set of
    dotted module names, to tell `from pkg import submodule` from `from pkg import name`."""
    modules = set(known)
    package = module if is_package else module.rpartition(".")[0]
    nodes = sorted(
        (
            n
            for n in ast.walk(ast.parse(source, path))
            if isinstance(n, ast.Import | ast.ImportFrom)
        ),
        key=lambda n: n.lineno,
    )
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(path, node.lineno, module, alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")
                up = up[: len(up) - (node.level - 1)]
                base = ".".join([*up, base] if base else up)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                yield Import(path, node.lineno, module, full if full in modules else base)


def all_imports(root: Path) -> list[Import]:
    files = sorted(root.rglob("*.py"))
    names = {module_name(f, root) for f in files}
    out: list[Import] = []
    for f in files:
        rel = str(f.relative_to(REPO)) if f.is_relative_to(REPO) else str(f)
        out.extend(imports_of(f.read_text(), module_name(f, root), rel,
                              is_package=f.name == "__init__.py", known=names))  # fmt: skip
    return out


def violations(imports: list[Import], exceptions: frozenset[tuple[str, str]] = frozenset()
               ) -> list[str]:  # fmt: skip
    out: list[str] = []
    for imp in dict.fromkeys(imports):  # `from a import b, c` of one module is one line
        if (imp.module, imp.target) in exceptions:
            continue
        for rule in RULES:
            if rule.applies(imp.module) and rule.broken_by(imp):
                out.append(
                    f"{imp.path}:{imp.line}: {imp.module} imports {imp.target} ({rule.name})"
                )
        if _under(imp.target, "click") and not any(
            _under(imp.module, m) for m in CLICK_FREE_EXEMPT
        ):
            out.append(f"{imp.path}:{imp.line}: {imp.module} imports click (only cli/ does)")
    return out


def cycle_between(imports: list[Import], a: str, b: str) -> list[str]:
    """Both directions between two modules, as file:line lines (empty when at most one)."""
    ab = [i for i in imports if i.module == a and _under(i.target, b)]
    ba = [i for i in imports if i.module == b and _under(i.target, a)]
    if ab and ba:
        return [f"{i.path}:{i.line}: {i.module} imports {i.target} (import cycle)" for i in ab + ba]
    return []


def test_the_source_tree_follows_the_import_rules() -> None:
    imports = all_imports(SRC)
    found = violations(imports, KNOWN_EXCEPTIONS)
    found += cycle_between(imports, "godiag.config", "godiag.pipeline.settings")
    assert not found, "import rules broken (docs/architecture.md):\n" + "\n".join(found)


def test_known_exceptions_are_still_needed() -> None:
    """An exception that no longer matches an import is stale: drop it."""
    pairs = {(i.module, i.target) for i in all_imports(SRC)}
    assert pairs >= KNOWN_EXCEPTIONS, sorted(KNOWN_EXCEPTIONS - pairs)


def _tree(tmp: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        p = tmp / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return tmp


def test_a_forbidden_import_is_found_at_any_depth(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "godiag/__init__.py": "",
        "godiag/errors.py": "",
        "godiag/analysis/__init__.py": "",
        "godiag/analysis/pure.py": (
            "from typing import TYPE_CHECKING\n"
            "from godiag.errors import X\n"
            "if TYPE_CHECKING:\n"
            "    from godiag.pipeline.app import App\n"
            "def f():\n"
            "    import subprocess\n"
            "    from ..toolchain import gocmd\n"
        ),
        "godiag/toolchain/__init__.py": "",
        "godiag/toolchain/gocmd.py": "",
        "godiag/model/__init__.py": "",
        "godiag/model/m.py": "import click\nfrom . import n\n",
        "godiag/model/n.py": "",
    })  # fmt: skip
    found = violations(all_imports(root))
    assert [f.split(": ", 1)[0].rsplit("/", 1)[-1] for f in found] == [
        "pure.py:4", "pure.py:6", "pure.py:7", "m.py:1",
    ], found  # fmt: skip
    assert "godiag.analysis.pure imports godiag.toolchain.gocmd" in found[2]
    assert "imports click (only cli/ does)" in found[3]


def test_a_cycle_is_found_and_one_direction_is_not() -> None:
    one = Import("a.py", 3, "godiag.config", "godiag.pipeline.settings")
    other = Import("b.py", 9, "godiag.pipeline.settings", "godiag.config")
    assert cycle_between([one], "godiag.config", "godiag.pipeline.settings") == []
    assert cycle_between([one, other], "godiag.config", "godiag.pipeline.settings") == [
        "a.py:3: godiag.config imports godiag.pipeline.settings (import cycle)",
        "b.py:9: godiag.pipeline.settings imports godiag.config (import cycle)",
    ]
