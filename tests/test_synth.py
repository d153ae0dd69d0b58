"""The synthetic tomogram simulator (ais_framework.synth) and ``ais-fw synth``."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage as ndi

from ais_framework.cli.main import main
from ais_framework.errors import UsageError
from ais_framework.synth import form_image, write_synthetic
from ais_framework.volume import read_volume

SHAPE = (64, 128, 128)
MASKS = ("membrane", "carbon", "small_particles", "large_particles")


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("synth")
    return outdir, write_synthetic(outdir, seed=1, shape=SHAPE, pixel_size=10.0)


def _read(outdir: Path, rel: str) -> np.ndarray:
    return np.asarray(read_volume(outdir / rel).data)


def _rows(path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_files_have_the_right_shapes_types_and_pixel_size(scene):
    outdir, manifest = scene
    tomogram = read_volume(manifest["tomogram"])
    assert tomogram.shape == SHAPE and tomogram.data.dtype == np.float32
    assert tomogram.pixel_size == 10.0 and tomogram.voxel_size == (10.0, 10.0, 10.0)
    for name in MASKS:
        mask = read_volume(manifest["files"][f"{name}_mask"])
        assert mask.shape == SHAPE and mask.data.dtype == np.uint8 and mask.pixel_size == 10.0
        assert set(np.unique(mask.data)) <= {0, 1}
    for name in ("vesicles", "small_particles", "large_particles"):
        assert list(_rows(manifest["files"][name])[0])[:6] == ["x", "y", "z", "x_A", "y_A", "z_A"]


def test_manifest_on_disk_is_relative_and_matches(scene):
    outdir, manifest = scene
    saved = json.loads((outdir / "synth.json").read_text())
    assert saved["seed"] == 1 and saved["shape_zyx"] == list(SHAPE) and saved["pixel_size_A"] == 10.0
    assert not Path(saved["tomogram"]).is_absolute() and (outdir / saved["tomogram"]).is_file()
    assert all((outdir / rel).is_file() for rel in saved["files"].values())
    assert saved["counts"] == manifest["counts"] and saved["description"]
    assert saved["counts"]["small_particles"] == len(_rows(manifest["files"]["small_particles"]))


def test_same_seed_gives_identical_files(scene, tmp_path):
    """Identical data and headers; MRC files differ only in mrcfile's creation-time label."""
    outdir, manifest = scene
    write_synthetic(tmp_path, seed=1, shape=SHAPE, pixel_size=10.0)
    saved = json.loads((outdir / "synth.json").read_text())
    for rel in [saved["tomogram"], *saved["files"].values()]:
        if rel.endswith(".mrc"):
            first, second = read_volume(outdir / rel), read_volume(tmp_path / rel)
            assert np.array_equal(first.data, second.data), rel
            assert (first.voxel_size, first.origin) == (second.voxel_size, second.origin)
        else:
            assert (outdir / rel).read_bytes() == (tmp_path / rel).read_bytes(), rel


def test_other_seed_gives_another_scene(scene, tmp_path):
    outdir, manifest = scene
    other = write_synthetic(tmp_path, seed=2, shape=SHAPE, pixel_size=10.0)
    assert not np.array_equal(_read(outdir, "truth/membrane.mrc"), _read(tmp_path, "truth/membrane.mrc"))
    assert Path(manifest["tomogram"]).read_bytes() != Path(other["tomogram"]).read_bytes()


def test_masks_are_not_empty_and_features_do_not_overlap(scene):
    outdir, manifest = scene
    masks = {name: _read(outdir, f"truth/{name}.mrc").astype(bool) for name in MASKS}
    for name, mask in masks.items():
        assert mask.any(), name
    for i, a in enumerate(MASKS):
        for b in MASKS[i + 1 :]:
            assert not (masks[a] & masks[b]).any(), (a, b)


def test_small_particles_sit_20_nm_off_the_membrane(scene):
    outdir, manifest = scene
    membrane = _read(outdir, "truth/membrane.mrc").astype(bool)
    distance_nm = ndi.distance_transform_edt(~membrane) * 1.0  # 10 Å pixels = 1 nm
    rows = _rows(manifest["files"]["small_particles"])
    assert rows
    for row in rows:
        z, y, x = (int(round(float(row[k]))) for k in "zyx")
        assert 15.0 <= distance_nm[z, y, x] <= 25.0, row


