"""``ais-fw compare`` on tiny synthetic data: two architectures (one of them the GAN, Pix2pix),
one epoch, two copies, a 3D network that must be skipped with a note, and validation data.

The comparison is run once for the module through the CLI (in-process, ``main(argv)``); the
tests then check its files against what the library computes independently.
"""
from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ais_framework import api
from ais_framework.cli.main import main
from ais_framework.compare import compare_architectures, seconds_per_slice, training_loss
from ais_framework.compare_picture import grey, overlay, render_comparison
from ais_framework.evaluate import segmentation_scores
from ais_framework.model import load_model, read_metadata
from ais_framework.plugins import get_registry
from ais_framework.testing import count_parameters
from ais_framework.training.losses import masked_bce
from ais_framework.training.run import LabelSource, TrainOptions, gather_training_sets
from ais_framework.volume import read_volume

SHAPE, PIXEL_SIZE = (40, 64, 64), 20.0  # seed 0 has vesicle membranes on slices 10 and 20
TRAIN_SLICES, VALIDATE_SLICES = (10, 20), (12, 16, 20, 24)
ARCHITECTURES = ("unet_lite", "pix2pix", "unet3d")
TINY = dict(feature="membrane", epochs=1, box=32, copies=2, batch_size=8)


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("compare-data")
    train = api.make_synthetic(root / "train", seed=0, shape=SHAPE, pixel_size=PIXEL_SIZE)
    validate = api.make_synthetic(root / "validate", seed=1, shape=SHAPE, pixel_size=PIXEL_SIZE)
    return {"tomogram": train["tomogram"], "labels": train["files"]["membrane_mask"],
            "val_tomogram": validate["tomogram"], "val_labels": validate["files"]["membrane_mask"]}


