"""``ais-fw train`` as a user meets it: real synthetic data, real models, clear errors.

Everything is tiny (a 40x64x64 synthetic tomogram, 32 px boxes, one epoch) so the file runs
in seconds; the CLI is called in-process through ``main(argv)``, which returns the exit code.
"""
from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import mrcfile
import numpy as np
import pytest
import torch

from ais_framework import api
from ais_framework.annotations import AnnotationStore
from ais_framework.cli.main import main
from ais_framework.cli.training_data import parse_slices
from ais_framework.volume import read_volume, write_volume

PIXEL_SIZE = 20.0  # at 40x64x64 px this gives the scene room for vesicles (seed 0: two)
SHAPE = (40, 64, 64)
SLICES = "10,20"  # both cross a vesicle membrane (seed 0); slices 0-3 hold no membrane
TINY = ("--epochs", "1", "--box", "32", "--copies", "2", "--batch-size", "8", "--quiet")


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> dict:
    manifest = api.make_synthetic(tmp_path_factory.mktemp("synth"), seed=0, shape=SHAPE, pixel_size=PIXEL_SIZE)
    mask = read_volume(manifest["files"]["membrane_mask"]).data
    assert all(mask[int(z)].any() for z in SLICES.split(",")) and not mask[:4].any()
    return manifest


@pytest.fixture(scope="module")
def model(synth, tmp_path_factory) -> Path:
    """The model of the plain train command of the docs, trained once for the module."""
    output = tmp_path_factory.mktemp("model") / "m.aism"
    torch.set_num_threads(1)
    code = main(["train", "--feature", "membrane", "--tomogram", synth["tomogram"],
                 "--labels", synth["files"]["membrane_mask"], "--slices", SLICES, *TINY, "-o", str(output)])
    assert code == 0
    return output


def run(capsys, *args) -> tuple[int, str, str]:
    """``ais-fw ARGS`` in-process: (exit code, stdout, stderr)."""
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def train_args(synth, output, labels=None, slices=SLICES) -> list:
    args = ["train", "--feature", "membrane", "--tomogram", synth["tomogram"],
            "--labels", labels or synth["files"]["membrane_mask"], *TINY, "-o", output]
    return args + (["--slices", slices] if slices else [])


def model_info(capsys, path) -> dict:
    code, out, err = run(capsys, "model", "info", path, "--json")
    assert code == 0, err
    return json.loads(out)


def refused(code: int, err: str, codes=(1, 2)) -> str:
    """The one error line of a clean refusal (plus its hint), checked; returns the error line."""
    assert code in codes, (code, err)
    assert "Traceback" not in err and "bug in ais-fw" not in err, err
    lines = err.strip().splitlines()
    assert [line.split(" ", 1)[0] for line in lines] == ["error:", "hint:"], err
    return lines[0]


def label_file(synth, path: Path, data: np.ndarray) -> Path:
    """A label volume with the tomogram's geometry and ``data``."""
    like = read_volume(synth["files"]["membrane_mask"])
    return write_volume(path, replace(like.like(np.ascontiguousarray(data, dtype=np.uint8)), path=None))


def store_from(synth, path: Path, labels, slices) -> Path:
    store = AnnotationStore.create(path, synth["tomogram"])
    if labels is not None:
        store.import_label_volume(labels, "membrane", slices=slices)
    store.save()
    return path


# ---------------------------------------------------------------- training that works

def test_train_writes_a_model_that_info_and_validate_accept(model, capsys):
    assert model.is_file()
    meta = model_info(capsys, model)
    assert meta["feature"] == "membrane" and meta["architecture"] == "unet_lite"
    assert meta["pixel_size_A"] == PIXEL_SIZE and meta["box"] == 32 and meta["depth"] == 1
    assert meta["training"]["epochs"] == 1 and meta["training"]["copies"] == 2
    code, out, err = run(capsys, "model", "validate", model)
    assert code == 0, err
    assert "FAILED" not in out


