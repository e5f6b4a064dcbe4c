"""The doctor check catalog: one module per check, registered here by stable id.

`CHECKS` keeps catalog order (docs/contracts.md); `run_checks` runs the selected checks
against one `Context`, in threads because most of their time is spent waiting on the go
command. A check that cannot run (too old a go, `--deep` only) yields a skip record
with the reason instead of silently passing.
"""

from __future__ import annotations

import importlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from godiag.errors import UsageError
from godiag.model.findings import Finding
from godiag.toolchain.checks.base import Check, Context, Skipped

_MODULES = (
    "gopath_mode",
    "packages_unloadable",
    "workspace_override",
    "goflags_injection",
    "env_file_override",
    "toolchain_switch",
    "goroot_mismatch",
    "cgo_disabled",
    "vendor_auto",
    "replace_directives",
    "checksum_weakened",
    "module_cache_modified",
    "gocache_misconfigured",
    "graph_drift",
    "skipped_test_dirs",
    "constraint_excluded",
    "embed_hidden_files",
    "misnamed_tests",
)


def _load() -> dict[str, Check]:
    out: dict[str, Check] = {}
    for name in _MODULES:
        check = importlib.import_module(f"{__name__}.{name}").CHECK
        assert isinstance(check, Check)
        out[check.id] = check
    return out


CHECKS: dict[str, Check] = _load()


@dataclass(frozen=True)
class Skip:
    id: str
    reason: str


def select(only: tuple[str, ...] = (), skip: tuple[str, ...] = ()) -> list[Check]:
    """Checks to run, in catalog order; unknown ids are a usage error."""
    for cid in (*only, *skip):
        if cid not in CHECKS:
            raise UsageError(f"unknown check {cid!r} (see `godiag doctor --list`)")
    return [c for c in CHECKS.values() if (not only or c.id in only) and c.id not in skip]


def _run_one(check: Check, ctx: Context) -> tuple[list[Finding], Skip | None]:
    if check.deep and not ctx.deep:
        return [], Skip(check.id, "runs only with --deep (it builds or may download)")
    if check.min_go and ctx.goversion[:2] < check.min_go:
        need = f"go{check.min_go[0]}.{check.min_go[1]}"
        return [], Skip(check.id, f"needs {need} or newer (running {ctx.env.get('GOVERSION')})")
    try:
        return check.run(ctx), None
    except Skipped as exc:
        return [], Skip(check.id, str(exc))


def run_checks(ctx: Context, checks: list[Check]) -> tuple[list[Finding], list[Skip]]:
    """Run `checks`; findings sorted by severity (worst first) then catalog order."""
    order = {cid: i for i, cid in enumerate(CHECKS)}
    with ThreadPoolExecutor(max_workers=4) as pool:
        pool.submit(ctx.packages)  # the slowest probe starts first; checks share it
        results = list(pool.map(lambda c: _run_one(c, ctx), checks))
    findings = [f for fs, _ in results for f in fs]
    skips = [s for _, s in results if s is not None]
    findings.sort(key=lambda f: (-int(f.severity), order.get(f.id, 99)))
    return findings, skips
