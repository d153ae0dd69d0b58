"""MRC reading and writing, checked against mrcfile on real files from shared/data."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import warnings
from pathlib import Path

import mrcfile
import numpy as np
import pytest

from ais_framework.cli.main import main
from ais_framework.errors import InputFileError, PixelSizeError
from ais_framework.volume import Volume, read_volume, write_volume

# Files with data that mrcfile opens (permissive); (name, expected dtype we return).
READABLE = {
    "mrc-headers/EMD-3197.map": "float32",
    "mrc-headers/EMD-3001.map": "float32",
    "mrc-headers/derived/EMD-3197_bigendian.map": ">f4",
    "mrc-headers/derived/fei1-extended_crop256_mode6.mrc": "uint16",
    "mrc-headers/derived/fei2-epu2.9_crop256_mode6.mrc": "uint16",
    "mrc-headers/warptools_Unt_050_12.00A_000001_mode12.mrcs": "float16",
    "mrc-headers/pyto_tomo_int16_mode1.mrc": "int16",
    "mrc-headers/pyto_NN_munc13_membrane_binary_mode0.mrc": "int8",
    "mrc-headers/cryodrgn_hand.5.mrcs": "float32",
    "mrc-headers/pytom_human_ribo_mask_32_8_5.mrc": "float32",
    "mrc-headers/tomotwin_5MRC_eman.mrc": "float32",
    "mrc-headers/gemmi_5i55_tiny.ccp4": "float32",
    "tardis-mt/mrc3D.mrc": "uint8",
    "tardis-mt/mrc2D.mrc": "uint8",
    "chlamy-picks/hsp60_average.mrc": "float32",
}
HEADER_ONLY = ["mrc-headers/pytom_header_only.mrc", "mrc-headers/imod_etomo_headerTest_serialem2002_mode1_headeronly.st"]
OLD_STYLE_ORIGIN = {"tardis-mt/mrc3D.mrc", "tardis-mt/mrc2D.mrc"}  # origin at bytes 208-219 (IMOD's old header)
IMOD_STAMP = 1146047817


def _mrcfile_view(path: Path):
    """(data as (Z, Y, X), voxel size, origin, start as x, y, z) the way mrcfile reads the file."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with mrcfile.open(path, permissive=True) as mrc:
            h = mrc.header
            data = np.array(mrc.data)
            voxel = tuple(float(mrc.voxel_size[k]) for k in "xyz")
            origin = tuple(float(h.origin[k]) for k in "xyz")
            axes = (int(h.mapc), int(h.mapr), int(h.maps))
            crs = (int(h.nxstart), int(h.nystart), int(h.nzstart))
    data = data.reshape((-1, *data.shape[-2:]))  # a single image is one slice
    # file array axes are (sections, rows, columns); put the spatial Z, Y, X axes first
    where = {axes[2]: 0, axes[1]: 1, axes[0]: 2}
    data = data.transpose(where[3], where[2], where[1])
    start = tuple(crs[axes.index(a)] for a in (1, 2, 3))
    return data, voxel, origin, start


def _imod_words(path: Path) -> tuple[int, int]:
    raw = path.read_bytes()[152:160]
    stamp, flags = np.frombuffer(raw, dtype="<i4")
    return int(stamp), int(flags)


def _is_valid(path: Path) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mrcfile.validate(str(path), print_file=io.StringIO())


@pytest.fixture
def data_dir(shared_data):
    return shared_data


@pytest.mark.parametrize("name", sorted(READABLE))
def test_read_matches_mrcfile(data_dir, name):
    path = data_dir / name
    volume = read_volume(path, require_pixel_size=False)
    data, voxel, origin, start = _mrcfile_view(path)
    expected_dtype = np.dtype(READABLE[name])
    assert volume.data.dtype == expected_dtype
    if expected_dtype == np.uint8:
        data = data.view(np.uint8)  # mrcfile reads mode 0 as signed; these files store unsigned bytes
    np.testing.assert_array_equal(np.asarray(volume.data), data)
    assert volume.shape == data.shape
    assert volume.voxel_size[:2] == pytest.approx(voxel[:2], rel=1e-6)
    if voxel[2] > 0 and np.isfinite(voxel[2]):
        assert volume.voxel_size[2] == pytest.approx(voxel[2], rel=1e-6)
    else:  # a single image with no z cell: z takes x
        assert volume.voxel_size[2] == volume.voxel_size[0]
    assert volume.pixel_size == pytest.approx(voxel[0], rel=1e-6)
    assert volume.start == start
    if name not in OLD_STYLE_ORIGIN:
        assert volume.origin == pytest.approx(origin)