def test_train_json_prints_the_summary(synth, tmp_path, capsys):
    code, out, err = run(capsys, *train_args(synth, tmp_path / "j.aism"), "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["model"] == str(tmp_path / "j.aism") and (tmp_path / "j.aism").is_file()
    assert [entry["epoch"] for entry in summary["history"]] == [1]
    assert summary["best_loss"] == summary["history"][0]["loss"] > 0 and summary["best_epoch"] == 1
    assert summary["samples"] == summary["positives"] + summary["negatives"] > 0


def test_train_from_an_annotation_store_matches_the_label_volume(synth, tmp_path, capsys):
    store = store_from(synth, tmp_path / "t.annotations.zip", synth["files"]["membrane_mask"], [10, 20])
    code, out, err = run(capsys, "train", "--feature", "membrane", "--annotations", store, *TINY,
                         "-o", tmp_path / "s.aism", "--json")
    assert code == 0, err
    from_store = json.loads(out)
    code, out, err = run(capsys, *train_args(synth, tmp_path / "l.aism"), "--json")
    assert code == 0, err
    from_labels = json.loads(out)
    # the same slices, tiles and seed give the same boxes
    assert (from_store["positives"], from_store["negatives"]) == (from_labels["positives"], from_labels["negatives"])
    meta = model_info(capsys, tmp_path / "s.aism")
    assert meta["feature"] == "membrane" and meta["pixel_size_A"] == PIXEL_SIZE


def test_resume_continues_and_refuses_another_architecture(synth, model, tmp_path, capsys):
    code, _, err = run(capsys, *train_args(synth, tmp_path / "r.aism"), "--resume", model)
    assert code == 0, err
    assert model_info(capsys, tmp_path / "r.aism")["architecture"] == "unet_lite"
    code, _, err = run(capsys, *train_args(synth, tmp_path / "x.aism"), "--resume", model,
                       "--architecture", "unet_s")
    line = refused(code, err, codes=(2,))
    assert "unet_lite" in line and "unet_s" in line and "--architecture unet_lite" in err
    assert not (tmp_path / "x.aism").exists()


def test_segment_tomogram_writes_uint8_with_the_input_geometry_and_skips_when_done(synth, model, tmp_path):
    source = read_volume(synth["tomogram"])
    moved = replace(source.like(np.asarray(source.data)), origin=(100.0, -60.0, 240.0))
    tomogram = write_volume(tmp_path / "tomo.mrc", moved)
    out = api.segment_tomogram(tomogram, model, tmp_path / "out")
    assert out == tmp_path / "out" / "tomo__membrane.mrc" and out.is_file()
    result = read_volume(out)
    assert result.data.dtype == np.uint8 and result.shape == SHAPE
    assert result.pixel_size == PIXEL_SIZE and result.voxel_size == (PIXEL_SIZE,) * 3
    assert result.origin == (100.0, -60.0, 240.0)
    os.utime(out, ns=(1_000_000_000, 1_000_000_000))
    assert api.segment_tomogram(tomogram, model, tmp_path / "out") == out
    assert out.stat().st_mtime_ns == 1_000_000_000  # skipped: not rewritten
    api.segment_tomogram(tomogram, model, tmp_path / "out", overwrite=True)
    assert out.stat().st_mtime_ns != 1_000_000_000


# ---------------------------------------------------------------- bad input: one clear line

def test_label_volume_of_the_wrong_shape(synth, tmp_path, capsys):
    labels = label_file(synth, tmp_path / "small.mrc", np.zeros((40, 64, 32)))
    line = refused(*run(capsys, *train_args(synth, tmp_path / "m.aism", labels))[::2])
    assert "shape" in line and str(labels) in line
    assert not (tmp_path / "m.aism").exists()


def test_labels_outside_0_1_2(synth, tmp_path, capsys):
    data = np.array(read_volume(synth["files"]["membrane_mask"]).data)
    data[10, 5, 5] = 5
    labels = label_file(synth, tmp_path / "five.mrc", data)
    line = refused(*run(capsys, *train_args(synth, tmp_path / "m.aism", labels))[::2])
    assert "5" in line and "slice 10" in line


def test_missing_pixel_size_is_an_error_until_given(synth, tmp_path, capsys):
    tomogram = tmp_path / "nopix.mrc"
    with mrcfile.new(tomogram) as mrc:
        mrc.set_data(np.asarray(read_volume(synth["tomogram"]).data, dtype=np.float32))
        mrc.voxel_size = 0.0
    args = train_args(synth, tmp_path / "m.aism")
    args[args.index("--tomogram") + 1] = tomogram
    line = refused(*run(capsys, *args)[::2])
    assert "pixel size" in line and "nopix.mrc" in line
    code, _, err = run(capsys, *args, "--pixel-size", "10")
    assert code == 0, err
    assert model_info(capsys, tmp_path / "m.aism")["pixel_size_A"] == 10.0


def test_missing_pixel_size_given_for_an_annotation_store(synth, tmp_path, capsys):
    tomogram = tmp_path / "nopix.mrc"
    with mrcfile.new(tomogram) as mrc:
        mrc.set_data(np.asarray(read_volume(synth["tomogram"]).data, dtype=np.float32))
        mrc.voxel_size = 0.0
    store = AnnotationStore.create(tmp_path / "nopix.annotations.zip", tomogram)
    store.import_label_volume(synth["files"]["membrane_mask"], "membrane", slices=[10, 20])
    store.save()
    args = ["train", "--feature", "membrane", "--annotations", store.path, *TINY, "-o", tmp_path / "m.aism"]
    line = refused(*run(capsys, *args)[::2])
    assert "pixel size" in line
    code, _, err = run(capsys, *args, "--pixel-size", "10")
    assert code == 0, err
    assert model_info(capsys, tmp_path / "m.aism")["pixel_size_A"] == 10.0


def test_unknown_architecture_lists_the_known_ones(synth, tmp_path, capsys):
    code, _, err = run(capsys, *train_args(synth, tmp_path / "m.aism"), "--architecture", "no_such_net")
    line = refused(code, err, codes=(2,))
    assert "no_such_net" in line and "unet_lite" in err and "unet_s" in err


def test_labels_empty_on_the_chosen_slices(synth, tmp_path, capsys):
    line = refused(*run(capsys, *train_args(synth, tmp_path / "m.aism", slices="0,1"))[::2])
    assert "membrane" in line and "no labelled pixels" in line


def test_annotation_store_without_feature_pixels(synth, tmp_path, capsys):
    zero = label_file(synth, tmp_path / "zero.mrc", np.zeros(SHAPE))
    painted_nothing = store_from(synth, tmp_path / "a.annotations.zip", zero, [10])
    args = ["train", "--feature", "membrane", *TINY, "-o", tmp_path / "m.aism"]
    line = refused(*run(capsys, *args, "--annotations", painted_nothing)[::2])
    assert "no labelled pixels" in line
    no_feature = store_from(synth, tmp_path / "b.annotations.zip", None, None)
    line = refused(*run(capsys, *args, "--annotations", no_feature)[::2])
    assert "membrane" in line
    assert not (tmp_path / "m.aism").exists()


@pytest.mark.parametrize("option, words", [
    (("--box", "40"), ("40", "16")),
    (("--depth", "2"), ("depth", "2")),
])
def test_bad_box_or_depth(synth, tmp_path, capsys, option, words):
    code, _, err = run(capsys, *train_args(synth, tmp_path / "m.aism"), *option)
    line = refused(code, err, codes=(2,))
    assert all(word in line for word in words), line


@pytest.mark.parametrize("text, slices", [
    ("10,20,30", (10, 20, 30)),
    ("10-14,30", (10, 11, 12, 13, 14, 30)),
    ("4-20:4", (4, 8, 12, 16, 20)),
    ("4-21:4,30", (4, 8, 12, 16, 20, 30)),
])
def test_slice_lists_ranges_and_steps(text, slices):
    assert parse_slices(text) == slices


@pytest.mark.parametrize("slices, words", [
    ("10,40", ("slice 40", "0..39")),
    ("10,-3", ("-3",)),
    ("a,b", ("a,b",)),
    ("20-10", ("20-10",)),
    (",", (",",)),
    ("10:2", ("10:2",)),
    ("4-20:0", ("4-20:0",)),
])
def test_bad_slices(synth, tmp_path, capsys, slices, words):
    code, _, err = run(capsys, *train_args(synth, tmp_path / "m.aism", slices=slices))
    line = refused(code, err, codes=(2,))
    assert all(word in line for word in words), line
    assert not (tmp_path / "m.aism").exists()


def test_mismatched_tomograms_and_labels(synth, tmp_path, capsys):
    args = train_args(synth, tmp_path / "m.aism") + ["--tomogram", synth["tomogram"]]
    line = refused(*run(capsys, *args)[::2], codes=(2,))
    assert "2 --tomogram but 1 --labels" in line


def test_no_training_data(tmp_path, capsys):
    code, _, err = run(capsys, "train", "--feature", "membrane", *TINY, "-o", tmp_path / "m.aism")
    line = refused(code, err, codes=(2,))
    assert "no training data" in line and "--annotations" in err