def test_particles_are_inside_their_masks(scene):
    outdir, manifest = scene
    for name in ("small_particles", "large_particles"):
        mask = _read(outdir, f"truth/{name}.mrc")
        for row in _rows(manifest["files"][name]):
            assert mask[tuple(int(round(float(row[k]))) for k in "zyx")] == 1


def test_features_are_darker_than_the_background(scene):
    outdir, manifest = scene
    tomogram = _read(outdir, Path(manifest["tomogram"]).name)
    masks = {name: _read(outdir, f"truth/{name}.mrc").astype(bool) for name in MASKS}
    background = ~ndi.binary_dilation(np.any(list(masks.values()), axis=0), iterations=4)
    assert background.sum() > tomogram.size / 4
    for name, mask in masks.items():
        assert tomogram[mask].mean() < tomogram[background].mean() - 0.3, name
    assert abs(float(tomogram.mean())) < 1e-3 and abs(float(tomogram.std()) - 1) < 1e-3


def test_missing_wedge_elongates_along_z():
    shape = (64, 64, 64)
    density = np.zeros((80, 64, 64), np.float32)
    density[32, 32, 32] = 1000.0  # one dense point; the noise is negligible beside it
    image = form_image(density, shape, 1.0, np.random.default_rng(0))
    along_z, along_x = image[:, 32, 32] / image.min(), image[32, 32, :] / image.min()
    assert image[32, 32, 32] == image.min()
    assert along_z[30] > along_x[30] + 0.2 and along_z[34] > along_x[34] + 0.2


def test_same_physical_scene_at_another_pixel_size(tmp_path):
    coarse = write_synthetic(tmp_path / "a", seed=5, shape=(32, 64, 64), pixel_size=20.0)
    fine = write_synthetic(tmp_path / "b", seed=5, shape=(64, 128, 128), pixel_size=10.0)
    for name in ("vesicles", "small_particles", "large_particles"):
        a, b = _rows(coarse["files"][name]), _rows(fine["files"][name])
        assert [r["x_A"] for r in a] == [r["x_A"] for r in b] and [r["z_A"] for r in a] == [r["z_A"] for r in b]
        assert [float(r["x"]) * 2 for r in a] == pytest.approx([float(r["x"]) for r in b], abs=0.02)


@pytest.mark.parametrize(
    "kwargs",
    [{"shape": (16, 64, 64)}, {"shape": (64, 64)}, {"pixel_size": 0.0}, {"pixel_size": -3.0}, {"seed": -1}],
)
def test_bad_arguments_are_usage_errors(tmp_path, kwargs):
    args = {"seed": 0, "shape": (32, 32, 32), "pixel_size": 10.0, **kwargs}
    with pytest.raises(UsageError) as caught:
        write_synthetic(tmp_path / "out", **args)
    assert caught.value.hint
    assert not (tmp_path / "out").exists()


def test_cli_writes_a_tomogram(tmp_path, capsys):
    code = main(["synth", str(tmp_path / "out"), "--seed", "1", "--shape", "48", "96", "96"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "wrote" in printed and "synth_1.mrc" in printed
    assert read_volume(tmp_path / "out" / "synth_1.mrc").shape == (48, 96, 96)


def test_cli_json_prints_the_manifest(tmp_path, capsys):
    assert main(["synth", str(tmp_path), "--shape", "32", "64", "64", "--pixel-size", "20", "--json"]) == 0
    manifest = json.loads(capsys.readouterr().out)
    assert manifest["pixel_size_A"] == 20.0 and Path(manifest["tomogram"]).is_file()


@pytest.mark.parametrize("bad", [["--pixel-size", "0"], ["--shape", "8", "64", "64"]])
def test_cli_bad_values_give_one_error_line(tmp_path, capsys, bad):
    code = main(["synth", str(tmp_path / "out"), *bad])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error:") and "Traceback" not in err


def test_cli_bad_value_in_a_real_process(tmp_path):
    command = [sys.executable, "-c", "from ais_framework.cli.main import main; main()",
               "synth", str(tmp_path / "out"), "--pixel-size", "0"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "error:" in result.stderr and "hint:" in result.stderr
    assert "Traceback" not in result.stderr
