"""The local store does not follow symlinks planted in its directories: an object that is
a link is refused when read (even if the bytes it points to match), and temp files are
created new and private."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from godiag.errors import StoreError
from godiag.store.local import LocalStore

FIELDS = {
    "service_name": "checkout",
    "go_version": "go1.26.0",
    "build_commit": "0123abcd",
    "profile_type": "heap",
    "captured_at": "2026-11-26T21:00:00Z",
}


def test_object_replaced_by_a_link_is_refused(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    art = store.put(b"heap bytes", FIELDS)
    obj = store.object_path(art.meta.sha256)
    assert stat.S_IMODE(obj.stat().st_mode) == 0o600
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(b"heap bytes")  # same bytes: the sha256 check alone would pass
    obj.unlink()
    obj.symlink_to(elsewhere)
    with pytest.raises(StoreError, match="unreadable"):
        store.read(art.id)
    os.unlink(obj)
    store.close()
