"""Top tables equal `go tool pprof -top -nodecount=20` number for number (run here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from godiag.analysis.profiles import NodeTable, build_stacks, subtract, top
from godiag.formats.pprof import decode
from tests.pprof_compare import godiag_top, pprof_legend, pprof_top

pytestmark = pytest.mark.integration

PROFILES = [
    "google-pprof/internal-report-testdata/sample.cpu",
    "google-pprof/internal-proftest-testdata/large.cpu",
    "google-pprof/internal-driver-testdata/go.nomappings.crash",
    "google-pprof/profile-testdata/gobench.heap",
    "google-pprof/profile-testdata/go.godoc.thread",
    "parca/alloc_objects.pb.gz",
    "parca/profile-with-labels.pb.gz",
    "parca/profile1.pb.gz",
    "parca/fgprof.pb.gz",
    "flameshow/heap.out",
    "flameshow/goroutine.out",
    "flameshow/profile-10seconds.out",
    "alloy-fastdelta/big-heap.pprof",
    "alloy-fastdelta/block.after.pprof",
]


@pytest.mark.parametrize("name", PROFILES)
def test_top20_equals_pprof(corpus: Path, name: str) -> None:
    path = corpus / "pprof" / name
    prof = decode(path.read_bytes(), str(path))
    indexes = [None] + [st.type for st in prof.sample_types[:2]]
    for si in indexes:
        assert godiag_top(path, 20, si) == pprof_top(path, 20, si), f"sample index {si}"


@pytest.mark.parametrize(
    ("name", "flag", "filters"),
    [
        ("parca/alloc_objects.pb.gz", "-focus=flate", {"focus": "flate"}),
        ("parca/alloc_objects.pb.gz", "-ignore=runtime", {"ignore": "runtime"}),
        ("google-pprof/internal-proftest-testdata/large.cpu", "-focus=main", {"focus": "main"}),
    ],
)
def test_focus_and_ignore_equal_pprof(
    corpus: Path, name: str, flag: str, filters: dict[str, str]
) -> None:
    path = corpus / "pprof" / name
    assert godiag_top(path, 20, None, **filters) == pprof_top(path, 20, None, flag)


@pytest.mark.parametrize("mode", ["-base", "-diff_base"])
@pytest.mark.parametrize(
    ("new", "old"),
    [
        (
            "alloy-fastdelta/stress-failure.after.pprof",
            "alloy-fastdelta/stress-failure.before.pprof",
        ),
        ("parca/many/1644509299337903000.pb.gz", "parca/many/1644509272337470000.pb.gz"),
    ],
)
def test_base_and_diff_base_equal_pprof(corpus: Path, mode: str, new: str, old: str) -> None:
    a, b = corpus / "pprof" / new, corpus / "pprof" / old
    for si in ("inuse_space", "alloc_objects"):
        table = NodeTable()
        sa = build_stacks(decode(a.read_bytes(), str(a)), si, table=table)
        sb = build_stacks(decode(b.read_bytes(), str(b)), si, table=table)
        got = top(subtract(sa, sb, diff_base=mode == "-diff_base"), 20)
        ours = [
            (r.flat, r.cum, r.function + (f" ({r.inline})" if r.inline else "")) for r in got.rows
        ]
        assert ours == pprof_top(a, 20, si, f"{mode}={b}")


@pytest.mark.parametrize("mode", ["-base", "-diff_base"])
@pytest.mark.parametrize(
    ("new", "old", "si"),
    [
        # Builds with another GOROOT: the same runtime functions under two file paths.
        ("flameshow/profile-10seconds.out", "parca/profile1.pb.gz", None),
        (
            "flameshow/profile-10seconds.out",
            "google-pprof/internal-report-testdata/sample.cpu",
            None,
        ),
        (
            "parca/many/1644509299337903000.pb.gz",
            "parca/many/1644509272337470000.pb.gz",
            "alloc_objects",
        ),
    ],
)
def test_dropped_and_kept_nodes_equal_pprof(
    corpus: Path, mode: str, new: str, old: str, si: str | None
) -> None:
    """The legend: "Dropped N nodes (cum <= X)" and "… out of M" say what pprof says."""
    a, b = corpus / "pprof" / new, corpus / "pprof" / old
    table = NodeTable()
    sa = build_stacks(decode(a.read_bytes(), str(a)), si, table=table)
    sb = build_stacks(decode(b.read_bytes(), str(b)), si, table=table)
    got = top(subtract(sa, sb, diff_base=mode == "-diff_base"), 20)
    dropped, cutoff, kept = pprof_legend(a, 20, si, f"{mode}={b}")
    assert (got.dropped_nodes, got.nodes_total) == (dropped, kept)
    if dropped and mode == "-diff_base":
        # The printed cutoff is a fraction of the report total. With -diff_base that is
        # the base's total, exact here; with -base pprof merges samples by location
        # (address) identity, which two builds never share, so its total keeps both sides
        # whole, where ours nets them by function (a known difference, percentages too).
        assert got.cutoff == cutoff
