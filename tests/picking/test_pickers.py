"""The blob, centroid and filament pickers on volumes with known answers (synth ground truth, drawn shapes)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from ais_framework import api
from ais_framework.errors import PixelSizeError, UnknownNameError, UsageError
from ais_framework.evaluate import pick_scores
from ais_framework.picking import pick_volume
from ais_framework.picks import read_picks
from ais_framework.volume import Volume

LARGE_PARTICLE_A3 = 4 / 3 * np.pi * 80.0**3  # smaller than a ~25 nm particle, larger than debris


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    folder = tmp_path_factory.mktemp("synth")
    api.make_synthetic(folder, seed=1)
    return folder


def balls(shape, centres, radius, value=255, dtype=np.uint8):
    z, y, x = np.ogrid[: shape[0], : shape[1], : shape[2]]
    data = np.zeros(shape, dtype=dtype)
    for c in centres:
        data[(z - c[0]) ** 2 + (y - c[1]) ** 2 + (x - c[2]) ** 2 <= radius**2] = value
    return data


@pytest.mark.parametrize("mode", ["blob", "centroid"])
def test_large_particles_are_found_with_high_f1(synth, mode):
    truth = read_picks(synth / "truth" / "large_particles.csv")
    picks = api.pick(synth / "truth" / "large_particles.mrc", mode, min_size_A3=LARGE_PARTICLE_A3)
    scores = pick_scores(picks.xyz_A(), truth.xyz_A(), tolerance_A=100.0)
    assert len(truth) >= 5
    assert scores["f1"] >= 0.95, scores
    assert picks.pixel_size_A == 10.0 and picks.tomogram_shape == (96, 256, 256)


def test_probability_maps_threshold_on_the_0_to_1_scale(synth):
    from ais_framework.volume import read_volume

    truth = read_picks(synth / "truth" / "large_particles.csv")

    volume = read_volume(synth / "truth" / "large_particles.mrc")
    probabilities = volume.like(np.asarray(volume.data, dtype=np.float32) * 0.8)  # float 0..0.8
    assert len(pick_volume(probabilities, "blob", threshold=0.9)) == 0
    picks = pick_volume(probabilities, "blob", threshold=0.5, min_size_A3=LARGE_PARTICLE_A3)
    assert pick_scores(picks.xyz_A(), truth.xyz_A(), 100.0)["f1"] >= 0.95


def test_touching_particles_give_two_blob_picks_and_one_centroid():
    data = balls((40, 40, 60), [(20, 20, 20), (20, 20, 38)], radius=9)  # centres 18 px apart: touching
    volume = Volume(data=data, pixel_size=10.0)
    blob = pick_volume(volume, "blob", spacing_A=100.0)
    assert len(blob) == 2
    np.testing.assert_allclose(np.sort(blob.x), [20, 38], atol=1.0)
    assert len(pick_volume(volume, "centroid")) == 1
    assert len(pick_volume(volume, "blob", spacing_A=250.0)) == 1  # spacing wider than the pair


def test_size_margin_min_particles_and_binning():
    data = balls((40, 64, 64), [(20, 20, 20), (20, 45, 45)], radius=8)
    data |= balls((40, 64, 64), [(20, 20, 50)], radius=2)  # debris
    volume = Volume(data=data, pixel_size=10.0)
    assert len(pick_volume(volume, "centroid")) == 3
    assert len(pick_volume(volume, "centroid", min_size_A3=4 / 3 * np.pi * 50.0**3)) == 2
    near_edge = pick_volume(volume, "centroid", margin_A=190.0, min_size_A3=1e5)  # 45 + 19 > 63 - ...
    assert len(near_edge) == 1 and near_edge.metadata["dropped_by_margin"] == 1
    none = pick_volume(volume, "blob", min_particles=5)
    assert len(none) == 0 and "min-particles" in none.metadata["note"]
    binned = pick_volume(volume, "blob", binning=2, min_size_A3=1e5)
    assert len(binned) == 2 and binned.metadata["binning"] == 2
    np.testing.assert_allclose(np.sort(binned.x), [20, 45], atol=1.5)


def test_scores_are_physical_and_sorted():
    volume = Volume(data=balls((40, 40, 80), [(20, 20, 20), (20, 20, 58)], radius=5) |
                    balls((40, 40, 80), [(20, 20, 58)], radius=9), pixel_size=5.0)
    blob = pick_volume(volume, "blob")
    assert blob.score[0] > blob.score[1] and blob.score[0] == pytest.approx(50.0, abs=6.0)  # depth in Å
    centroid = pick_volume(volume, "centroid")
    assert centroid.score[0] == pytest.approx(4 / 3 * np.pi * 45.0**3, rel=0.1)  # volume in Å³


def test_centroid_orientation_of_a_rod_and_a_disc():
    z, y, x = np.ogrid[:48, :48, :48]
    direction = np.array([0.6, 0.0, 0.8])  # z, y, x
    along = (z - 24) * direction[0] + (x - 24) * direction[2]
    distance = np.sqrt((z - 24) ** 2 + (y - 24) ** 2 + (x - 24) ** 2 - along**2)
    rod = ((np.abs(along) <= 18) & (distance <= 3)).astype(np.uint8) * 255
    picks = pick_volume(Volume(data=rod, pixel_size=10.0), "centroid", orient="axis")
    axis_xyz = Rotation.from_euler("ZYZ", picks.angles(), degrees=True).inv().as_matrix()[0][:, 2]
    assert abs(np.dot(axis_xyz, direction[::-1])) > 0.99
    disc = ((np.abs(along) <= 2) & (distance <= 14)).astype(np.uint8) * 255
    picks = pick_volume(Volume(data=disc, pixel_size=10.0), "centroid", orient="normal")
    normal_xyz = Rotation.from_euler("ZYZ", picks.angles(), degrees=True).inv().as_matrix()[0][:, 2]
    assert abs(np.dot(normal_xyz, direction[::-1])) > 0.99
    ball = pick_volume(Volume(data=balls((30, 30, 30), [(15, 15, 15)], 8), pixel_size=10.0), "centroid", orient="axis")
    np.testing.assert_allclose(ball.angles(), [[0, 0, 0]])  # round: no direction


def test_filament_points_are_evenly_spaced_along_a_curved_tube_with_tangent_angles():
    shape = (40, 100, 140)
    z, y, x = np.ogrid[: shape[0], : shape[1], : shape[2]]
    t = np.linspace(0, 1, 400)
    path = np.stack([20 + 0 * t, 50 + 25 * np.sin(2 * np.pi * t), 15 + 110 * t], axis=1)  # z, y, x
    data = np.zeros(shape, dtype=np.uint8)
    for p in path[::2]:
        data[(z - p[0]) ** 2 + (y - p[1]) ** 2 + (x - p[2]) ** 2 <= 9] = 255
    data[18:23, 48:53, 70:90] = 255  # a short side branch (20 px = 200 Å < 300 Å)
    picks = pick_volume(Volume(data=data, pixel_size=10.0), "filament", spacing_A=80.0, min_length_A=300.0,
                        twist_deg=30.0)
    assert set(picks.filament_id) == {1}
    steps = np.linalg.norm(np.diff(picks.xyz, axis=0), axis=1)
    assert np.all(np.abs(steps - 8.0) < 0.8)  # every 80 Å (chord of the arc)
    assert len(picks) >= 15
    nearest = np.min(np.linalg.norm(picks.zyx[:, None] - path[None], axis=2), axis=1)
    assert nearest.max() < 2.0 and nearest.mean() < 1.0  # pixels: on the tube's axis
    axes = Rotation.from_euler("ZYZ", picks.angles(), degrees=True).inv().as_matrix()[:, :, 2]
    chords = np.diff(picks.xyz, axis=0)
    chords /= np.linalg.norm(chords, axis=1, keepdims=True)
    assert np.all(np.abs(np.sum(axes[:-1] * chords, axis=1)) > 0.9)  # Z axis along the filament
    np.testing.assert_allclose(np.diff(picks.rot)[:5] % 360, 30.0, atol=1e-6)


def test_empty_segmentation_gives_empty_picks_with_a_note():
    picks = pick_volume(Volume(data=np.zeros((20, 30, 30), np.uint8), pixel_size=10.0), "blob")
    assert len(picks) == 0 and "empty segmentation" in picks.metadata["note"]


@pytest.mark.parametrize("threshold", [0, -0.1, 1.5, float("nan")])
def test_threshold_out_of_range(threshold):
    with pytest.raises(UsageError, match="threshold"):
        pick_volume(Volume(data=np.zeros((8, 8, 8), np.uint8), pixel_size=10.0), "blob", threshold=threshold)


def test_unknown_mode_parameter_and_missing_pixel_size(tmp_path):
    volume = Volume(data=np.zeros((8, 8, 8), np.uint8), pixel_size=10.0)
    with pytest.raises(UnknownNameError, match="known: blob, centroid, filament"):
        pick_volume(volume, "nope")
    with pytest.raises(UsageError, match="has no parameter twist_deg"):
        pick_volume(volume, "blob", twist_deg=3.0)
    with pytest.raises(UsageError, match="orientation"):
        pick_volume(volume, "centroid", orient="sideways")
    import mrcfile

    path = tmp_path / "nopix.mrc"
    with mrcfile.new(path) as mrc:  # voxel size 0: the header does not say
        mrc.set_data(np.zeros((8, 8, 8), np.float32))
    with pytest.raises(PixelSizeError, match="--pixel-size"):
        api.pick(path, "blob")
    assert len(api.pick(path, "blob", pixel_size=10.0)) == 0
