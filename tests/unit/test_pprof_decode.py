"""Decoding every profile of the corpus, and the refusals, and the legacy goldens."""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

import pytest

from godiag.errors import ParseError, UnsupportedFormatError
from godiag.formats.pprof import decode
from godiag.formats.pprof_write import encode

GO_PROFILES = [
    "alloy-fastdelta/big-heap.pprof",
    "alloy-fastdelta/block.after.pprof",
    "alloy-fastdelta/block.before.pprof",
    "alloy-fastdelta/heap.after.pprof",
    "alloy-fastdelta/heap.before.pprof",
    "alloy-fastdelta/heap.pprof",
    "alloy-fastdelta/stress-failure.after.pprof",
    "alloy-fastdelta/stress-failure.before.pprof",
    "alloy-fastdelta/stress-failure.2.after.pprof",
    "alloy-fastdelta/stress-failure.2.before.pprof",
    "alloy-fastdelta/stress-failure.3.after.pprof",
    "alloy-fastdelta/stress-failure.3.before.pprof",
    "flameshow/goroutine.out",
    "flameshow/heap.out",
    "flameshow/profile-10seconds.out",
    "google-pprof/internal-driver-testdata/go.nomappings.crash",
    "google-pprof/internal-proftest-testdata/large.cpu",
    "google-pprof/internal-report-testdata/sample.cpu",
    "google-pprof/profile-testdata/go.godoc.thread",
    "google-pprof/profile-testdata/gobench.heap",
    *[f"parca/{n}" for n in (
        "alloc_objects.pb.gz", "alloc_space_delta.pb.gz", "fgprof.pb.gz", "fib.pb.gz",
        "no-python.pb.gz", "profile-with-labels.pb.gz", "profile1.pb.gz", "single-stack.pb.gz",
        "two-stacks.pb.gz",
    )],
    *[f"parca/many/{n}.pb.gz" for n in (
        1644509272337470000, 1644509275338070000, 1644509278338696000, 1644509281339135000,
        1644509284338649000, 1644509287338709000, 1644509290338056000, 1644509293338714000,
        1644509296350592000, 1644509299337903000,
    )],
]  # fmt: skip

UNSUPPORTED = {
    "google-pprof/profile-testdata/cppbench.contention": "contentionz",
    "google-pprof/profile-testdata/cppbench.cpu": "legacy binary CPU",
    "google-pprof/profile-testdata/cppbench.growth": "legacy heap profile",
    "google-pprof/profile-testdata/cppbench.heap": "legacy heap profile",
    "google-pprof/profile-testdata/cppbench.thread": "threadz",
    "google-pprof/profile-testdata/cppbench.thread.all": "threadz",
    "google-pprof/profile-testdata/cppbench.thread.none": "threadz",
    "google-pprof/profile-testdata/java.contention": "contentionz",
    "google-pprof/profile-testdata/java.cpu": "legacy binary CPU",
    "google-pprof/profile-testdata/java.heap": "heapz",
    "google-pprof/fuzz-testdata/7e3c92482f6f39fc502b822ded792c589849cca8": "heapz",
    # Go before 1.9 wrote CPU profiles in gperftools' binary format: refused, not guessed at.
    "google-pprof/profile-testdata/go.crc32.cpu": "legacy binary CPU",
    "google-pprof/profile-testdata/gobench.cpu": "legacy binary CPU",
}


def test_every_go_profile_in_the_corpus_is_listed(corpus: Path) -> None:
    root = corpus / "pprof"
    listed = set(GO_PROFILES) | set(UNSUPPORTED)
    files = {
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and p.suffix not in (".string", ".json") and "fuzz-FuzzDelta" not in p.parts
    }
    assert files - listed == set()


@pytest.mark.parametrize("name", GO_PROFILES)
def test_go_profiles_decode(corpus: Path, name: str) -> None:
    path = corpus / "pprof" / name
    prof = decode(path.read_bytes(), str(path))
    assert prof.sample_types
    assert prof.samples
    idx = prof.sample_index()
    assert 0 <= idx < len(prof.sample_types)
    for s in prof.samples[:50]:
        assert len(s.values) == len(prof.sample_types)


def test_default_sample_type_and_inlined_lines(corpus: Path) -> None:
    path = corpus / "pprof/parca/alloc_objects.pb.gz"
    prof = decode(path.read_bytes(), str(path))
    assert prof.sample_types[prof.sample_index()].type in ("alloc_space", "inuse_space")
    path = corpus / "pprof/google-pprof/internal-report-testdata/sample.cpu"
    prof = decode(path.read_bytes(), str(path))
    assert prof.sample_types[prof.sample_index()].type == "cpu"
    assert any(len(loc.lines) > 1 for loc in prof.locations)  # math.Abs inlined in busyLoop
    assert prof.duration_nanos > 0 and prof.time_nanos > 0 and prof.period == 10_000_000