@pytest.mark.parametrize("name", sorted(READABLE))
def test_read_is_memory_mapped_and_read_only(data_dir, name):
    volume = read_volume(data_dir / name, require_pixel_size=False)
    assert isinstance(volume.data, np.memmap)
    assert not volume.data.flags.writeable
    assert volume.path == data_dir / name


@pytest.mark.parametrize(
    ("name", "mode", "dtype"),
    [
        ("mrc-headers/pyto_NN_munc13_membrane_binary_mode0.mrc", 0, np.int8),
        ("mrc-headers/pyto_tomo_int16_mode1.mrc", 1, np.int16),
        ("mrc-headers/EMD-3197.map", 2, np.float32),
        ("mrc-headers/derived/fei1-extended_crop256_mode6.mrc", 6, np.uint16),
        ("mrc-headers/warptools_Unt_050_12.00A_000001_mode12.mrcs", 12, np.float16),
    ],
)
def test_every_supported_mode_is_read(data_dir, name, mode, dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with mrcfile.open(data_dir / name, permissive=True, header_only=True) as mrc:
            assert int(mrc.header.mode) == mode
    volume = read_volume(data_dir / name)
    assert volume.data.dtype == np.dtype(dtype)


def test_big_endian_file_reads_like_its_little_endian_original(data_dir):
    little = read_volume(data_dir / "mrc-headers/EMD-3197.map")
    big = read_volume(data_dir / "mrc-headers/derived/EMD-3197_bigendian.map")
    assert big.data.dtype.byteorder == ">"
    np.testing.assert_array_equal(np.asarray(big.data), np.asarray(little.data))
    assert (big.pixel_size, big.voxel_size, big.origin, big.start) == (
        little.pixel_size, little.voxel_size, little.origin, little.start)
    assert big.start == (-2, 0, 0)


def test_big_endian_file_without_machine_stamp_is_still_read(data_dir, tmp_path):
    raw = bytearray((data_dir / "mrc-headers/derived/EMD-3197_bigendian.map").read_bytes())
    raw[212:216] = bytes(4)  # the byte order must now be inferred from the mode
    path = tmp_path / "nostamp.map"
    path.write_bytes(bytes(raw))
    expected = read_volume(data_dir / "mrc-headers/EMD-3197.map")
    np.testing.assert_array_equal(np.asarray(read_volume(path).data), np.asarray(expected.data))


def test_extended_header_is_skipped(data_dir):
    volume = read_volume(data_dir / "mrc-headers/derived/fei2-epu2.9_crop256_mode6.mrc")
    assert volume.shape == (1, 256, 256)
    assert volume.data.offset == 1024 + 909312
    assert volume.pixel_size == pytest.approx(0.666551, abs=1e-6)


def test_permuted_axes_are_returned_as_zyx(data_dir):
    # EMD-3001: columns are Z, rows X, sections Y; nx/ny/nz = 25, 73, 43 in file order
    volume = read_volume(data_dir / "mrc-headers/EMD-3001.map")
    with mrcfile.open(data_dir / "mrc-headers/EMD-3001.map", permissive=True) as mrc:
        raw = np.array(mrc.data)  # (sections=Y, rows=X, columns=Z)
    assert volume.shape == (raw.shape[2], raw.shape[0], raw.shape[1])
    z, y, x = 5, 7, 11
    assert volume.data[z, y, x] == raw[y, x, z]
    assert volume.start == (-21, -12, 0)
    assert volume.voxel_size == pytest.approx((0.44825, 0.3925, 0.45875))


def test_old_style_header_keeps_its_origin_and_unsigned_bytes(data_dir):
    volume = read_volume(data_dir / "tardis-mt/mrc3D.mrc")
    assert volume.origin == (4640.0, 0.0, 0.0)
    assert volume.data.dtype == np.uint8
    assert (int(volume.data.min()), int(volume.data.max())) == (141, 163)  # matches the header's dmin/dmax
    assert volume.pixel_size == pytest.approx(23.2, abs=1e-4)


def test_files_without_map_id_keep_the_mrc2000_origin(data_dir):
    # no "MAP ", no machine stamp, but rms -1 where an old header's z origin would be
    assert read_volume(data_dir / "mrc-headers/cryodrgn_hand.5.mrcs").origin == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("name", HEADER_ONLY)
def test_header_only_files_are_reported_as_truncated(data_dir, name):
    path = data_dir / name
    with pytest.raises(InputFileError) as caught:
        read_volume(path)
    assert str(path) in caught.value.message
    assert "truncated" in caught.value.message
    assert "\n" not in str(caught.value)


def test_cut_copy_of_a_real_file_is_truncated(data_dir, tmp_path):
    cut = tmp_path / "cut.mrc"
    cut.write_bytes((data_dir / "mrc-headers/EMD-3197.map").read_bytes()[:20000])
    with pytest.raises(InputFileError, match="truncated") as caught:
        read_volume(cut)
    assert str(cut) in caught.value.message
    assert "20,000 bytes" in caught.value.message


def _garbage(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"{kind}.mrc"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "short_text":
        path.write_text("this is not a tomogram\n")
    elif kind == "long_text":
        path.write_text("# a text file renamed .mrc\n" + "x y z\n1 2 3\n" * 400)
    elif kind == "png_header":
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(4000))
    else:
        path.write_bytes(np.random.default_rng(int(kind.split("_")[1])).bytes(5000))
    return path


@pytest.mark.parametrize("kind", ["empty", "short_text", "long_text", "png_header"] + [f"random_{i}" for i in range(12)])
def test_garbage_files_give_one_line_input_file_error(tmp_path, kind):
    path = _garbage(tmp_path, kind)
    with pytest.raises(InputFileError) as caught:
        read_volume(path, pixel_size=1.0)
    assert str(path) in caught.value.message
    assert "\n" not in caught.value.message and caught.value.hint


def test_empty_file_says_it_is_empty(tmp_path):
    with pytest.raises(InputFileError, match="empty"):
        read_volume(_garbage(tmp_path, "empty"))


def _header_file(path: Path, **fields) -> Path:
    with mrcfile.new(path, data=np.zeros((2, 3, 4), np.float32), overwrite=True) as mrc:
        mrc.voxel_size = 5.0
        for key, value in fields.items():
            setattr(mrc.header, key, value)
    return path


def test_unsupported_mode_names_the_mode(tmp_path):
    path = _header_file(tmp_path / "complex.mrc", mode=4)
    with pytest.raises(InputFileError, match="mode 4") as caught:
        read_volume(path)
    assert "supported modes" in caught.value.hint


def test_negative_dimensions_are_corrupt(tmp_path):
    with pytest.raises(InputFileError, match="corrupt MRC header"):
        read_volume(_header_file(tmp_path / "neg.mrc", ny=-3))


def test_absurd_extended_header_size_is_truncation_not_a_huge_read(tmp_path):
    path = _header_file(tmp_path / "ext.mrc", nsymbt=2_000_000_000)
    with pytest.raises(InputFileError, match="truncated"):
        read_volume(path)


def test_volume_stack_is_refused(tmp_path):
    with pytest.raises(InputFileError, match="stack of 2 volumes"):
        read_volume(_header_file(tmp_path / "stack.mrc", ispg=401, mz=1))


def test_zero_pixel_size_is_an_error_asking_for_pixel_size(tmp_path):
    path = _header_file(tmp_path / "nopix.mrc", cella=(0.0, 0.0, 0.0))
    with pytest.raises(PixelSizeError) as caught:
        read_volume(path)
    assert "--pixel-size" in caught.value.hint
    assert str(path) in caught.value.message
    assert read_volume(path, require_pixel_size=False).pixel_size is None
    given = read_volume(path, pixel_size=7.5)
    assert given.pixel_size == 7.5 and given.voxel_size == (7.5, 7.5, 7.5)


def test_pixel_size_override_replaces_the_header(data_dir):
    volume = read_volume(data_dir / "mrc-headers/EMD-3197.map", pixel_size=4.25)
    assert volume.pixel_size == 4.25
    assert volume.voxel_size == (4.25, 4.25, 4.25)
    assert volume.origin == (0.0, 0.0, 0.0) and volume.start == (-2, 0, 0)


# --- writing -------------------------------------------------------------------------------

def _synthetic(dtype: str, high: bool = True) -> np.ndarray:
    rng = np.random.default_rng(3)
    shape = (5, 7, 9)
    if np.dtype(dtype).kind == "f":
        return rng.normal(2.0, 3.0, shape).astype(dtype)
    info = np.iinfo(dtype)
    top = info.max if high else min(info.max, 100)
    return rng.integers(info.min, top, shape, endpoint=True).astype(dtype)


@pytest.mark.parametrize(
    ("dtype", "mode"),
    [("int8", 0), ("uint8", 0), ("int16", 1), ("float32", 2), ("uint16", 6), ("float16", 12)],
)
def test_write_read_round_trip_for_every_mode(tmp_path, dtype, mode):
    data = _synthetic(dtype)
    volume = Volume(data=data, pixel_size=7.5, origin=(12.5, -30.0, 7.25),
                    voxel_size=(7.5, 7.5, 9.0), start=(-5, 3, 10))
    path = write_volume(tmp_path / f"{dtype}.mrc", volume)
    back = read_volume(path)
    assert back.data.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(np.asarray(back.data), data)
    assert (back.pixel_size, back.voxel_size, back.origin, back.start) == (
        7.5, (7.5, 7.5, 9.0), (12.5, -30.0, 7.25), (-5, 3, 10))
    assert _is_valid(path)
    with mrcfile.open(path) as mrc:  # a strict reader sees the same header
        assert int(mrc.header.mode) == mode
        assert tuple(float(mrc.voxel_size[k]) for k in "xyz") == pytest.approx((7.5, 7.5, 9.0))
        assert tuple(float(mrc.header.origin[k]) for k in "xyz") == (12.5, -30.0, 7.25)
        assert (int(mrc.header.nxstart), int(mrc.header.nystart), int(mrc.header.nzstart)) == (-5, 3, 10)


@pytest.mark.parametrize("high", [True, False])
def test_uint8_is_mode_0_with_imod_unsigned_convention(tmp_path, high):
    data = _synthetic("uint8", high=high)
    path = write_volume(tmp_path / "seg.mrc", Volume(data=data, pixel_size=10.0))
    stamp, flags = _imod_words(path)
    assert stamp == IMOD_STAMP and flags & 1 == 0
    assert _is_valid(path)  # stats marked "not computed" when a strict reader would see other values
    with mrcfile.open(path) as mrc:
        assert int(mrc.header.mode) == 0
        np.testing.assert_array_equal(np.asarray(mrc.data).view(np.uint8), data)
        assert (float(mrc.header.dmax) == data.max()) != high
    back = read_volume(path)
    assert back.data.dtype == np.uint8
    np.testing.assert_array_equal(np.asarray(back.data), data)


def test_int8_is_written_without_the_unsigned_stamp(tmp_path):
    data = _synthetic("int8")
    path = write_volume(tmp_path / "signed.mrc", Volume(data=data, pixel_size=10.0))
    assert _imod_words(path)[0] != IMOD_STAMP
    assert read_volume(path).data.dtype == np.int8


@pytest.mark.parametrize(("dtype", "stored"), [("bool", "uint8"), ("float64", "float32"), ("int32", "float32")])
def test_other_types_are_stored_in_a_supported_mode(tmp_path, dtype, stored):
    data = (np.arange(60).reshape(3, 4, 5) % 2).astype(dtype)
    path = write_volume(tmp_path / "other.mrc", Volume(data=data, pixel_size=3.0))
    back = read_volume(path)
    assert back.data.dtype == np.dtype(stored)
    np.testing.assert_array_equal(np.asarray(back.data), data.astype(stored))
    assert _is_valid(path)


@pytest.mark.parametrize("name", sorted(READABLE))
def test_real_files_survive_a_round_trip(data_dir, tmp_path, name):
    first = read_volume(data_dir / name)
    path = write_volume(tmp_path / "copy.mrc", first)
    second = read_volume(path)
    assert _is_valid(path)
    assert second.data.dtype == first.data.dtype.newbyteorder("=")
    np.testing.assert_array_equal(np.asarray(second.data), np.asarray(first.data))
    assert second.voxel_size == pytest.approx(first.voxel_size, rel=1e-6)
    assert second.origin == pytest.approx(first.origin)
    assert (second.pixel_size, second.start) == (pytest.approx(first.pixel_size, rel=1e-6), first.start)


def test_nan_data_marks_statistics_undetermined(tmp_path):
    data = np.ones((2, 3, 4), np.float32)
    data[0, 0, 0] = np.nan
    path = write_volume(tmp_path / "nan.mrc", Volume(data=data, pixel_size=2.0))
    assert _is_valid(path)


def test_writing_streams_from_a_memory_map(data_dir, tmp_path):
    source = read_volume(data_dir / "chlamy-picks/hsp60_average.mrc")
    assert isinstance(source.data, np.memmap)
    path = write_volume(tmp_path / "out.rec", source.like(source.data))
    np.testing.assert_array_equal(np.asarray(read_volume(path).data), np.asarray(source.data))


def test_huge_sparse_tomogram_opens_without_loading(tmp_path):
    path = tmp_path / "huge.mrc"
    with mrcfile.new_mmap(path, shape=(1024, 1024, 1024), mrc_mode=2) as mrc:  # 4 GiB, sparse on disk
        mrc.voxel_size = 10.0
    volume = read_volume(path)
    assert isinstance(volume.data, np.memmap)
    assert volume.shape == (1024, 1024, 1024)
    assert float(volume.data[1023, 5, 7]) == 0.0


# --- through the CLI -------------------------------------------------------------------------

def test_cli_info_json_on_a_real_file(data_dir, capsys):
    assert main(["info", str(data_dir / "mrc-headers/EMD-3197.map"), "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["shape_zyx"] == [20, 20, 20]
    assert facts["pixel_size_A"] == pytest.approx(11.4)
    assert facts["origin_A"] == [0.0, 0.0, 0.0]
    assert facts["min"] == pytest.approx(-4.1337457, rel=1e-6)


def test_cli_info_as_a_real_process_on_the_old_style_file(data_dir):
    path = data_dir / "tardis-mt/mrc3D.mrc"
    run = subprocess.run([sys.executable, "-c", "from ais_framework.cli.main import main; main()",
                          "info", str(path), "--json"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    facts = json.loads(run.stdout)
    assert facts["shape_zyx"] == [78, 64, 32] and facts["dtype"] == "uint8"
    assert facts["origin_A"] == [4640.0, 0.0, 0.0]


@pytest.mark.parametrize("name", HEADER_ONLY)
def test_cli_truncated_file_is_one_error_line_and_a_hint(data_dir, name):
    path = data_dir / name
    run = subprocess.run([sys.executable, "-c", "from ais_framework.cli.main import main; main()",
                          "info", str(path)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 2, run.stderr
    assert lines[0].startswith("error: ") and str(path) in lines[0] and "truncated" in lines[0]
    assert lines[1].startswith("hint: ")
    assert "Traceback" not in run.stderr and run.stdout == ""


def test_cli_garbage_file_is_one_error_line(tmp_path, capsys):
    path = _garbage(tmp_path, "random_1")
    assert main(["info", str(path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and err[0].startswith(f"error: {path}") and err[1].startswith("hint: ")


def test_data_files_are_not_copied_into_the_repository():
    repo = Path(__file__).resolve().parents[2]
    assert not list(repo.glob("tests/**/*.mrc")) and not list(repo.glob("tests/**/*.map"))