def cli(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def training_args(data: dict) -> list:
    return ["--feature", "membrane", "--tomogram", data["tomogram"], "--labels", data["labels"],
            "--slices", ",".join(map(str, TRAIN_SLICES)), "--epochs", 1, "--box", 32, "--copies", 2,
            "--batch-size", 8]


@pytest.fixture(scope="module")
def compared(data, tmp_path_factory) -> dict:
    outdir = tmp_path_factory.mktemp("compared") / "out"
    torch.set_num_threads(1)
    architectures = [x for name in ARCHITECTURES for x in ("-a", name)]
    code, out, err = cli("compare", *architectures, *training_args(data), "--validate", data["val_tomogram"],
                         data["val_labels"], "--validate-slices", ",".join(map(str, VALIDATE_SLICES)),
                         "--device", "cpu", "-o", outdir)
    assert code == 0, err
    report = json.loads((outdir / "compare.json").read_text())
    return {"outdir": outdir, "out": out, "err": err, "report": report,
            "rows": {row["architecture"]: row for row in report["rows"]}}


def trained(compared) -> list[dict]:
    return [row for row in compared["report"]["rows"] if row["status"] == "trained"]


def the_training_set(data) -> object:
    options = TrainOptions(seed=0, **TINY)
    source = LabelSource(Path(data["tomogram"]), Path(data["labels"]), TRAIN_SLICES)
    return gather_training_sets([source], [], options, "2d")


def test_every_2d_architecture_is_trained_and_its_model_kept(compared):
    assert [row["architecture"] for row in compared["report"]["rows"]] == list(ARCHITECTURES)
    assert [row["architecture"] for row in trained(compared)] == ["unet_lite", "pix2pix"]
    for row in trained(compared):
        path = compared["outdir"] / f"{row['architecture']}.aism"
        assert Path(row["model"]) == path and path.is_file()
        meta = read_metadata(path)
        assert meta.architecture == row["architecture"] and meta.training.seed == 0
        assert row["epochs"] == 1 and row["best_epoch"] == 1 and row["train_seconds"] > 0


def test_a_3d_architecture_is_skipped_with_a_note(compared):
    row = compared["rows"]["unet3d"]
    assert row["status"] == "skipped" and "3D" in row["note"] and "--depth" in row["note"]
    assert row["model"] is None and row["train_loss"] is None and row["dice"] is None
    assert not (compared["outdir"] / "unet3d.aism").exists()
    assert "3D network" in compared["out"]


def test_every_architecture_saw_the_same_training_set(compared, data):
    trainingset = the_training_set(data)
    again = the_training_set(data)  # same seed and options: the very same boxes (what the comparison relies on)
    assert np.array_equal(trainingset.inputs, again.inputs) and np.array_equal(trainingset.labels, again.labels)
    digest = hashlib.sha256(trainingset.inputs.tobytes())
    digest.update(trainingset.labels.tobytes())
    described = compared["report"]["training_set"]
    assert described["sha256"] == digest.hexdigest() and described["samples"] == len(trainingset.inputs)
    for row in trained(compared):
        record = read_metadata(row["model"]).training
        assert record.samples == described["samples"] and record.positives == described["positives"]


def test_parameter_counts_are_those_of_the_networks(compared):
    registry = get_registry()
    for row in compared["report"]["rows"]:
        spec = registry.get("architecture", row["architecture"])
        network = spec.build(depth=9) if "3d" in spec.dims else spec.build(depth=1)
        assert row["parameters"] == count_parameters(network)


def test_training_loss_is_masked_bce_over_the_training_set_for_every_model(compared, data):
    trainingset = the_training_set(data)
    for row in trained(compared):  # Pix2pix included: its own training loss is a GAN loss
        network = load_model(row["model"]).network.eval()
        with torch.no_grad():
            logits = network(torch.from_numpy(trainingset.inputs))
        expected = float(masked_bce(logits, torch.from_numpy(trainingset.labels)))
        assert row["train_loss"] == pytest.approx(expected, rel=1e-4)
    pix2pix = compared["rows"]["pix2pix"]
    assert pix2pix["train_loss"] != pytest.approx(read_metadata(pix2pix["model"]).training.best_loss, rel=1e-3)


def test_validation_scores_are_those_of_the_models_on_the_validation_slices(compared, data):
    volume = read_volume(data["val_tomogram"])
    truth = read_volume(data["val_labels"]).data[list(VALIDATE_SLICES)]
    stats = api.tomogram_stats(volume)
    for row in trained(compared):
        model = api.load_model(row["model"])
        probs = np.stack([api.segment_slice(model, volume, z, "cpu", stats) for z in VALIDATE_SLICES])
        scores = segmentation_scores(probs, truth, 0.5)
        assert (row["dice"], row["precision"], row["recall"]) == pytest.approx(
            (scores["dice"], scores["precision"], scores["recall"]))
    assert compared["report"]["validation"]["slices"] == list(VALIDATE_SLICES)


def test_time_per_slice_is_measured_on_a_512_by_720_input(compared):
    assert compared["report"]["timing_input_yx"] == [512, 720]
    for row in trained(compared):
        assert 0 < row["seconds_per_slice"] < row["train_seconds"] + 60

    class Recorder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.shapes = []

        def forward(self, x):
            self.shapes.append(tuple(x.shape))
            return x[:, :1]

    network = Recorder()
    assert seconds_per_slice(network, depth=3, size_multiple=32, runs=2) >= 0
    assert network.shapes == [(1, 3, 512, 736)] * 3  # one warm-up, then two timed runs; padded to 32


def test_csv_holds_the_json_rows(compared):
    with open(compared["outdir"] / "compare.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["architecture"] for r in rows] == list(ARCHITECTURES)
    for row in rows:
        same = compared["rows"][row["architecture"]]
        assert row["status"] == same["status"] and row["note"] == same["note"]
        for column in ("parameters", "train_loss", "dice"):
            assert (row[column] == "") if same[column] is None else math.isclose(float(row[column]), same[column])


def test_the_terminal_table_names_every_architecture(compared):
    out = compared["out"]
    for name in ARCHITECTURES:
        assert name in out
    for column in ("parameters", "per 512×720 slice", "loss (BCE)", "Dice", "precision", "recall"):
        assert column in out
    assert "[1/3] unet_lite: training" in compared["err"]


def test_the_picture_shows_the_same_slice_for_every_model(compared, data):
    image = Image.open(compared["outdir"] / "compare.png")
    assert image.format == "PNG"
    panels = 2 + len(trained(compared))  # tomogram, truth, each model
    assert image.size == (6 + panels * (200 + 6), 6 + 22 + 200 + 6)
    pixels = np.asarray(image.convert("RGB")).astype(int)
    tomogram, truth = pixels[28:228, 6:206], pixels[28:228, 212:412]
    assert (np.abs(tomogram - truth).sum(axis=2) > 60).any()  # the truth is drawn over the slice
    z = compared["report"]["validation"]["picture_slice"]
    masks = read_volume(data["val_labels"]).data
    assert masks[z].sum() == max(masks[s].sum() for s in VALIDATE_SLICES)


def test_a_stop_request_ends_the_comparison(data, tmp_path):
    events, rows = [], []
    options = TrainOptions(should_stop=lambda: True, progress=False, **TINY)
    source = LabelSource(Path(data["tomogram"]), Path(data["labels"]), TRAIN_SLICES)
    report = compare_architectures(tmp_path, ["unet_lite", "eman2"], [source], [], options,
                                   on_progress=events.append, on_row=rows.append)
    assert [r["status"] for r in report["rows"]] == ["interrupted", "not run"]
    assert [r["architecture"] for r in rows] == ["unet_lite"]
    assert events and events[0] == {"stage": "train", "architecture": "unet_lite", "index": 1, "total": 2}
    saved = json.loads((tmp_path / "compare.json").read_text())
    assert [r["status"] for r in saved["rows"]] == ["interrupted", "not run"]


@pytest.mark.parametrize("args, message", [
    (["-a", "unet_lite", "-a", "no_such_net"], "unknown architecture 'no_such_net'"),
    (["-a", "unet_lite", "-a", "unet_lite"], "given more than once"),
    (["-a", "unet_lite", "--validate-slices", "3"], "--validate-slices needs --validate"),
])
def test_bad_options_are_refused_before_any_training(data, tmp_path, args, message):
    code, out, err = cli("compare", *args, *training_args(data), "-o", tmp_path / "out")
    assert code == 2 and message in err and "hint:" in err and "Traceback" not in err
    assert not list(tmp_path.glob("out/*.aism"))


def test_validation_labels_of_another_shape_are_refused_before_training(data, tmp_path):
    other = api.make_synthetic(tmp_path / "other", seed=2, shape=(32, 64, 64), pixel_size=PIXEL_SIZE)
    code, out, err = cli("compare", "-a", "unet_lite", "-a", "eman2", *training_args(data), "--validate",
                         data["val_tomogram"], other["files"]["membrane_mask"], "-o", tmp_path / "out")
    assert code == 2 and "validation labels of shape" in err
    assert not (tmp_path / "out").exists()


def test_picture_panels_keep_the_slice_shape(tmp_path):
    image = np.random.default_rng(0).normal(size=(100, 300)).astype(np.float32)
    probs = np.zeros_like(image)
    probs[40:60] = 1.0
    path = render_comparison(tmp_path / "p.png", image, [("a", None), ("b", probs)])
    sheet = np.asarray(Image.open(path).convert("RGB"))
    assert sheet.shape == (6 + 22 + 100 + 6, 6 + 2 * (300 + 6), 3)
    panel_b = sheet[28:128, 312:612].astype(int)
    assert np.all(panel_b[45, :, 0] > panel_b[45, :, 2])  # yellow where the probability is 1
    assert np.array_equal(overlay(grey(image), None)[..., 0], grey(image))


def test_training_loss_leaves_ignored_pixels_out_and_weighs_every_pixel_alike():
    inputs = np.random.default_rng(1).normal(size=(5, 1, 4, 4)).astype(np.float32)
    labels = np.random.default_rng(2).integers(0, 3, size=(5, 1, 4, 4)).astype(np.uint8)
    identity = torch.nn.Identity()  # the logits are the inputs
    keep = labels != 2
    target = (labels == 1).astype(np.float64)
    logits = inputs.astype(np.float64)
    per_pixel = np.maximum(logits, 0) - logits * target + np.log1p(np.exp(-np.abs(logits)))
    expected = per_pixel[keep].mean()
    assert training_loss(identity, inputs, labels, batch_size=2) == pytest.approx(expected, rel=1e-5)
    changed = inputs.copy()
    changed[~keep] = 50.0
    assert training_loss(identity, changed, labels, batch_size=3) == pytest.approx(expected, rel=1e-5)
