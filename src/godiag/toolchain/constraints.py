"""Go build constraints as data: which configurations of a matrix build a file.

A file is excluded "here" for many normal reasons (another port, an older or newer Go,
an opt-in tag). It is lost only when no configuration the module can be built in
selects it. This module parses `//go:build` (or legacy `// +build`) lines and file-name
suffixes the way go/build does, and answers, for a `Matrix` of ports, Go releases, cgo and
compilers, whether some configuration builds the file; identifiers that are not part of
the matrix (custom tags such as `integration`, `purego`, goexperiment.*) may be set
either way with -tags, so they never make a file lost.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

# go/build's syslist.go.
KNOWN_OS = frozenset(
    [
        "aix",
        "android",
        "darwin",
        "dragonfly",
        "freebsd",
        "hurd",
        "illumos",
        "ios",
        "js",
        "linux",
        "nacl",
        "netbsd",
        "openbsd",
        "plan9",
        "solaris",
        "wasip1",
        "windows",
        "zos",
    ]
)
UNIX_OS = frozenset(
    [
        "aix",
        "android",
        "darwin",
        "dragonfly",
        "freebsd",
        "hurd",
        "illumos",
        "ios",
        "linux",
        "netbsd",
        "openbsd",
        "solaris",
    ]
)
KNOWN_ARCH = frozenset(
    [
        "386",
        "amd64",
        "amd64p32",
        "arm",
        "armbe",
        "arm64",
        "arm64be",
        "loong64",
        "mips",
        "mipsle",
        "mips64",
        "mips64le",
        "mips64p32",
        "mips64p32le",
        "ppc",
        "ppc64",
        "ppc64le",
        "riscv",
        "riscv64",
        "s390",
        "s390x",
        "sparc",
        "sparc64",
        "wasm",
    ]
)
_GO_RELEASE = re.compile(r"^go1\.(\d+)$")
COMPILERS = ("gc", "gccgo")

# An expression: ("id", name) | ("not", e) | ("and", a, b) | ("or", a, b) | ("true",)
Expr = tuple[object, ...]


class ConstraintError(ValueError):
    pass


def _tokens(text: str) -> list[str]:
    out = re.findall(r"\s*(\|\||&&|!|\(|\)|[\w.]+)", text)
    if "".join(out).replace(" ", "") != re.sub(r"\s+", "", text):
        raise ConstraintError(f"cannot parse build constraint: {text!r}")
    return out


def parse_expr(text: str) -> Expr:
    """Parse a //go:build expression (||, &&, !, parentheses, identifiers)."""
    toks = _tokens(text)
    pos = 0

    def peek() -> str | None:
        return toks[pos] if pos < len(toks) else None

    def take() -> str:
        nonlocal pos
        if pos >= len(toks):
            raise ConstraintError(f"unexpected end of build constraint: {text!r}")
        pos += 1
        return toks[pos - 1]

    def or_() -> Expr:
        e = and_()
        while peek() == "||":
            take()
            e = ("or", e, and_())
        return e

    def and_() -> Expr:
        e = not_()
        while peek() == "&&":
            take()
            e = ("and", e, not_())
        return e

    def not_() -> Expr:
        if peek() == "!":
            take()
            return ("not", not_())
        tok = take()
        if tok == "(":
            e = or_()
            if take() != ")":
                raise ConstraintError(f"missing ) in build constraint: {text!r}")
            return e
        if not re.fullmatch(r"[\w.]+", tok):
            raise ConstraintError(f"unexpected {tok!r} in build constraint: {text!r}")
        return ("id", tok)

    e = or_()
    if pos != len(toks):
        raise ConstraintError(f"trailing text in build constraint: {text!r}")
    return e


def _plus_build(lines: list[str]) -> Expr:
    """Legacy `// +build` lines: lines AND, space-separated terms OR, commas AND."""
    expr: Expr = ("true",)
    for line in lines:
        ors: Expr | None = None
        for term in line.split():
            ands: Expr | None = None
            for lit in term.split(","):
                neg = lit.startswith("!")
                atom: Expr = ("id", lit.lstrip("!"))
                atom = ("not", atom) if neg else atom
                ands = atom if ands is None else ("and", ands, atom)
            if ands is not None:
                ors = ands if ors is None else ("or", ors, ands)
        if ors is not None:
            expr = ors if expr == ("true",) else ("and", expr, ors)
    return expr


