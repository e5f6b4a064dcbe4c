"""Take a CPU profile of a running service and draw it as a flame graph page.

TARGET is a service base URL or a configured target name. The raw profile is kept
beside the page as FILE.pb.gz (open it with `go tool pprof`). The default page name
is godiag-cpu-HOST-TIME.html in the current directory.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import click

from godiag.cli.common import make_output, output_options
from godiag.cli.storeopts import metadata_options

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")


def parse_duration(text: str) -> float:
    from godiag.errors import UsageError

    m = _DURATION.match(text)
    if not m:
        raise UsageError(f"--duration {text!r}: use a number with ms, s, m or h (e.g. 30s)")
    value = float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m.group(2) or "s"]
    if value < 1:
        raise UsageError("--duration must be at least 1s (CPU profiles sample every 10ms)")
    return value


@click.command()
@click.argument("target")
@click.option("--duration", default="30s", show_default=True, help="CPU profile window.")
@click.option(
    "--timeout",
    type=float,
    default=30.0,
    show_default=True,
    help="Seconds to wait for an answer beyond the window.",
)
@click.option("--config", "config_path", default=None, help="godiag.toml to use.")
@metadata_options(store_default=False)
@output_options(["html", "json"])
def trace(
    target: str, duration: str, timeout: float, config_path: str | None, service: str | None,
    go_version: str | None, build_commit: str | None, tags: tuple[str, ...], store: bool,
    as_baseline: bool, fmt: str | None, output: Path | None, quiet: bool, verbose: bool,
    no_color: bool,
) -> int:  # fmt: skip
    """CPU-profile TARGET for --duration and write a flame graph (plus the raw .pb.gz).

    With --store the CPU profile is also kept in the artifact store (see `godiag profile`).
    """
    from godiag.analysis.profile_doc import ProfileQuery, build_document
    from godiag.cli.profile import progress_bar
    from godiag.cli.storeopts import overrides, say_stored
    from godiag.pipeline.profiles import is_url, load_profile
    from godiag.report import emit, write_file

    seconds = parse_duration(duration)
    if output is None:
        host = re.sub(r"[^A-Za-z0-9.-]+", "_", target.split("://", 1)[-1]).strip("_")
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        output = Path(f"godiag-cpu-{host}-{stamp}.{fmt or 'html'}")
    out = make_output(fmt, output, quiet, verbose, no_color, ["html", "json"])
    if not is_url(target) and Path(target).exists():
        from godiag.errors import UsageError

        raise UsageError(f"{target} is a file: use `godiag profile {target} --format html`")
    user = overrides(service, go_version, build_commit, tags)
    prof, cap = load_profile(
        target, kind="cpu", seconds=seconds, timeout=timeout, progress=progress_bar(quiet),
        user_meta=user, config_path=config_path,
    )  # fmt: skip
    assert cap is not None and out.output is not None
    raw = out.output.with_suffix(".pb.gz")
    write_file(raw, cap.data)
    doc = build_document(
        prof, ProfileQuery(node_count=30, flame=True), source=cap.source, profile_type="cpu"
    )
    doc["raw_profile"] = str(raw)
    if store or as_baseline:
        from godiag.pipeline.storing import keep, load_config

        doc["stored"] = keep([cap], load_config(config_path), enabled=True, baseline=as_baseline)
        say_stored(doc["stored"], quiet)
    emit(doc, out.format, out.output, color=out.color, quiet=quiet, verbose=verbose)
    return 0
