"""Robust normalisation: median / 1.4826·MAD from a sample of slices."""
from __future__ import annotations

import numpy as np
import pytest

from ais_framework.errors import AisError, UsageError
from ais_framework.normalisation import MAX_PIXELS_PER_SLICE, normalise, robust_stats, sample_slices
from ais_framework.volume import Volume, read_volume, write_volume


def numpy_median_mad(values: np.ndarray) -> tuple[float, float]:
    values = np.asarray(values, dtype=np.float64).ravel()
    center = np.median(values)
    return float(center), float(1.4826 * np.median(np.abs(values - center)))


class RecordingVolume:
    """A (Z, Y, X) array that records which Z indices were read."""

    def __init__(self, data: np.ndarray):
        self.data, self.shape, self.read = data, data.shape, []

    def __getitem__(self, key):
        self.read.append(key)
        return self.data[key]


def test_matches_numpy_on_a_small_mrc(tmp_path):
    rng = np.random.default_rng(1)
    data = (rng.laplace(5.0, 2.0, size=(12, 40, 30)) ** 2).astype(np.float32)  # skewed, heavy-tailed
    write_volume(tmp_path / "t.mrc", Volume(data, 10.0))
    stats = robust_stats(read_volume(tmp_path / "t.mrc").data)
    center, scale = numpy_median_mad(data)
    assert stats["method"] == "median_mad"
    assert stats["center"] == pytest.approx(center, rel=1e-6)
    assert stats["scale"] == pytest.approx(scale, rel=1e-6)
    assert set(stats) == {"method", "center", "scale"}


def test_reads_only_the_sampled_slices():
    rng = np.random.default_rng(2)
    data = rng.normal(3.0, 2.0, size=(100, 16, 16)).astype(np.float32)
    volume = RecordingVolume(data)
    stats = robust_stats(volume, max_slices=8)
    expected = sample_slices(100, 8)
    assert volume.read == expected and len(expected) == 8
    assert expected[0] > 0 and expected[-1] < 99  # spread over Z, not the first 8
    center, scale = numpy_median_mad(data[expected])
    assert (stats["center"], stats["scale"]) == pytest.approx((center, scale), rel=1e-6)


def test_large_slices_are_subsampled_reproducibly():
    rng = np.random.default_rng(3)
    data = rng.normal(7.0, 3.0, size=(2, 400, 400)).astype(np.float32)  # 160,000 px per slice
    assert data[0].size > MAX_PIXELS_PER_SLICE
    first, again, other = robust_stats(data, seed=0), robust_stats(data, seed=0), robust_stats(data, seed=1)
    assert first == again and first != other
    assert first["center"] == pytest.approx(7.0, abs=0.05) and first["scale"] == pytest.approx(3.0, rel=0.02)


def test_normalise_is_center_and_scale():
    data = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    out = normalise(data, {"method": "median_mad", "center": 4.0, "scale": 2.0})
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, (data - 4.0) / 2.0)
    assert normalise(data, {"method": "median_mad", "center": 0.0, "scale": 0.0}).max() < np.inf


def test_constant_volume_gets_a_usable_scale():
    stats = robust_stats(np.full((3, 8, 8), 5.0, dtype=np.float32))
    assert stats["center"] == 5.0 and stats["scale"] == 1.0
    assert np.all(normalise(np.full((2, 2), 5.0), stats) == 0)


def test_mostly_constant_volume_falls_back_to_std():
    data = np.zeros((2, 10, 10), dtype=np.float32)
    data[0, 0, :4] = 10.0  # MAD is 0: more than half the values equal
    stats = robust_stats(data)
    assert stats["scale"] == pytest.approx(float(data.std()))


def test_non_finite_values_are_skipped():
    data = np.ones((2, 4, 4), dtype=np.float32)
    data[0, 0, 0], data[1, 1, 1] = np.nan, np.inf
    assert robust_stats(data)["center"] == 1.0


@pytest.mark.parametrize("bad", [np.zeros((0, 4, 4)), np.zeros((4, 4)), np.full((1, 2, 2), np.nan)])
def test_bad_volumes_raise_clear_errors(bad):
    with pytest.raises(AisError) as info:
        robust_stats(bad)
    assert "\n" not in str(info.value) and info.value.hint


def test_unknown_method_is_refused():
    with pytest.raises(UsageError, match="unknown normalisation method"):
        normalise(np.zeros(3), {"method": "minmax", "center": 0, "scale": 1})
