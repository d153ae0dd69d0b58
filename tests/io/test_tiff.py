"""TIFF reading and writing: real stacks from shared/data, pixel-size metadata, round trips."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile

from ais_framework.cli.main import main
from ais_framework.errors import InputFileError, PixelSizeError
from ais_framework.volume import Volume, read_volume, write_volume
from ais_plugins.io.tiff import angstrom_per_unit

CYLINDRA = ["cylindra-mt/13pf_MT.tif", "cylindra-mt/14pf_MT.tif"]
TARDIS = sorted(f"tardis-mt/patch_{p}{m}.tif" for p in ("0_0_30_47_25", "3_0_25_54_25", "4_0_55_98_25",
                                                        "5_0_28_54_25") for m in ("", "_mask"))
SLICES = ["cryocompare-sarscov2-slice/TS_001.133.tif", "cryocompare-sarscov2-slice/TS_001.133_ground_truth.tif"]


@pytest.mark.parametrize(("name", "shape"), [(CYLINDRA[0], (36, 206, 94)), (CYLINDRA[1], (44, 136, 84))])
def test_imagej_stacks_read_with_pixel_size_in_angstrom(shared_data, name, shape):
    volume = read_volume(shared_data / name)
    assert volume.shape == shape and volume.data.dtype == np.uint8
    assert volume.pixel_size == pytest.approx(10.52, abs=1e-6)  # ImageJ: 1.052 nm
    assert volume.voxel_size == pytest.approx((10.52, 10.52, 10.52), abs=1e-6)  # spacing=1.052, unit=nm
    assert volume.origin == (0.0, 0.0, 0.0)
    np.testing.assert_array_equal(np.asarray(volume.data), tifffile.imread(shared_data / name))


@pytest.mark.parametrize("name", CYLINDRA + TARDIS + SLICES)
def test_uncompressed_tiffs_are_memory_mapped(shared_data, name):
    volume = read_volume(shared_data / name, require_pixel_size=False)
    assert isinstance(volume.data, np.memmap)
    assert not volume.data.flags.writeable
    assert volume.data.ndim == 3


@pytest.mark.parametrize("name", TARDIS)
def test_resolution_of_one_without_unit_means_no_pixel_size(shared_data, name):
    path = shared_data / name
    with pytest.raises(PixelSizeError) as caught:
        read_volume(path)
    assert "--pixel-size" in caught.value.hint and str(path) in caught.value.message
    assert read_volume(path, require_pixel_size=False).pixel_size is None
    given = read_volume(path, pixel_size=23.2)
    assert given.pixel_size == 23.2 and given.voxel_size == (23.2, 23.2, 23.2)
    np.testing.assert_array_equal(np.asarray(given.data), tifffile.imread(path))


def test_masks_hold_the_label_values(shared_data):
    mask = read_volume(shared_data / "tardis-mt/patch_4_0_55_98_25_mask.tif", pixel_size=10.0)
    assert set(np.unique(mask.data)) == {0, 1}


@pytest.mark.parametrize("name", SLICES)
def test_single_2d_image_is_a_one_slice_volume(shared_data, name):
    volume = read_volume(shared_data / name, require_pixel_size=False)
    assert volume.shape == (1, 928, 960)
    assert volume.pixel_size is None  # no resolution tags / ImageJ unit ''
    np.testing.assert_array_equal(np.asarray(volume.data[0]), tifffile.imread(shared_data / name))


def test_lzw_tiff_is_the_same_crop_as_the_mrc(shared_data):
    path = shared_data / "tardis-mt/tif3D.tif"
    try:
        import imagecodecs  # noqa: F401
    except ImportError:
        with pytest.raises(InputFileError, match="imagecodecs") as caught:
            read_volume(path, pixel_size=23.2)
        assert "pip install imagecodecs" in caught.value.hint
        return
    tif = read_volume(path, pixel_size=23.2)
    assert not isinstance(tif.data, np.memmap)  # compressed: read into memory
    mrc = read_volume(shared_data / "tardis-mt/mrc3D.mrc")
    np.testing.assert_array_equal(np.asarray(tif.data), np.asarray(mrc.data))


# --- pixel-size metadata -------------------------------------------------------------------

def _stack(dtype="uint8") -> np.ndarray:
    return (np.arange(4 * 5 * 6) % 100).astype(dtype).reshape(4, 5, 6)


@pytest.mark.parametrize(
    ("unit", "pixel_in_unit", "expected"),
    [
        ("nm", 1.052, 10.52),
        ("micron", 0.00134, 13.4),
        ("\\u00B5m", 0.002, 20.0),
        ("um", 0.00075, 7.5),
        ("angstrom", 8.5, 8.5),
        ("\\u00C5", 4.2, 4.2),
        ("A", 6.0, 6.0),
    ],
)
def test_imagej_units_are_converted_to_angstrom(tmp_path, unit, pixel_in_unit, expected):
    path = tmp_path / "ij.tif"
    tifffile.imwrite(path, _stack(), imagej=True, resolution=(1 / pixel_in_unit, 1 / pixel_in_unit),
                     metadata={"axes": "ZYX", "unit": unit, "spacing": pixel_in_unit * 2})
    volume = read_volume(path)
    assert volume.pixel_size == pytest.approx(expected, rel=1e-6)
    assert volume.voxel_size[2] == pytest.approx(2 * expected, rel=1e-6)


@pytest.mark.parametrize("unit", ["pixel", "inch", "", None])
def test_imagej_without_a_length_unit_has_no_pixel_size(tmp_path, unit):
    path = tmp_path / "ij.tif"
    metadata = {"axes": "ZYX"} | ({"unit": unit} if unit is not None else {})
    tifffile.imwrite(path, _stack(), imagej=True, resolution=(0.5, 0.5), metadata=metadata)
    assert read_volume(path, require_pixel_size=False).pixel_size is None


def test_imagej_default_resolution_defers_to_the_spacing(tmp_path):
    path = tmp_path / "ij.tif"
    tifffile.imwrite(path, _stack(), imagej=True, metadata={"axes": "ZYX", "unit": "nm", "spacing": 1.348})
    assert read_volume(path).pixel_size == pytest.approx(13.48)


@pytest.mark.parametrize(
    ("resolution", "unit", "expected"),
    [((1e7, 1e7), "CENTIMETER", 10.0), ((72, 72), "INCH", None), ((1, 1), "NONE", None), ((300, 300), "INCH", None)],
)
def test_plain_tiff_resolution_needs_a_metric_unit(tmp_path, resolution, unit, expected):
    path = tmp_path / "plain.tif"
    tifffile.imwrite(path, _stack(), photometric="minisblack", resolution=resolution, resolutionunit=unit)
    assert read_volume(path, require_pixel_size=False).pixel_size == (pytest.approx(expected) if expected else None)


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({"PhysicalSizeX": 1.052, "PhysicalSizeXUnit": "nm"}, 10.52),
        ({"PhysicalSizeX": 0.001052}, 10.52),  # the OME default unit is µm
        ({"PhysicalSizeX": 8.0, "PhysicalSizeXUnit": "Å"}, 8.0),
        ({"PhysicalSizeX": 2.0, "PhysicalSizeXUnit": "furlong"}, None),
        ({}, None),
    ],
)
def test_ome_physical_size_with_its_unit(tmp_path, metadata, expected):
    path = tmp_path / "stack.ome.tif"
    tifffile.imwrite(path, _stack(), ome=True, metadata={"axes": "ZYX", **metadata})
    volume = read_volume(path, require_pixel_size=False)
    assert volume.pixel_size == (pytest.approx(expected) if expected else None)


def test_unit_names():
    assert angstrom_per_unit("nm") == 10.0
    assert angstrom_per_unit(" Micron ") == 1e4
    assert angstrom_per_unit("\u00b5m") == angstrom_per_unit("\u03bcm") == 1e4
    assert angstrom_per_unit("\u212b") == 1.0
    assert angstrom_per_unit("pixel") is None and angstrom_per_unit(None) is None


# --- writing -------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["uint8", "uint16", "int16", "float32"])
@pytest.mark.parametrize("pixel_size", [10.52, 13.48, 7.84, 1.0, 2.3456789])
def test_write_read_round_trip(tmp_path, dtype, pixel_size):
    data = _stack(dtype) * (-1 if dtype in ("int16", "float32") else 1)
    volume = Volume(data=data, pixel_size=pixel_size, voxel_size=(pixel_size, pixel_size, 2 * pixel_size))
    path = write_volume(tmp_path / "out.tif", volume)
    back = read_volume(path)
    assert back.data.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(np.asarray(back.data), data)
    assert isinstance(back.data, np.memmap)
    assert back.pixel_size == pytest.approx(pixel_size, rel=1e-6)
    assert back.voxel_size == pytest.approx((pixel_size, pixel_size, 2 * pixel_size), rel=1e-6)
    with tifffile.TiffFile(path) as tif:  # an ImageJ stack that Fiji reads with its calibration
        assert tif.is_imagej and tif.imagej_metadata["unit"] == "nm"
        assert tif.imagej_metadata["spacing"] == pytest.approx(2 * pixel_size / 10, rel=1e-6)
        assert len(tif.pages) == data.shape[0]


@pytest.mark.parametrize(("dtype", "stored"), [("int8", "int16"), ("bool", "uint8"), ("float64", "float32"),
                                              ("float16", "float32"), ("int32", "float32")])
def test_types_imagej_lacks_are_widened(tmp_path, dtype, stored):
    data = (_stack("int16") % 3 - (1 if dtype.startswith(("int", "float")) else 0)).astype(dtype)
    path = write_volume(tmp_path / "out.tiff", Volume(data=data, pixel_size=5.0))
    back = read_volume(path)
    assert back.data.dtype == np.dtype(stored)
    np.testing.assert_array_equal(np.asarray(back.data), data.astype(stored))


def test_real_stack_survives_tiff_and_mrc_round_trips(shared_data, tmp_path):
    original = read_volume(shared_data / CYLINDRA[0])
    via_tiff = read_volume(write_volume(tmp_path / "a.tif", original))
    via_mrc = read_volume(write_volume(tmp_path / "a.mrc", original))
    for copy in (via_tiff, via_mrc):
        np.testing.assert_array_equal(np.asarray(copy.data), np.asarray(original.data))
        assert copy.pixel_size == pytest.approx(10.52, rel=1e-6)
    back_to_tiff = read_volume(write_volume(tmp_path / "b.tif", via_mrc))
    assert back_to_tiff.voxel_size == pytest.approx(original.voxel_size, rel=1e-6)


def test_single_slice_volume_is_written_and_read(tmp_path):
    data = _stack()[:1]
    back = read_volume(write_volume(tmp_path / "one.tif", Volume(data=data, pixel_size=3.0)))
    assert back.shape == (1, 5, 6) and back.pixel_size == pytest.approx(3.0)


def test_writing_without_pixel_size_is_refused(tmp_path):
    with pytest.raises(PixelSizeError):
        write_volume(tmp_path / "x.tif", Volume(data=_stack(), pixel_size=None))
    assert list(tmp_path.iterdir()) == []


# --- damaged and unusual files -------------------------------------------------------------

@pytest.mark.parametrize("content", [b"", b"hello, this is a text file\n" * 50, b"II*\x00" + bytes(100),
                                     np.random.default_rng(0).bytes(4096),
                                     b"II*\x00" + np.random.default_rng(1).bytes(4096)])
def test_garbage_tiff_is_one_line_input_file_error(tmp_path, content):
    path = tmp_path / "bad.tif"
    path.write_bytes(content)
    with pytest.raises(InputFileError) as caught:
        read_volume(path, pixel_size=1.0)
    assert str(path) in caught.value.message and "\n" not in caught.value.message


@pytest.mark.parametrize("fraction", [0.5, 0.01])
def test_truncated_stack_is_reported(shared_data, tmp_path, fraction, capfd):
    raw = (shared_data / CYLINDRA[0]).read_bytes()
    path = tmp_path / "cut.tif"
    path.write_bytes(raw[: int(len(raw) * fraction)])
    with pytest.raises(InputFileError, match="truncated") as caught:
        read_volume(path)
    assert str(path) in caught.value.message
    assert capfd.readouterr().err == ""  # tifffile's own warnings are not printed


def test_colour_image_is_refused(tmp_path):
    path = tmp_path / "rgb.tif"
    tifffile.imwrite(path, np.zeros((5, 6, 3), np.uint8), photometric="rgb")
    with pytest.raises(InputFileError, match="colour"):
        read_volume(path, pixel_size=1.0)


def test_more_than_three_dimensions_is_refused(tmp_path):
    path = tmp_path / "czyx.tif"
    tifffile.imwrite(path, np.zeros((3, 2, 5, 6), np.uint8), imagej=True, metadata={"axes": "ZCYX"})
    with pytest.raises(InputFileError, match="more than 3 dimensions"):
        read_volume(path, pixel_size=1.0)


def test_compressed_tiff_is_read_into_memory(tmp_path):
    path = tmp_path / "zip.tif"
    tifffile.imwrite(path, _stack(), photometric="minisblack", compression="zlib",
                     resolution=(1e7, 1e7), resolutionunit="CENTIMETER")
    volume = read_volume(path)
    assert not isinstance(volume.data, np.memmap)
    np.testing.assert_array_equal(volume.data, _stack())


# --- through the CLI -------------------------------------------------------------------------

def test_cli_info_json_on_a_real_stack(shared_data):
    path = shared_data / CYLINDRA[1]
    run = subprocess.run([sys.executable, "-c", "from ais_framework.cli.main import main; main()",
                          "info", str(path), "--json"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    facts = json.loads(run.stdout)
    assert facts["shape_zyx"] == [44, 136, 84] and facts["dtype"] == "uint8"
    assert facts["pixel_size_A"] == pytest.approx(10.52)


def test_cli_info_on_a_slice_without_pixel_size(shared_data, capsys):
    assert main(["info", str(shared_data / SLICES[0]), "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["shape_zyx"] == [1, 928, 960] and facts["pixel_size_A"] is None
    assert main(["info", str(shared_data / SLICES[0]), "--pixel-size", "13.5", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["pixel_size_A"] == 13.5


def test_cli_unknown_extension_lists_known_ones(tmp_path, capsys):
    path = tmp_path / "tomogram.xyz"
    path.write_bytes(b"whatever")
    assert main(["info", str(path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and err[0].startswith("error: ") and ".xyz" in err[0]
    assert err[1].startswith("hint: known extensions:") and ".mrc" in err[1] and ".tif" in err[1]


def test_cli_truncated_tiff_is_one_line(shared_data, tmp_path):
    path = tmp_path / "cut.tif"
    path.write_bytes((shared_data / CYLINDRA[0]).read_bytes()[:300_000])
    run = subprocess.run([sys.executable, "-c", "from ais_framework.cli.main import main; main()",
                          "info", str(path)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"error: {path}") and lines[1].startswith("hint: ")
    assert "Traceback" not in run.stderr


def test_tiff_plugin_is_registered_through_its_entry_point():
    from ais_framework.plugins import get_registry

    entry = get_registry().specs("volume_format")["tiff"]
    assert entry.source.module == "ais_plugins.io.tiff"
    assert entry.spec.extensions == (".tif", ".tiff")
    assert Path(entry.spec.read.__code__.co_filename).name == "tiff.py"
