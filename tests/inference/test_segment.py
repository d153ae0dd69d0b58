"""Whole-tomogram segmentation: streaming, outputs, skipping, z-range, rescaling, 3D, pipelines."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from ais_framework import api
from ais_framework.cli.main import main
from ais_framework.inference.batch import ModelSet, load_runs
from ais_framework.inference.segment import SegmentOptions, segment_volume
from ais_framework.volume import read_volume, write_volume


def _segment(runs, volume, folder: Path, **options) -> np.ndarray:
    path = folder / "out.mrc"
    segment_volume(runs, volume, {runs[0].name: path}, SegmentOptions(precision="fp32", **options))
    return np.array(read_volume(path).data)


def test_streaming_windows_give_the_same_result_as_one_window(synth, membrane_model, tmp_path):
    runs = load_runs(ModelSet(((None, str(membrane_model)),)))
    volume = read_volume(synth["tomogram"])
    small = _segment(runs, volume, tmp_path / "a", window=3, batch_size=2)
    large = _segment(runs, volume, tmp_path / "b", window=64, batch_size=64)
    assert small.dtype == np.uint8 and small.shape == volume.shape
    assert np.abs(small.astype(int) - large.astype(int)).max() <= 1
    assert small.max() > 0


def test_output_keeps_the_tomogram_geometry_and_is_named_after_the_feature(synth, membrane_model, tmp_path):
    tomogram = read_volume(synth["tomogram"])
    moved = tmp_path / "tomo.mrc"
    write_volume(moved, tomogram.like(np.asarray(tomogram.data)).__class__(
        data=np.asarray(tomogram.data), pixel_size=tomogram.pixel_size, origin=(100.0, -50.0, 20.0)))
    out = api.segment_tomogram(moved, membrane_model, tmp_path / "out", device="cpu")
    assert out == tmp_path / "out" / "tomo__membrane.mrc"
    seg = read_volume(out)
    assert seg.shape == tomogram.shape and seg.pixel_size == tomogram.pixel_size
    assert seg.origin == (100.0, -50.0, 20.0) and seg.data.dtype == np.uint8
    assert oct(os.stat(out).st_mode & 0o777) != "0o600"


def test_existing_outputs_are_skipped_unless_overwrite(synth, membrane_model, tmp_path):
    args = ["segment", synth["tomogram"], "-m", str(membrane_model), "-o", str(tmp_path), "--device", "cpu", "-q"]
    assert main(args) == 0
    out = next(tmp_path.glob("*__membrane.mrc"))
    os.utime(out, (1, 1))
    assert main(args) == 0 and out.stat().st_mtime == 1
    assert main(args + ["--overwrite"]) == 0 and out.stat().st_mtime > 1


def test_z_range_and_float16(synth, membrane_model, tmp_path):
    results = api.segment([synth["tomogram"]], tmp_path, models=[str(membrane_model)], device="cpu",
                          z_range=(5, 12), as_float16=True)
    seg = read_volume(results[0]["outputs"]["membrane"]).data
    assert seg.dtype == np.float16
    assert not seg[:5].any() and not seg[12:].any() and seg[5:12].any()
    assert float(seg.max()) <= 1.0


def test_a_tomogram_at_another_pixel_size_is_rescaled_and_noted(synth, membrane_model, tmp_path):
    tomogram = read_volume(synth["tomogram"])
    coarse = tmp_path / "coarse.mrc"
    write_volume(coarse, tomogram.like(np.asarray(tomogram.data)[:, ::2, ::2]).with_pixel_size(40.0))
    result = api.segment([coarse], tmp_path / "out", models=[str(membrane_model)], device="cpu")[0]
    assert any("rescaled by 2" in note for note in result["notes"])
    assert read_volume(result["outputs"]["membrane"]).shape == (40, 32, 32)


def test_3d_model_segments_on_overlapping_slabs(synth, model_3d, tmp_path):
    runs = load_runs(ModelSet(((None, str(model_3d)),)))
    volume = read_volume(synth["tomogram"])
    small = _segment(runs, volume, tmp_path / "a", window=4)
    large = _segment(runs, volume, tmp_path / "b", window=40)
    assert small.shape == volume.shape and small.any()
    assert np.abs(small.astype(int) - large.astype(int)).max() <= 1


def test_two_cpu_workers_segment_several_tomograms(synth, membrane_model, tmp_path):
    from ais_framework.inference.batch import segment_tomograms

    tomograms = []
    for name in ("a", "b", "c"):
        tomograms.append(tmp_path / f"{name}.mrc")
        tomograms[-1].write_bytes(Path(synth["tomogram"]).read_bytes())
    results = segment_tomograms(tomograms, ModelSet(((None, str(membrane_model)),)), tmp_path / "out",
                                SegmentOptions(precision="fp32"), devices=["cpu", "cpu"])
    assert [r.tomogram for r in results] == tomograms
    first, *others = [np.array(read_volume(r.outputs["membrane"]).data) for r in results]
    assert all(np.array_equal(first, other) for other in others)


def test_bad_input_gives_one_clear_line(synth, membrane_model, tmp_path, capsys):
    cases = [
        (["segment", synth["tomogram"], "-o", str(tmp_path)], "no model given"),
        (["segment", synth["tomogram"], "-m", str(tmp_path / "none.aism"), "-o", str(tmp_path)], "no such model"),
        (["segment", str(tmp_path / "none.mrc"), "-m", str(membrane_model), "-o", str(tmp_path)], "none.mrc"),
        (["segment", synth["tomogram"], "-m", str(membrane_model), "-m", str(membrane_model), "-o", str(tmp_path)],
         "both write 'membrane'"),
        (["segment", synth["tomogram"], "-m", str(membrane_model), "-o", str(tmp_path), "--z-range", "50", "60"],
         "holds no slice"),
        (["segment", synth["tomogram"], "-m", str(membrane_model), "-o", str(tmp_path), "--device", "tpu"],
         "unknown device"),
        (["segment", synth["tomogram"], "-m", str(membrane_model), "-o", str(tmp_path), "--precision", "fp8"],
         "unknown precision"),
    ]
    for args, message in cases:
        capsys.readouterr()
        assert main(args) in (1, 2), args
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, (args, err)
