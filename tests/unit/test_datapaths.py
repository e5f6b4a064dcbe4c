"""The guard that keeps the tests' reads inside the repository: a user's clone has nothing
beside it."""

from __future__ import annotations

import os

import pytest

from tests import datapaths


def test_the_corpus_is_inside_the_repository() -> None:
    assert datapaths.CORPUS.is_relative_to(datapaths.REPO)
    assert (datapaths.CORPUS / "pprof" / "parca" / "single-stack.pb.gz").is_file()
    assert (datapaths.CORPUS / "goroutines" / "goleak" / "http.txt").is_file()


@pytest.mark.skipif(datapaths.REPO.parent == datapaths.REPO.parent.parent, reason="checkout at /")
def test_a_path_beside_the_checkout_is_outside() -> None:
    beside = datapaths.REPO.parent / "data-beside-the-checkout" / "pprof" / "x.pb.gz"
    assert datapaths.outside_repo(beside)
    assert datapaths.outside_repo(os.path.relpath(beside))
    assert not datapaths.outside_repo(datapaths.DATA / "README.md")
    assert not datapaths.outside_repo(datapaths.REPO / ".." / datapaths.REPO.name / "Makefile")


@pytest.mark.skipif(datapaths.REPO.parent == datapaths.REPO.parent.parent, reason="checkout at /")
def test_opening_beside_the_checkout_is_recorded() -> None:
    before = len(datapaths.violations)
    beside = datapaths.REPO.parent / "no-such-folder-beside-the-checkout" / "f.txt"
    with pytest.raises(FileNotFoundError):
        beside.read_bytes()
    seen = datapaths.violations[before:]
    # Taken back so that the autouse guard does not fail this test for the read it provoked.
    del datapaths.violations[before:]
    assert seen == [f"open {beside}"]


@pytest.mark.skipif(datapaths.REPO.parent == datapaths.REPO.parent.parent, reason="checkout at /")
def test_what_this_run_made_beside_the_checkout_is_its_own() -> None:
    """A checkout in the temp directory: the tests' own temp dirs lie beside it."""
    import shutil
    import time

    made = datapaths.REPO.parent / f"made-by-this-run-{os.getpid()}-{time.time_ns()}"
    made.mkdir()
    try:
        (made / "f.txt").write_text("x")  # a write is never recorded
        assert not datapaths.outside_repo(made / "f.txt")
    finally:
        shutil.rmtree(made)
    assert datapaths.outside_repo(datapaths.REPO.parent / "pytest-of-x" / "y") is False
