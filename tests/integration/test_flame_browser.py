"""The flame graph page in a real headless Chromium: loads, draws, zooms on click, searches."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from godiag.formats.pprof_write import encode
from tests.chromium import Page, chromium_path
from tests.profile_fixtures import wide_profile

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(chromium_path() is None, reason="chromium not installed (see .ci/run)"),
]


def _page(tmp_path: Path, profile_bytes: bytes, *extra: str) -> Path:
    src = tmp_path / "p.pb.gz"
    src.write_bytes(profile_bytes)
    html = tmp_path / "flame.html"
    subprocess.run(
        [sys.executable, "-m", "godiag", "profile", str(src), "-o", str(html), "-q", *extra],
        check=True,
    )
    return html


def _state(page: Page) -> dict[str, object]:
    raw = page.wait_for("document.body.getAttribute('data-flame-state')")
    state: dict[str, object] = json.loads(raw)
    return state


def test_flame_page_loads_zooms_and_searches(tmp_path: Path) -> None:
    html = _page(tmp_path, encode(wide_profile((100, 100, 10))))
    assert "<script src" not in html.read_text()  # self-contained: nothing fetched
    page = Page(html.as_uri())
    try:
        st = _state(page)
        assert st["ready"] is True
        assert int(str(st["frames"])) > 100_000  # root + 100 + 10k + 100k frames
        assert int(str(st["drawn"])) > 100  # the root and the visible frames were painted
        assert st["zoom"] == "root"
        root_box = page.eval("godiagFlame.boxOf(0)")
        assert root_box["w"] > 500

        # A real mouse click on a_3 zooms to it.
        i = page.eval("godiagFlame.rowOf('a_3')")
        box = page.eval(f"godiagFlame.boxOf({i})")
        page.click(box["x"], box["y"])
        st = _state(page)
        assert st["zoom"] == "a_3"
        # After zooming, a_3 spans the full width and its children are wide enough to see.
        assert page.eval(f"godiagFlame.boxOf({i}).w") > 500
        child = page.eval("godiagFlame.rowOf('b_0')")
        assert page.eval(f"godiagFlame.boxOf({child}).w") > 3

        # Search: matches are highlighted and the match percentage is right (1 of 100 b_ rows).
        pct = page.eval("godiagFlame.search('^b_7$')")
        assert pct == pytest.approx(1.0, abs=0.01)
        st = _state(page)
        assert st["term"] == "^b_7$"
        hit = page.eval("godiagFlame.rowOf('b_7')")
        b = page.eval(f"godiagFlame.boxOf({hit})")
        assert page.eval(f"godiagFlame.pixel({b['x']}, {b['y'] - 7})") == [0xC0, 0x58, 0xD8]
        status = page.eval("document.getElementById('flame-status').textContent")
        assert "Matched: 1.00%" in status

        # Icicle view flips the rows; a click on the root zooms back out.
        page.eval("document.getElementById('flame-invert').click()")
        assert _state(page)["inverted"] is True
        rb = page.eval("godiagFlame.boxOf(0)")
        page.click(rb["x"], rb["y"])
        assert _state(page)["zoom"] == "root"
    finally:
        page.close()


def test_diff_flame_colours_growth_red_and_shrink_blue(tmp_path: Path) -> None:
    new = wide_profile((4, 2))
    old = wide_profile((4, 2))
    # The base had a_0's leaves at 10x, so a_0 shrank; the rest grew by the base being 0.
    from dataclasses import replace

    old = replace(
        old,
        samples=tuple(
            replace(s, values=(s.values[0], s.values[1] * (10 if s.locations[1].lines[0].function.name == "a_0" else 0)))  # type: ignore[union-attr]
            for s in old.samples
        ),
    )
    base = tmp_path / "base.pb.gz"
    base.write_bytes(encode(old))
    html = _page(tmp_path, encode(new), "--diff-base", str(base))
    page = Page(html.as_uri())
    try:
        _state(page)
        shrink = page.eval("godiagFlame.boxOf(godiagFlame.rowOf('a_0'))")
        grow = page.eval("godiagFlame.boxOf(godiagFlame.rowOf('a_1'))")
        r, g, b = page.eval(f"godiagFlame.pixel({shrink['x']}, {shrink['y'] - 7})")
        assert b > r  # blue: shrank
        r, g, b = page.eval(f"godiagFlame.pixel({grow['x']}, {grow['y'] - 7})")
        assert r > b  # red: grew
    finally:
        page.close()
