"""The half-block renderer: sampling, levels, overlays and segments, checked on small arrays."""
from __future__ import annotations

import numpy as np

from ais_framework.tui.render import (HALF, Grid, HalfBlockPainter, Layer, Scene, View, auto_levels, draw_scene,
                                      hex_rgb, integral_image)


def test_fit_shows_the_whole_slice_centred():
    view = View.fit((100, 50), (50, 40))  # 50 columns, 80 screen pixel rows
    assert view.scale == 0.8  # height limits: 80 px for 100 px
    assert view.to_image(25, 40, (50, 40)) == (50.0, 25.0)  # screen centre -> slice centre


def test_screen_and_image_coordinates_round_trip():
    view, cells = View(30.0, 40.0, 2.5), (60, 20)
    rows, cols = view.to_screen(np.array([12.0]), np.array([33.0]), cells)
    assert np.allclose(view.to_image(cols[0], rows[0], cells), (12.0, 33.0))


def test_zoomed_out_pixels_are_box_means_and_zoomed_in_pixels_are_blocks():
    image = np.arange(16, dtype=np.float32).reshape(4, 4)
    table = integral_image(image)
    half = Grid.make(View(2.0, 2.0, 0.5), (4, 4), (2, 1))  # 2x2 screen px, each a 2x2 block
    assert np.allclose(half.mean(table), [[2.5, 4.5], [10.5, 12.5]])
    double = Grid.make(View(2.0, 2.0, 2.0), (4, 4), (8, 4))
    assert np.allclose(double.mean(table), np.repeat(np.repeat(image, 2, 0), 2, 1))


def test_outside_the_slice_is_background_and_masks_show_thin_lines_when_zoomed_out():
    image = np.zeros((8, 8), np.float32)
    mask = np.zeros((8, 8), bool)
    mask[3, :] = True  # a one-pixel line
    scene = Scene(integral_image(image), (8, 8), (0.0, 1.0), [Layer(integral_image(mask), (255, 0, 0), 1.0)], [], [])
    rgb = draw_scene(scene, View(4.0, 4.0, 0.5), (8, 4), (9, 9, 9))  # 8x8 screen px over a 16x16 window
    assert (rgb[0, 0] == 9).all()  # the window's corner lies outside the slice
    red = (rgb == (255, 0, 0)).all(axis=2)
    assert red.any(axis=1).sum() == 1 and red.any()  # the line survives 2x downsampling


def test_levels_map_percentiles_to_black_and_white():
    image = np.linspace(-1, 1, 10000, dtype=np.float32).reshape(100, 100)
    lo, hi = auto_levels(image, 0, 100)
    assert lo < -0.95 and hi > 0.95
    scene = Scene(integral_image(image), (100, 100), (lo, hi), [], [], [])
    rgb = draw_scene(scene, View.fit((100, 100), (100, 50)), (100, 50), (0, 0, 0))
    assert rgb[0, 50, 0] < 10 and rgb[-1, 50, 0] > 245


def test_segments_cover_every_cell_with_upper_and_lower_colours():
    rgb = np.zeros((4, 3, 3), np.uint8)
    rgb[0] = (255, 0, 0)  # upper pixels of the first cell row
    rgb[1, 2] = (0, 0, 255)
    lines = HalfBlockPainter().segments(rgb)
    assert len(lines) == 2 and all(sum(len(s.text) for s in line) == 3 for line in lines)
    first = lines[0]
    assert [s.text for s in first] == [HALF * 2, HALF]  # equal neighbours merged
    assert first[0].style.color.triplet == (255, 0, 0) and first[0].style.bgcolor.triplet == (0, 0, 0)
    assert first[1].style.bgcolor.triplet == (0, 0, 255)
    assert lines[1][0].text == HALF * 3


def test_boxes_and_picks_are_drawn_in_their_colours():
    scene = Scene(integral_image(np.zeros((40, 40), np.float32)), (40, 40), (0.0, 1.0), [],
                  [(20.0, 20.0, 10, hex_rgb("#00ff00"))], [(np.array([5.0]), np.array([5.0]), (255, 255, 0))])
    rgb = draw_scene(scene, View.fit((40, 40), (40, 20)), (40, 20), (0, 0, 0))
    green = (rgb == (0, 255, 0)).all(axis=2)
    assert green[15, 15:26].all() and green[15:26, 25].all() and not green[20, 20]
    assert (rgb[5, 5] == (255, 255, 0)).all()