def header_constraint(text: str) -> tuple[Expr, int | None]:
    """The file's build constraint and its line (None when it has none).

    Only comments before the package clause count, as in go/build; //go:build wins
    over // +build.
    """
    plus: list[str] = []
    plus_line: int | None = None
    in_block = False
    for n, raw in enumerate(text.splitlines()[:400], start=1):
        line = raw.strip()
        if in_block:
            if "*/" in line:
                in_block = False
            continue
        if not line:
            continue
        if line.startswith("/*"):
            in_block = "*/" not in line
            continue
        if not line.startswith("//"):
            break  # the package clause (or anything else) ends the header
        if line.startswith("//go:build"):
            return parse_expr(line[len("//go:build") :]), n
        m = re.match(r"//\s*\+build\s+(.*)$", line)
        if m:
            plus.append(m.group(1))
            plus_line = plus_line or n
    if plus:
        return _plus_build(plus), plus_line
    return ("true",), None


def name_constraint(filename: str) -> Expr:
    """What the file name's _GOOS, _GOARCH or _GOOS_GOARCH suffix requires (go/build)."""
    name = filename[:-3] if filename.endswith(".go") else filename
    i = name.find("_")
    if i < 0:
        return ("true",)
    parts = name[i:].split("_")
    if parts[-1] == "test":
        parts = parts[:-1]
    if len(parts) >= 2 and parts[-2] in KNOWN_OS and parts[-1] in KNOWN_ARCH:
        return ("and", ("id", parts[-2]), ("id", parts[-1]))
    if parts and parts[-1] in KNOWN_OS:
        return ("id", parts[-1])
    if parts and parts[-1] in KNOWN_ARCH:
        return ("id", parts[-1])
    return ("true",)


def file_constraint(path: Path) -> tuple[Expr, int | None]:
    """Header and name constraints of a Go file together (and the header's line)."""
    text = path.read_text(errors="replace")
    head, line = header_constraint(text)
    name = name_constraint(path.name)
    if name == ("true",):
        return head, line
    if head == ("true",):
        return name, line
    if _conjuncts(name) <= _conjuncts(head):
        return head, line  # `//go:build windows` in x_windows.go: say it once
    return ("and", head, name), line


def _conjuncts(e: Expr) -> set[Expr]:
    if e[0] == "and":
        return _conjuncts(e[1]) | _conjuncts(e[2])  # type: ignore[arg-type]
    return {e}


def idents(e: Expr) -> set[str]:
    if e[0] == "id":
        return {str(e[1])}
    return set().union(*(idents(x) for x in e[1:] if isinstance(x, tuple)))


def evaluate(e: Expr, true: frozenset[str]) -> bool:
    op = e[0]
    if op == "true":
        return True
    if op == "id":
        return e[1] in true
    if op == "not":
        return not evaluate(e[1], true)  # type: ignore[arg-type]
    if op == "and":
        return evaluate(e[1], true) and evaluate(e[2], true)  # type: ignore[arg-type]
    return evaluate(e[1], true) or evaluate(e[2], true)  # type: ignore[arg-type]


def to_text(e: Expr) -> str:
    op = e[0]
    if op == "true":
        return "true"
    if op == "id":
        return str(e[1])
    if op == "not":
        inner = to_text(e[1])  # type: ignore[arg-type]
        return f"!{inner}" if e[1][0] == "id" else f"!({inner})"  # type: ignore[index]
    sep = " && " if op == "and" else " || "
    parts = []
    for x in e[1:]:
        t = to_text(x)  # type: ignore[arg-type]
        parts.append(f"({t})" if x[0] in ("and", "or") and x[0] != op else t)  # type: ignore[index]
    return sep.join(parts)


@dataclass(frozen=True)
class Config:
    goos: str
    goarch: str
    go_minor: int
    cgo: bool
    compiler: str

    def tags(self) -> frozenset[str]:
        """The tags go/build sets for this configuration (matchTag)."""
        t = {self.goos, self.goarch, self.compiler}
        t |= {f"go1.{n}" for n in range(1, self.go_minor + 1)}
        if self.goos in UNIX_OS:
            t.add("unix")
        t |= {"android": {"linux"}, "illumos": {"solaris"}, "ios": {"darwin"}}.get(self.goos, set())
        if self.cgo:
            t.add("cgo")
        return frozenset(t)

    def label(self) -> str:
        extra = (" with cgo" if self.cgo else "") + (" (gccgo)" if self.compiler == "gccgo" else "")
        return f"{self.goos}/{self.goarch}{extra}"


