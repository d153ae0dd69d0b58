"""Tiny real models on a tiny synthetic tomogram, trained once for the inference tests."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ais_framework import api
from ais_framework.training.run import LabelSource, TrainOptions

PIXEL_SIZE = 20.0  # 40x64x64 px at 20 Å holds vesicles and the carbon edge (seed 0)
SHAPE = (40, 64, 64)
SLICES = (10, 20, 30)


@pytest.fixture(autouse=True)
def _single_thread(one_thread):
    """Every test here runs torch on one thread (``one_thread`` in tests/conftest.py)."""


@pytest.fixture(scope="session")
def synth(tmp_path_factory) -> dict:
    return api.make_synthetic(tmp_path_factory.mktemp("synth"), seed=0, shape=SHAPE, pixel_size=PIXEL_SIZE)


def _train(synth: dict, folder: Path, feature: str, mask: str, **options) -> Path:
    source = LabelSource(Path(synth["tomogram"]), Path(synth["files"][mask]), SLICES)
    settings = dict(epochs=1, box=32, copies=2, batch_size=8, progress=False, device="cpu")
    settings.update(options)
    return Path(api.train(folder / f"{feature}.aism", [source], [], TrainOptions(feature=feature, **settings))["model"])


@pytest.fixture(scope="session")
def membrane_model(synth, tmp_path_factory) -> Path:
    torch.set_num_threads(1)
    return _train(synth, tmp_path_factory.mktemp("models"), "membrane", "membrane_mask")


@pytest.fixture(scope="session")
def carbon_model(synth, tmp_path_factory) -> Path:
    torch.set_num_threads(1)
    return _train(synth, tmp_path_factory.mktemp("models"), "carbon", "carbon_mask")


@pytest.fixture(scope="session")
def model_3d(synth, tmp_path_factory) -> Path:
    torch.set_num_threads(1)
    return _train(synth, tmp_path_factory.mktemp("models"), "membrane", "membrane_mask",
                  architecture="unet3d", depth=5, copies=1)
