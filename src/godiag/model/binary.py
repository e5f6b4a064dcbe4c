"""What a Go binary is made of: its build info (as runtime/debug.BuildInfo) and container facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Shared-object names that mean "needs the C library" (glibc or musl, and their loaders).
LIBC_NAMES = ("libc.so", "libc.musl", "libpthread.so", "ld-linux", "ld-musl")


@dataclass(frozen=True)
class Module:
    path: str = ""
    version: str = ""
    sum: str = ""
    replace: Module | None = None

    def to_go_json(self) -> dict[str, Any]:
        """Same keys and omission rules as encoding/json on runtime/debug.Module."""
        out: dict[str, Any] = {}
        if self.path:
            out["Path"] = self.path
        if self.version:
            out["Version"] = self.version
        if self.sum:
            out["Sum"] = self.sum
        if self.replace is not None:
            out["Replace"] = self.replace.to_go_json()
        return out


@dataclass(frozen=True)
class BuildSetting:
    key: str
    value: str


@dataclass(frozen=True)
class BuildInfo:
    go_version: str
    path: str = ""
    main: Module = field(default_factory=Module)
    deps: tuple[Module, ...] = ()
    settings: tuple[BuildSetting, ...] = ()
    layout: str = "inline"  # inline (Go 1.18+) | pointer (Go 1.13-1.17)

    def setting(self, key: str) -> str | None:
        for s in self.settings:
            if s.key == key:
                return s.value
        return None

    def to_go_json(self) -> dict[str, Any]:
        """The object `go version -m -json` prints for this binary."""
        out: dict[str, Any] = {}
        if self.go_version:
            out["GoVersion"] = self.go_version
        if self.path:
            out["Path"] = self.path
        out["Main"] = self.main.to_go_json()
        if self.deps:
            out["Deps"] = [d.to_go_json() for d in self.deps]
        if self.settings:
            out["Settings"] = [_setting_json(s) for s in self.settings]
        return out


def _setting_json(s: BuildSetting) -> dict[str, str]:
    out = {}
    if s.key:
        out["Key"] = s.key
    if s.value:
        out["Value"] = s.value
    return out


@dataclass(frozen=True)
class SectionSize:
    name: str
    size: int
    file_size: int


@dataclass(frozen=True)
class BinaryFacts:
    """Container facts `go version -m` does not show."""

    format: str  # elf | macho | pe
    arch: str
    ptr_size: int
    endian: str  # little | big
    kind: str  # exec | pie | shared | object
    size: int
    symtab: bool
    dwarf: bool
    linkage: str  # static | dynamic
    interp: str | None
    needed: tuple[str, ...]
    cgo: bool | None  # None: cannot tell (stripped and nothing else shows it)
    race: bool | None
    pie: bool
    go_build_id: str | None
    gnu_build_id: str | None
    sections: tuple[SectionSize, ...]

    def section_sizes(self) -> dict[str, int]:
        """Size in memory per section name (a name used twice counts both)."""
        out: dict[str, int] = {}
        for s in self.sections:
            out[s.name] = out.get(s.name, 0) + s.size
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "arch": self.arch,
            "ptr_size": self.ptr_size,
            "endian": self.endian,
            "kind": self.kind,
            "size": self.size,
            "symtab": self.symtab,
            "dwarf": self.dwarf,
            "linkage": self.linkage,
            "interp": self.interp,
            "needed": list(self.needed),
            "cgo": self.cgo,
            "race": self.race,
            "pie": self.pie,
            "build_id": {"go": self.go_build_id, "gnu": self.gnu_build_id},
            "sections": self.section_sizes(),
        }


@dataclass(frozen=True)
class InspectedBinary:
    path: str
    facts: BinaryFacts
    buildinfo: BuildInfo | None
