"""One `godiag run`: environment snapshot, supervision, findings, the godiag.run/v1 document."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from godiag.errors import GoCommandError
from godiag.toolchain.envsnapshot import EnvSnapshot, redact_tree
from godiag.toolchain.supervise import outcome
from godiag.toolchain.supervise.runner import RunOptions, expected_outputs, supervise

if TYPE_CHECKING:
    from godiag.toolchain.supervise import leakwrap


def resolve_go(argv: list[str], env: dict[str, str]) -> str:
    """The executable the command line names, found on the child's PATH."""
    if not argv:
        raise GoCommandError("nothing to run: give the go command after --, e.g. `-- go build`")
    found = shutil.which(argv[0], path=env.get("PATH"))
    if found is None:
        raise GoCommandError(f"{argv[0]}: not found on PATH")
    return found


def env_snapshot(go: str, env: dict[str, str], cwd: str) -> EnvSnapshot | str:
    """doctor's snapshot of the settings the supervised go sees, or why there is none."""
    from godiag.toolchain.envsnapshot import snapshot
    from godiag.toolchain.gocmd import GoRunner

    try:
        return snapshot(GoRunner(Path(cwd), dict(env), go=go))
    except GoCommandError as exc:
        return str(exc)


def env_json(snap: EnvSnapshot | str | None) -> dict[str, Any]:
    """The document's `env`: doctor's shape (settings with their source) plus `error`."""
    if isinstance(snap, EnvSnapshot):
        return {**snap.to_json(), "error": None}
    error = snap or "`go env` did not answer in time"
    return {"goenv_file": None, "goroot_env_file": None, "settings": [], "error": error}


def run(opts: RunOptions, expect: list[Path]) -> dict[str, Any]:
    if opts.leaks is None:
        return _run(opts, expect)
    import tempfile

    from godiag.toolchain.supervise import goargs, leakwrap

    go = resolve_go(opts.argv, opts.env)
    args = goargs.parse(opts.argv, opts.env.get("GOFLAGS", ""))
    with tempfile.TemporaryDirectory(prefix="godiag-leaks-") as tmp:
        work = Path(tmp)
        plan = leakwrap.prepare(
            args,
            go,
            opts.env,
            opts.cwd,
            work,
            leak_profile=opts.leaks.leak_profile,
            grace_s=opts.leaks.grace_s,
        )
        command = list(opts.argv)
        opts.argv = plan.argv
        opts.env = {**opts.env, **plan.env}
        doc = _run(opts, expect, leaks=(plan, work, opts.leaks.keep_dumps))
        doc["command"] = command
        return doc


def _run(
    opts: RunOptions,
    expect: list[Path],
    leaks: tuple[leakwrap.Plan, Path, Path | None] | None = None,
) -> dict[str, Any]:
    go = resolve_go(opts.argv, opts.env)
    from godiag.toolchain.supervise import goargs

    args = goargs.parse(opts.argv, opts.env.get("GOFLAGS", ""))
    before = expected_outputs(args, opts.cwd, expect)
    # The env snapshot runs `go env`: do it while the command runs, not before.
    env_box: list[EnvSnapshot | str] = []
    snap_thread = threading.Thread(
        target=lambda: env_box.append(env_snapshot(go, opts.env, opts.cwd)), daemon=True
    )
    opts.after_spawn = snap_thread.start  # threads only after the fork
    rec = supervise(opts)
    if snap_thread.is_alive() or snap_thread.ident is not None:
        snap_thread.join(timeout=60)
    env_snap = env_box[0] if env_box else None
    found = outcome.findings(rec, before, go, opts.env, opts.cwd)
    leaks_doc: dict[str, Any] | None = None
    if leaks is not None:
        from godiag.toolchain.supervise import leaks as leakfind

        leaks_doc, leak_findings = leakfind.collect(*leaks)
        found += leak_findings
    info = outcome.exit_info(rec)
    failed = (
        bool(leaks_doc and leaks_doc["leaks"])
        or rec.returncode != 0
        or rec.ended_by != "exit"
        or any(f.id == "postcondition-failed" and str(f.severity) == "error" for f in found)
    )
    settings = env_snap if isinstance(env_snap, EnvSnapshot) else EnvSnapshot({}, None, None)
    doc = {
        "schema": "godiag.run/v1",
        "command": rec.argv,
        "effective_command": rec.effective_argv,
        "x_added": rec.x_added,
        "dir": os.path.abspath(opts.cwd),
        "go": {
            "path": go,
            "version": settings.get("GOVERSION") or None,
            "goroot": settings.get("GOROOT") or None,
        },
        "env": env_json(env_snap),
        "started_at": rec.started_at,
        "duration_s": rec.duration,
        "stall_s": opts.stall,
        "timeout_s": opts.timeout,
        "timeout_default": opts.timeout_is_default,
        "exit": info,
        "failed": failed,
        "expected_outputs": sorted(before),
        "timeline": rec.timeline,
        "fetches": rec.recorder.get_events[:500],
        "pending_fetches": sorted(rec.pending_gets),
        "snapshots": rec.snapshots,
        "dumps": rec.dumps,
        "processes_seen": len(rec.seen),
        "thawed_cgroups": rec.thawed,
        "memory_cgroups": [
            {
                "file": f,
                "oom_kill_before": e["before"],
                "oom_kill_after": e["after"],
                "pids": e["pids"],
            }
            for f, e in sorted(rec.memcgs.items())
        ],
        "withheld_output_bytes": rec.recorder.withheld,
        "findings": [f.to_json() for f in found],
        "warnings": rec.warnings,
        "leaks": leaks_doc,
    }
    # The streamed output is the user's; the document may be shared: no secrets in it
    # (credentials in a git or proxy URL of a command line, a token in the output).
    redacted: dict[str, Any] = redact_tree(doc)
    return redacted
