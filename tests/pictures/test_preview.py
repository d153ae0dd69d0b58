"""``ais-fw preview``: slices of a tomogram with segmentations overlaid and picks circled.

The pictures are checked pixel by pixel where the overlays must be (and must not be), using
the panel boxes the preview reports and the synthetic ground truth.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from ais_framework import api
from ais_framework.cli.main import main
from ais_framework.colours import PALETTE, distinct_colours, feature_colour, parse_colour, rgb
from ais_framework.errors import InputFileError, UsageError
from ais_framework.picks import Picks, write_picks
from ais_framework.preview import choose_slices, split_colour
from ais_framework.preview_draw import FILL_ALPHA
from ais_framework.volume import Volume, read_volume, write_volume


def picture(result: dict) -> np.ndarray:
    return np.asarray(Image.open(result["output"]).convert("RGB")).astype(int)


def page_xy(result: dict, panel: int, y: float, x: float, slice_width: int) -> tuple[int, int]:
    """Where slice pixel (y, x) of a panel lands on the page (row, column)."""
    left, top, width, _ = result["panels"][panel]["box"]
    scale = width / slice_width
    return int(top + (y + 0.5) * scale), int(left + (x + 0.5) * scale)


def clear_of_labels(result: dict, panel: int, row: int, col: int) -> bool:
    """Not under the slice label (top left) or the scale bar (bottom right)."""
    left, top, width, height = result["panels"][panel]["box"]
    return not ((row - top < 50 and col - left < 90) or (top + height - row < 50 and left + width - col < 160))


def one_pick(tmp_path, zyx, pixel_size=10.0, name="ribosome.csv"):
    picks = Picks.from_zyx(np.array([zyx], dtype=float), pixel_size_A=pixel_size, tomogram="other")
    return write_picks(picks, tmp_path / name)


# -- segmentations --------------------------------------------------------------------------------
def test_membrane_is_tinted_in_its_colour_and_nothing_else_changes(synth, tmp_path):
    tomogram, membrane = synth["tomogram"], synth["files"]["membrane_mask"]
    plain = api.preview(tomogram, tmp_path / "plain.png", slices=[32])
    shown = api.preview(tomogram, tmp_path / "membrane.png", [membrane], slices=[32])
    assert shown["segmentations"] == [{"feature": "membrane", "colour": feature_colour("membrane")}]
    before, after = picture(plain), picture(shown)
    mask = read_volume(membrane).data[32] > 0
    colour = np.array(rgb(feature_colour("membrane")))
    inside = np.argwhere(ndimage.binary_erosion(mask, iterations=2))
    outside = np.argwhere(~ndimage.binary_dilation(mask, iterations=3))
    assert len(inside) > 50
    checked = 0
    for y, x in inside:  # (the header with the legend is taller: positions differ between the two)
        row, col = page_xy(shown, 0, y, x, mask.shape[1])
        if clear_of_labels(shown, 0, row, col):
            grey = before[page_xy(plain, 0, y, x, mask.shape[1])]
            np.testing.assert_allclose(after[row, col], grey + (colour - grey) * FILL_ALPHA, atol=2)
            checked += 1
    assert checked > 50
    for y, x in outside[::97]:
        row, col = page_xy(shown, 0, y, x, mask.shape[1])
        if clear_of_labels(shown, 0, row, col):
            np.testing.assert_array_equal(after[row, col], before[page_xy(plain, 0, y, x, mask.shape[1])])


def test_given_colours_win_and_features_get_distinct_colours(synth, tmp_path):
    files = synth["files"]
    result = api.preview(synth["tomogram"], tmp_path / "two.png",
                         [f"{files['carbon_mask']}:#00ff00", files["large_particles_mask"], files["membrane_mask"]],
                         slices=[20])
    colours = {s["feature"]: s["colour"] for s in result["segmentations"]}
    assert colours["carbon"] == "#00ff00"
    assert colours["large_particles"] != colours["membrane"] and set(colours.values()) <= set(PALETTE) | {"#00ff00"}
    carbon = read_volume(files["carbon_mask"]).data[20] > 0
    assert carbon.any()
    y, x = np.argwhere(ndimage.binary_erosion(carbon, iterations=3))[len(np.argwhere(carbon)) // 3 % 50]
    red, green, blue = picture(result)[page_xy(result, 0, y, x, carbon.shape[1])]
    assert green > red + 20 and green > blue + 20


# -- picks ------------------------------------------------------------------------------------------
def test_pick_is_a_circle_on_slices_that_cut_it(synth, tmp_path):
    picks = one_pick(tmp_path, (20, 80, 80))
    colour = np.array(rgb(parse_colour("magenta")))
    plain_result = api.preview(synth["tomogram"], tmp_path / "plain.png", slices=[20, 26, 40])
    result = api.preview(synth["tomogram"], tmp_path / "picks.png", picks=[f"{picks}:magenta"],
                         slices=[20, 26, 40], pick_radius_A=100)
    image, plain = picture(result), picture(plain_result)
    assert result["picks"] == [{"name": "ribosome", "colour": "#ff00ff", "count": 1}]
    for panel, radius in ((0, 10.0), (1, 8.0)):  # the sphere's cut: sqrt(10² - 6²) = 8 px
        for dy, dx in ((0, radius), (radius, 0), (0, -radius), (-radius, 0)):
            ring = image[page_xy(result, panel, 80 + dy, 80 + dx, 160)]
            assert np.abs(ring - colour).max() < 60, (panel, dy, dx, ring)
        centre, plain_centre = page_xy(result, panel, 80, 80, 160), page_xy(plain_result, panel, 80, 80, 160)
        np.testing.assert_array_equal(image[centre], plain[plain_centre])  # a ring, not a disc
    left, top, width, height = result["panels"][2]["box"]  # 20 slices away: no mark at all
    left0, top0 = plain_result["panels"][2]["box"][:2]
    assert np.array_equal(image[top : top + height, left : left + width],
                          plain[top0 : top0 + height, left0 : left0 + width])


def test_picks_at_another_pixel_size_land_in_the_right_place(synth, tmp_path):
    """Picks of the unbinned tomogram (5 Å) on this 10 Å tomogram: coordinates are halved."""
    picks = one_pick(tmp_path, (40, 160, 120), pixel_size=5.0)
    result = api.preview(synth["tomogram"], tmp_path / "binned.png", picks=[f"{picks}:#ffffff"], slices=[20])
    image = picture(result)
    ring = image[page_xy(result, 0, 80, 60 + 10, 160)]
    assert ring.min() > 200  # white, at 10 px from (y 80, x 60)


def test_truth_coordinates_draw_every_particle(synth, tmp_path):
    result = api.preview(synth["tomogram"], tmp_path / "truth.png", [synth["files"]["large_particles_mask"]],
                         picks=[synth["files"]["large_particles"]])
    assert result["picks"][0]["count"] == 3 and result["picks"][0]["name"] == "large_particles"
    assert result["picks"][0]["colour"] != result["segmentations"][0]["colour"]


def test_a_file_of_several_tomograms_gives_this_ones_picks(synth, tmp_path):
    mine = Picks.from_zyx(np.array([[20, 80, 80], [30, 40, 40]]), pixel_size_A=10.0, tomogram="synth_0.mrc")
    other = Picks.from_zyx(np.array([[20, 20, 20]]), pixel_size_A=10.0, tomogram="TS_02")
    both = write_picks([mine, other], tmp_path / "both.csv")
    result = api.preview(synth["tomogram"], tmp_path / "mine.png", picks=[str(both)], slices=[20])
    assert result["picks"][0]["count"] == 2
    strangers = write_picks([other, Picks.from_zyx(np.zeros((1, 3)), tomogram="TS_03")], tmp_path / "no.csv")
    with pytest.raises(UsageError, match="holds picks of 2 tomograms, none named 'synth_0'"):
        api.preview(synth["tomogram"], tmp_path / "no.png", picks=[str(strangers)])


# -- slices, layout, contrast ------------------------------------------------------------------
def test_default_slices_and_a_two_by_two_page(synth, tmp_path):
    result = api.preview(synth["tomogram"], tmp_path / "default.png")
    assert result["slices"] == choose_slices(64, None) == [13, 25, 38, 50]
    boxes = [p["box"] for p in result["panels"]]
    assert [b[2:] for b in boxes] == [[512, 512]] * 4
    assert len({b[0] for b in boxes}) == 2 and len({b[1] for b in boxes}) == 2
    image = picture(result)
    assert list(image.shape[1::-1]) == result["size"]
    left, top, width, height = boxes[0]
    grey = image[top + 60 : top + height - 60, left : left + width, 0]
    assert np.percentile(grey, 1) < 40 and np.percentile(grey, 99) > 215  # auto-contrast spans the range


def test_wide_tomogram_panels_keep_their_shape(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "wide.mrc"
    write_volume(path, Volume(rng.normal(size=(12, 40, 100)).astype(np.float32), pixel_size=7.0))
    result = api.preview(path, tmp_path / "wide.png", slices=[1, 5, 9], panel_size=300)
    boxes = [p["box"] for p in result["panels"]]
    assert [b[2:] for b in boxes] == [[300, 120]] * 3
    page_width, page_height = result["size"]
    for index, (left, top, width, height) in enumerate(boxes):
        assert left + width <= page_width and top + height <= page_height
        for other in boxes[index + 1 :]:  # panels never overlap
            assert left + width <= other[0] or other[0] + other[2] <= left or top + height <= other[1] \
                or other[1] + other[3] <= top


def test_choose_slices():
    assert choose_slices(100, None, 3) == [25, 50, 74]
    assert choose_slices(2, None, 4) == [0, 1]
    assert choose_slices(50, [3, 7]) == [3, 7]
    with pytest.raises(UsageError, match="slice 50 is outside the tomogram"):
        choose_slices(50, [10, 50])


# -- bad input ------------------------------------------------------------------------------------
def test_bad_input_is_refused_and_nothing_is_written(synth, tmp_path):
    tomogram = synth["tomogram"]
    small = tmp_path / "small.mrc"
    write_volume(small, Volume(np.zeros((8, 8, 8), dtype=np.uint8), pixel_size=10.0))
    with pytest.raises(InputFileError, match="differs from the tomogram"):
        api.preview(tomogram, tmp_path / "a.png", [str(small)])
    with pytest.raises(UsageError, match="unknown colour"):
        api.preview(tomogram, tmp_path / "a.png", [f"{synth['files']['membrane_mask']}:nocolour"])
    with pytest.raises(UsageError, match="previews are PNG pictures"):
        api.preview(tomogram, tmp_path / "a.jpg")
    with pytest.raises(UsageError, match="outside the tomogram"):
        api.preview(tomogram, tmp_path / "a.png", slices=[64])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.mrc"]


# -- colours ----------------------------------------------------------------------------------------
def test_feature_colours_are_stable_across_processes():
    names = ["membrane", "carbon", "ribosome", "microtubule"]
    script = f"from ais_framework.colours import feature_colour; print([feature_colour(n) for n in {names!r}])"
    other = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": "12345"}).stdout.strip()
    assert other == str([feature_colour(n) for n in names])
    assert feature_colour("Membrane ") == feature_colour("membrane") in PALETTE


def test_distinct_colours_and_parsing():
    names = [f"feature{i}" for i in range(len(PALETTE))]
    assert len(set(distinct_colours(names))) == len(PALETTE)
    assert distinct_colours(["a", "b", "a"])[0] == distinct_colours(["a", "b", "a"])[2]
    assert parse_colour("orange") == "#ffa500" and parse_colour("FF8800") == "#ff8800"
    with pytest.raises(UsageError, match="unknown colour"):
        parse_colour("nonsense")


def test_split_colour(tmp_path):
    assert split_colour("t__membrane.mrc:red") == ("t__membrane.mrc", "red")
    assert split_colour("t.mrc:#ff0000") == ("t.mrc", "#ff0000")
    assert split_colour("C:\\data\\t.mrc") == ("C:\\data\\t.mrc", None)
    assert split_colour("t.mrc") == ("t.mrc", None)
    odd = tmp_path / "run:3.mrc"
    odd.write_bytes(b"")
    assert split_colour(str(odd)) == (str(odd), None)


# -- command line ---------------------------------------------------------------------------------
def test_cli_draws_segmentations_and_picks(synth, tmp_path, capsys):
    files = synth["files"]
    output = tmp_path / "cli.png"
    code = main(["preview", synth["tomogram"], files["membrane_mask"], f"{files['carbon_mask']}:steelblue",
                 "--picks", files["large_particles"], "--slices", "10,30", "-o", str(output), "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["slices"] == [10, 30]
    assert [s["feature"] for s in summary["segmentations"]] == ["membrane", "carbon"]
    with Image.open(output) as image:
        assert image.format == "PNG" and list(image.size) == summary["size"]


def test_cli_bad_slices_is_a_usage_error(synth, tmp_path, capsys):
    assert main(["preview", synth["tomogram"], "--slices", "a,b", "-o", str(tmp_path / "x.png")]) == 2
    assert "--slices must be whole numbers" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()