@dataclass(frozen=True)
class Matrix:
    """The configurations a module can be built in.

    ports: (GOOS, GOARCH, cgo supported) of the toolchain (`go tool dist list`), built
    with gc or gccgo; every other GOOS/GOARCH pair go/build knows (zos, hurd, sparc64…)
    with another implementation only (gccgo, IBM's z/OS port): x/sys carries files for
    those. Go releases from `min_minor` (the go line, enforced since Go 1.21) up to any
    later one; cgo on and off where the port supports it.
    """

    ports: tuple[tuple[str, str, bool], ...]
    min_minor: int
    cur_minor: int
    floor: str = ""  # how min_minor was chosen, for describe()
    matrix_tags: frozenset[str] = field(init=False)
    other_ports: tuple[tuple[str, str, bool], ...] = field(init=False)

    def __post_init__(self) -> None:
        tags = {"cgo", "unix", *COMPILERS, *KNOWN_OS, *KNOWN_ARCH}
        object.__setattr__(self, "matrix_tags", frozenset(tags))
        have = {(o, a) for o, a, _ in self.ports}
        other = tuple(
            (o, a, True) for o in sorted(KNOWN_OS) for a in sorted(KNOWN_ARCH) if (o, a) not in have
        )
        object.__setattr__(self, "other_ports", other)

    def describe(self) -> str:
        return (
            f"{len(self.ports)} ports (`go tool dist list`) × cgo on/off × gc/gccgo, other "
            f"known GOOS/GOARCH pairs with gccgo; go1.{self.min_minor} "
            f"({self.floor or 'go.mod'}) and every later release; other tags free (either "
            "value, as -tags can set them)"
        )

    def _minors(self, e: Expr) -> list[int]:
        # Only the releases an expression names can change its value: test the lower
        # bound and each named release that lies above it.
        named = {
            int(m.group(1))
            for name in idents(e)
            if (m := _GO_RELEASE.match(name)) and int(m.group(1)) > self.min_minor
        }
        return sorted({self.min_minor, *named})

    def configs(self, e: Expr) -> Iterable[Config]:
        minors = self._minors(e)
        for (goos, goarch, cgo_ok), minor, cgo, comp in itertools.product(
            self.ports, minors, (False, True), COMPILERS
        ):
            if cgo and not cgo_ok:
                continue
            yield Config(goos, goarch, minor, cgo, comp)
        for (goos, goarch, _), minor, cgo in itertools.product(
            self.other_ports, minors, (False, True)
        ):
            yield Config(goos, goarch, minor, cgo, "gccgo")

    def free(self, e: Expr) -> list[str]:
        return sorted(
            n for n in idents(e) if n not in self.matrix_tags and not _GO_RELEASE.match(n)
        )

    def builds(self, e: Expr, where: Config | None = None, *, tags: bool = True) -> Config | None:
        """A configuration of the matrix that selects `e` (None: the file is lost).

        where: only that port, cgo setting and compiler, with any go release of the
        matrix. tags: whether identifiers outside the matrix may be set (-tags).
        """
        return _builds(self, e, where, tags)

    def where(self, e: Expr) -> Where:
        """Every port of the matrix that builds `e`, and the settings it needs there.

        Read off the expression alone (file-name suffixes included), one port at a time,
        so a claim such as "built on darwin" covers every darwin port and ios (which sets
        the darwin tag) rather than the first configuration found.
        """
        plain: set[tuple[str, str]] = set()
        tagged: set[tuple[str, str]] = set()
        cgo_seen: set[bool] = set()
        comp_seen: set[str] = set()
        free = self.free(e)
        # Each free tag alone (the others unset), to name only the -tags that matter.
        alone = {t: _only(e, free, t) for t in free}
        tags_needed: set[str] = set()
        ports = self.ports
        for gccgo_only in (False, True):
            for goos, goarch, cgo_ok in ports:
                for cgo in (False, True) if cgo_ok else (False,):
                    for comp in ("gccgo",) if gccgo_only else COMPILERS:
                        cfg = Config(goos, goarch, self.min_minor, cgo, comp)
                        if self.builds(e, cfg, tags=False) is not None:
                            plain.add((goos, goarch))
                        elif self.builds(e, cfg) is not None:
                            tagged.add((goos, goarch))
                            one = {t for t, et in alone.items() if self.builds(et, cfg, tags=False)}
                            tags_needed |= one or {",".join(free)}  # none alone: together
                        else:
                            continue
                        cgo_seen.add(cgo)
                        comp_seen.add(comp)
            if plain or tagged:
                break
            ports = self.other_ports  # only ports of other implementations build it
        names = idents(e)
        return Where(
            plain=frozenset(plain),
            tagged=frozenset(tagged - plain),
            all_ports=frozenset((o, a) for o, a, _ in ports),
            other_impl=ports is self.other_ports,
            cgo=next(iter(cgo_seen)) if "cgo" in names and len(cgo_seen) == 1 else None,
            compiler=next(iter(comp_seen))
            if names & set(COMPILERS) and len(comp_seen) == 1
            else None,
            tags=tuple(sorted(tags_needed)),
        )


