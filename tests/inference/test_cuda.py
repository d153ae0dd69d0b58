"""GPU checks, run where CUDA is present (skipped elsewhere, e.g. in CI)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ais_framework import api
from ais_framework.api import load_model
from ais_framework.inference.runner import Runner
from ais_framework.training.run import LabelSource, TrainOptions
from ais_framework.volume import read_volume

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def test_gpu_mixed_precision_matches_the_cpu(membrane_model):
    batch = np.random.default_rng(0).normal(size=(4, 1, 96, 128)).astype(np.float32)
    cpu = Runner(load_model(membrane_model), device="cpu", precision="fp32", tta=2)(batch)
    gpu = Runner(load_model(membrane_model), device="cuda", precision="auto", tta=2)(batch)
    assert np.abs(gpu - cpu).max() < 0.05


def test_training_and_segmenting_on_the_gpu(synth, tmp_path):
    source = LabelSource(Path(synth["tomogram"]), Path(synth["files"]["membrane_mask"]), (10, 20, 30))
    options = TrainOptions(feature="membrane", epochs=2, box=32, copies=2, batch_size=8, progress=False, device="cuda")
    summary = api.train(tmp_path / "gpu.aism", [source], [], options)
    assert summary["epochs"] >= 1
    result = api.segment([synth["tomogram"]], tmp_path / "out", models=[summary["model"]], device="cuda")[0]
    seg = read_volume(result["outputs"]["membrane"])
    assert seg.shape == read_volume(synth["tomogram"]).shape
