"""A capture's build identity when nothing names a commit: an image digest, else the
executable's content hash (pipeline/storing.build_identity, exe_digest)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from godiag.model.capture import CaptureMeta
from godiag.pipeline.storing import EXE_SHA256, build_identity, exe_digest
from godiag.report.storeview import _short

HASH = "ab" * 32


def test_a_named_commit_wins_over_any_digest() -> None:
    tags = {EXE_SHA256: HASH, "container.image.digest": "sha256:" + HASH}
    meta = CaptureMeta(build_commit="9f2c1e0", tags=tags)
    assert build_identity(meta).build_commit == "9f2c1e0"


def test_an_image_digest_wins_over_the_executable() -> None:
    meta = CaptureMeta(tags={EXE_SHA256: HASH, "container.image.digest": "sha256:" + "cd" * 32})
    assert build_identity(meta).build_commit == "sha256:" + "cd" * 32


def test_the_executable_hash_is_the_last_resort() -> None:
    assert build_identity(CaptureMeta(tags={EXE_SHA256: HASH})).build_commit == (
        "exe-sha256:" + HASH[:16]
    )
    assert build_identity(CaptureMeta()).build_commit is None


def test_exe_digest_is_the_file_sha256_and_bounded(tmp_path: Path) -> None:
    exe = tmp_path / "svc"
    exe.write_bytes(b"\x7fELF" + b"x" * (3 << 20))
    assert exe_digest(exe) == hashlib.sha256(exe.read_bytes()).hexdigest()
    assert exe_digest(exe, limit=1 << 20) is None  # too large: not hashed
    assert exe_digest(tmp_path / "gone") is None


def test_the_store_table_shortens_hashes_only() -> None:
    assert _short("exe-sha256:" + HASH) == "exe-sha256:" + HASH[:12]
    assert _short("0123456789abcdef0123456789abcdef01234567") == "0123456789ab"
    assert _short("9f2c1e0") == "9f2c1e0"
    assert _short("example.com/quotes@v1.2.3") == "example.com/quotes@v1.2.3"
