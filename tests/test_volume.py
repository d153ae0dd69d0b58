"""The Volume type and the framework side of reading and writing (format choice, pixel size, atomicity)."""
from __future__ import annotations

import math

import mrcfile
import numpy as np
import pytest

import ais_plugins.io.mrc as mrc_plugin
import ais_plugins.io.tiff as tiff_plugin
from ais_framework.errors import AisError, InputFileError, PixelSizeError, UsageError
from ais_framework.volume import (
    Volume,
    check_pixel_size,
    iter_slabs,
    read_volume,
    usable_pixel_size,
    volume_stats,
    write_volume,
)


def _volume(**fields) -> Volume:
    data = np.arange(3 * 4 * 5, dtype=np.float32).reshape(3, 4, 5)
    return Volume(**({"data": data, "pixel_size": 6.0} | fields))


def test_volume_shape_and_like_keep_the_geometry():
    volume = _volume(origin=(1.0, 2.0, 3.0), voxel_size=(6.0, 6.0, 7.0), start=(1, 2, 3))
    assert volume.shape == (3, 4, 5)
    other = volume.like(np.zeros((3, 4, 5), np.uint8))
    assert (other.pixel_size, other.origin, other.voxel_size, other.start) == (6.0, (1.0, 2.0, 3.0), (6.0, 6.0, 7.0), (1, 2, 3))
    assert other.path is None and other.data.dtype == np.uint8


def test_with_pixel_size_sets_every_axis():
    volume = _volume(pixel_size=None).with_pixel_size(8)
    assert volume.pixel_size == 8.0 and volume.voxel_size == (8.0, 8.0, 8.0)


@pytest.mark.parametrize("bad", [0, 0.0, -1.5, math.nan, math.inf, "10", None, True])
def test_check_pixel_size_rejects_what_is_not_a_positive_number(bad):
    with pytest.raises(UsageError) as caught:
        check_pixel_size(bad)
    assert "--pixel-size" in caught.value.hint
    assert usable_pixel_size(bad) is None


def test_usable_pixel_size_accepts_numpy_numbers():
    assert usable_pixel_size(np.float32(10.5)) == 10.5 and usable_pixel_size(3) == 3.0


@pytest.mark.parametrize(
    ("pixel_size", "voxel_size", "expected"),
    [
        (5.0, None, (5.0, 5.0, 5.0)),
        (5.0, (5.0, 5.0, 9.0), (5.0, 5.0, 9.0)),
        (5.0, (5.0, 5.0, 0.0), (5.0, 5.0, 5.0)),
        (5.0, (5.0, 5.0, math.inf), (5.0, 5.0, 5.0)),
        (None, None, (0.0, 0.0, 0.0)),
    ],
)
def test_header_voxel_size_fills_gaps_with_the_pixel_size(pixel_size, voxel_size, expected):
    assert _volume(pixel_size=pixel_size, voxel_size=voxel_size).header_voxel_size() == expected


# --- reading -------------------------------------------------------------------------------

def test_missing_file_and_folder_are_input_errors(tmp_path):
    with pytest.raises(InputFileError, match="no such file"):
        read_volume(tmp_path / "absent.mrc")
    with pytest.raises(InputFileError, match="is a folder"):
        read_volume(tmp_path)


@pytest.mark.parametrize("name", ["tomogram.xyz", "tomogram"])
def test_unknown_extension_lists_the_known_ones(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"data")
    with pytest.raises(InputFileError) as caught:
        read_volume(path)
    assert str(path) in caught.value.message
    for ext in (".mrc", ".rec", ".map", ".tif", ".tiff"):
        assert ext in caught.value.hint
    with pytest.raises(InputFileError, match="cannot write"):
        write_volume(path.with_suffix(".xyz"), _volume())


def test_bad_pixel_size_override_is_a_usage_error(tmp_path):
    path = write_volume(tmp_path / "v.mrc", _volume())
    with pytest.raises(UsageError):
        read_volume(path, pixel_size=0)


def test_non_finite_header_pixel_size_counts_as_missing(tmp_path):
    path = tmp_path / "inf.mrc"
    with mrcfile.new(path, data=np.zeros((2, 3, 4), np.float32)) as mrc:
        mrc.header.cella = (math.inf, math.inf, math.inf)
    with pytest.raises(PixelSizeError):
        read_volume(path)


