"""Terminal graphics: choosing Kitty / Sixel / half blocks, and the slice view drawing through a
textual-image widget when a graphics mode is forced (whatever terminal the tests run in)."""
from __future__ import annotations

import asyncio
import subprocess
import sys

import numpy as np
import pytest

from ais_framework.cli.main import main
from ais_framework.errors import UsageError
from ais_framework.tui import graphics
from ais_framework.tui.app import AisApp

pytest.importorskip("textual_image")


def test_the_mode_follows_the_request_and_the_terminal():
    assert graphics.choose("halfblock", detected="kitty") == "halfblock"
    assert graphics.choose("auto", detected="kitty") == "kitty"
    assert graphics.choose("auto", detected="sixel") == "sixel"
    assert graphics.choose("auto", detected="halfblock") == "halfblock"
    assert graphics.choose("sixel", detected="halfblock") == "sixel"  # forced
    assert graphics.choose("kitty") == "kitty"  # textual-image is installed
    with pytest.raises(UsageError, match="unknown graphics mode 'png'"):
        graphics.choose("png")


def test_a_pipe_is_not_a_graphics_terminal():
    code = "from ais_framework.tui import graphics; print(graphics.choose('auto'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         stdin=subprocess.DEVNULL).stdout
    assert out.strip() == "halfblock"


def test_more_picture_pixels_when_zoomed_out():
    assert [graphics.density(s) for s in (0.1, 0.3, 0.5, 1.0, 4.0)] == [4, 4, 2, 1, 1]


def test_a_bad_graphics_option_is_a_usage_error(tomogram, capsys):
    assert main(["tui", str(tomogram), "--graphics", "png"]) == 2
    assert "unknown --graphics 'png'" in capsys.readouterr().err


@pytest.mark.parametrize("mode", ["kitty", "sixel"])
def test_forced_graphics_mount_a_picture_widget_and_G_switches(tomogram, settle, mode):
    from textual_image.widget import SixelImage, TGPImage

    kind = TGPImage if mode == "kitty" else SixelImage

    async def main_():
        async with AisApp([tomogram], graphics=mode).run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            view = pilot.app.screen.query_one("#view")
            assert view.graphics == mode and len(view.query(kind)) == 1
            width, height = view.size.width, view.size.height
            k = graphics.density(view.current_view().scale)
            picture = view.picture_widget.image
            assert picture.size == (width * k, 2 * height * k)
            pixels = np.asarray(picture)
            assert pixels.std() > 5  # the slice, not a blank
            await pilot.press("G")
            await settle(pilot)
            assert view.graphics == "halfblock" and len(view.query(kind)) == 0
            assert "▀" in "".join(s.text for s in view.render_line(height // 2))
            await pilot.press("G")
            await settle(pilot)
            assert view.graphics == mode and len(view.query(kind)) == 1
    asyncio.run(main_())


def test_half_blocks_are_the_default(tomogram, settle):
    async def main_():
        async with AisApp([tomogram]).run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            view = pilot.app.screen.query_one("#view")
            assert view.graphics == "halfblock" and view.picture_widget is None
            await pilot.press("G")  # nothing to switch to: stays on half blocks
            await settle(pilot)
            assert view.graphics == "halfblock"
    asyncio.run(main_())