def test_labels_decode(corpus: Path) -> None:
    path = corpus / "pprof/parca/profile-with-labels.pb.gz"
    prof = decode(path.read_bytes(), str(path))
    assert any(s.labels for s in prof.samples)


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_other_languages_and_old_formats_are_refused_clearly(corpus: Path, name: str) -> None:
    path = corpus / "pprof" / name
    with pytest.raises(UnsupportedFormatError, match=UNSUPPORTED[name]) as err:
        decode(path.read_bytes(), str(path))
    assert str(path) in str(err.value)


def test_fuzzer_wrappers_are_refused(corpus: Path) -> None:
    files = sorted((corpus / "pprof/alloy-fastdelta/fuzz-FuzzDelta").iterdir())
    assert files
    for p in files:
        with pytest.raises(UnsupportedFormatError, match="go test fuzz v1"):
            decode(p.read_bytes(), str(p))


@pytest.mark.parametrize("name", ["go.godoc.thread", "gobench.heap"])
def test_go_legacy_text_agrees_with_pprof_goldens(corpus: Path, tmp_path: Path, name: str) -> None:
    """Our decoding, re-encoded and printed by `go tool pprof -raw`, equals the golden."""
    path = corpus / "pprof/google-pprof/profile-testdata" / name
    prof = decode(path.read_bytes(), str(path))
    out = tmp_path / "p.pb.gz"
    out.write_bytes(encode(prof))
    raw = subprocess.run(
        ["go", "tool", "pprof", "-raw", str(out)], capture_output=True, text=True, check=True
    ).stdout
    golden = (path.parent / f"{name}.string").read_text()
    assert raw == golden


def test_legacy_goroutine_text_with_symbols_and_labels() -> None:
    text = (
        "goroutine profile: total 3\n"
        "2 @ 0x1000 0x2000\n"
        '# labels: {"handler":"/work"}\n'
        "#\t0xfff\tmain.wait+0x1f\t/src/main.go:12\n"
        "#\t0x1fff\tmain.main+0x2f\t/src/main.go:30\n"
        "\n"
        "1 @ 0x3000\n"
    )
    prof = decode(text.encode(), "g.txt")
    assert [st.type for st in prof.sample_types] == ["goroutine"]
    first = prof.samples[0]
    assert first.values == (2,)
    assert first.labels == (("handler", "/work"),)
    fn = first.locations[0].lines[0].function
    assert fn is not None and fn.name == "main.wait" and fn.filename == "/src/main.go"
    assert first.locations[0].address == 0xFFF


def test_legacy_mutex_text() -> None:
    text = (
        "--- mutex:\ncycles/second=1000000000\nsampling period=1\n"
        "5000 2 @ 0x1000 0x2000\n#\t0xfff\tsync.(*Mutex).Unlock+0x1\t/go/sync.go:1\n"
    )
    prof = decode(text.encode(), "m.txt")
    assert [st.type for st in prof.sample_types] == ["contentions", "delay"]
    assert prof.samples[0].values == (2, 5000)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "empty"),
        (b"\x1f\x8b\x08\x00", "gzip"),
        (gzip.compress(b"\x0a\x04\x08\x01\x10\x02")[:-6], "gzip"),
        (b"\x0a\x04\x08\x01\x10\x02", "string table"),
        (b"hello world, not a profile", "pprof"),
        (b"heap profile: 1: 2 [3: 4] @ heap/1048576\nbogus line\n", "bad heap record"),
        (b"goroutine profile: total 1\n1 @ 0xZZ\n", "goroutine record"),
    ],
)
def test_bad_input_is_a_parse_error(data: bytes, why: str) -> None:
    with pytest.raises(ParseError, match=why):
        decode(data, "bad")


def test_strings_that_are_not_utf8_decode_as_go_tool_pprof_reads_them() -> None:
    """A pprof.Do label of a Latin-1 path is written by Go as it is; proto3 refuses it,
    `go tool pprof` reads it: the bad bytes become U+FFFD and the rest is unchanged."""
    from godiag.formats.pprof import STRING_TABLE, _entry

    heap = Path(__file__).parent.parent / "data/diagnose/healthy-kvstore/00-heap-start.pb.gz"
    data = gzip.decompress(heap.read_bytes())
    good = decode(data, "heap")
    bad = data + _entry(STRING_TABLE << 3 | 2, b"/files/caf\xe9.txt")
    prof = decode(bad, "heap")
    assert prof.sample_types == good.sample_types
    assert [x.values for x in prof.samples] == [x.values for x in good.samples]
    # a profile broken past its strings is still refused
    with pytest.raises(ParseError, match="not a pprof protobuf profile"):
        decode(bad + b"\x0a\xff", "heap")