def test_reader_crash_becomes_one_line_input_error(tmp_path, monkeypatch):
    path = write_volume(tmp_path / "v.mrc", _volume())

    def broken(_path):
        raise ValueError("something deep\ninside the reader")

    monkeypatch.setattr(mrc_plugin, "_read_header", broken)
    with pytest.raises(InputFileError) as caught:
        read_volume(path)
    assert str(path) in caught.value.message and "something deep inside the reader" in caught.value.message
    assert isinstance(caught.value.__cause__, ValueError)


def test_unreadable_file_is_an_input_error(tmp_path, monkeypatch):
    path = write_volume(tmp_path / "v.mrc", _volume())

    def denied(_path):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(mrc_plugin, "_read_header", denied)
    with pytest.raises(InputFileError, match="Permission denied"):
        read_volume(path)


# --- writing -------------------------------------------------------------------------------

def test_write_without_pixel_size_is_refused_and_writes_nothing(tmp_path):
    with pytest.raises(PixelSizeError) as caught:
        write_volume(tmp_path / "v.mrc", _volume(pixel_size=None))
    assert "--pixel-size" in caught.value.hint
    assert list(tmp_path.iterdir()) == []


def test_write_accepts_a_2d_image_as_one_slice(tmp_path):
    back = read_volume(write_volume(tmp_path / "v.mrc", _volume(data=np.ones((4, 5), np.float32))))
    assert back.shape == (1, 4, 5)


@pytest.mark.parametrize("shape", [(0, 4, 5), (2, 3, 4, 5), (7,)])
def test_write_refuses_what_is_not_a_volume(tmp_path, shape):
    with pytest.raises(UsageError):
        write_volume(tmp_path / "v.mrc", _volume(data=np.zeros(shape, np.float32)))


def test_unwritable_type_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="complex"):
        write_volume(tmp_path / "v.mrc", _volume(data=np.zeros((2, 3, 4), np.complex64)))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("suffix", "module", "name"), [(".mrc", mrc_plugin, "volume_stats"),
                                                         (".tif", tiff_plugin, "_per_nm")])
def test_failed_write_leaves_no_partial_file_and_keeps_the_old_one(tmp_path, monkeypatch, suffix, module, name):
    target = tmp_path / f"seg{suffix}"
    write_volume(target, _volume())
    before = target.read_bytes()

    def crash(*_args, **_kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(module, name, crash)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_volume(target, _volume(data=np.zeros((3, 4, 5), np.float32)))
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def test_failed_first_write_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(mrc_plugin, "volume_stats", lambda *_: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        write_volume(tmp_path / "new.mrc", _volume())
    assert list(tmp_path.iterdir()) == []


def test_write_into_a_path_under_a_file_is_one_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(AisError) as caught:
        write_volume(blocker / "out.mrc", _volume())
    assert "cannot be written" in caught.value.message and caught.value.hint


def test_write_replaces_an_existing_file(tmp_path):
    target = tmp_path / "v.mrc"
    write_volume(target, _volume())
    write_volume(target, _volume(data=np.full((3, 4, 5), 7, np.float32)))
    assert float(read_volume(target).data.max()) == 7.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.mrc"]


# --- slab statistics -------------------------------------------------------------------------

@pytest.mark.parametrize("slab", [1, 3, 16, 100])
def test_volume_stats_match_numpy(slab):
    data = np.random.default_rng(5).normal(3.0, 2.0, (17, 6, 7)).astype(np.float32)
    stats = volume_stats(data, slices_per_slab=slab)
    assert stats["min"] == float(data.min()) and stats["max"] == float(data.max())
    assert stats["mean"] == pytest.approx(float(data.astype(np.float64).mean()), rel=1e-12)
    assert stats["std"] == pytest.approx(float(data.astype(np.float64).std()), rel=1e-10)


def test_volume_stats_of_an_empty_volume_are_nan():
    assert all(math.isnan(v) for v in volume_stats(np.zeros((0, 3, 3))).values())


def test_iter_slabs_covers_every_slice_once():
    data = np.arange(10)[:, None, None] * np.ones((1, 2, 2))
    slabs = list(iter_slabs(data, 4))
    assert [s.shape[0] for s in slabs] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate(slabs), data)


def test_volume_stats_on_a_memory_map(tmp_path):
    data = np.random.default_rng(2).integers(-50, 50, (9, 8, 7)).astype(np.int16)
    volume = read_volume(write_volume(tmp_path / "v.mrc", _volume(data=data)))
    assert isinstance(volume.data, np.memmap)
    stats = volume_stats(volume.data, slices_per_slab=2)
    assert (stats["min"], stats["max"]) == (float(data.min()), float(data.max()))
    assert stats["std"] == pytest.approx(float(data.std()))