@dataclass(frozen=True)
class Where:
    """Where a constraint holds: ports without -tags (`plain`) and only with them."""

    plain: frozenset[tuple[str, str]]
    tagged: frozenset[tuple[str, str]]
    all_ports: frozenset[tuple[str, str]]
    other_impl: bool  # no port of this toolchain: gccgo or another implementation only
    cgo: bool | None  # the expression requires cgo on (True) or off (False)
    compiler: str | None  # the expression requires this compiler
    tags: tuple[str, ...]  # the -tags values (alternatives) that select it where nothing else does

    def text(self) -> str:
        """ "darwin, ios", "every port but windows with cgo off", "linux with -tags e2e"."""
        flag = " or ".join("-race" if t == "race" else f"-tags {t}" for t in self.tags)
        conds = [
            *(["with cgo" if self.cgo else "with cgo off"] if self.cgo is not None else []),
            *([f"with {self.compiler}"] if self.compiler else []),
        ]
        if self.plain:
            out = _ports_text(self.plain, self.all_ports)
            if self.tagged:
                more = _ports_text(self.plain | self.tagged, self.all_ports)
                out += f" (with {flag}: {more})"
        else:
            out = _ports_text(self.tagged, self.all_ports)
            conds.append(f"with {flag}")
        if self.other_impl:
            out += " (not a port of this toolchain: gccgo or another Go implementation)"
        return " ".join([out, *conds])


def _ports_text(ports: frozenset[tuple[str, str]], every: frozenset[tuple[str, str]]) -> str:
    if ports >= every:
        return "every port"
    if len(ports) * 2 > len(every):
        return "every port but " + _port_names(every - ports, every)
    return _port_names(ports, every)


def _port_names(ports: frozenset[tuple[str, str]], every: frozenset[tuple[str, str]]) -> str:
    """GOOS alone when every arch of it is in, else GOOS/GOARCH; at most 8 names."""
    names: list[str] = []
    for goos in sorted({o for o, _ in ports}):
        arches = {a for o, a in ports if o == goos}
        if arches >= {a for o, a in every if o == goos}:
            names.append(goos)
        else:
            names += [f"{goos}/{a}" for a in sorted(arches)]
    if len(names) > 8:
        return ", ".join(names[:8]) + f" and {len(names) - 8} more"
    return ", ".join(names)


def _only(e: Expr, free: list[str], tag: str) -> Expr:
    for name in free:
        e = assume(e, name, name == tag)
    return e


def assume(e: Expr, name: str, value: bool) -> Expr:
    """`e` with the identifier `name` fixed to `value` (e.g. `ignore` is never set)."""
    if e[0] == "id":
        if e[1] != name:
            return e
        return ("true",) if value else ("not", ("true",))
    if e[0] == "true":
        return e
    return (e[0], *(assume(x, name, value) for x in e[1:] if isinstance(x, tuple)))


def requires(m: Matrix, e: Expr, name: str) -> bool:
    """True when no configuration builds `e` unless `name` is set (`//go:build ignore`)."""
    return name in idents(e) and m.builds(assume(e, name, False)) is None


@lru_cache(maxsize=8192)
def _builds(m: Matrix, e: Expr, where: Config | None, tags: bool) -> Config | None:
    free = m.free(e) if tags else []
    if len(free) > 10:
        return where or Config("?", "?", m.min_minor, False, "gc")  # too many: assume buildable
    assignments = [
        frozenset(n for n, on in zip(free, bits, strict=True) if on)
        for bits in itertools.product((False, True), repeat=len(free))
    ]
    if where is not None:
        cands: Iterable[Config] = (
            Config(where.goos, where.goarch, n, where.cgo, where.compiler) for n in m._minors(e)
        )
    else:
        cands = m.configs(e)
    for cfg in cands:
        set_tags = cfg.tags()
        if any(evaluate(e, set_tags | extra) for extra in assignments):
            return cfg
    return None
