"""Helpers for the interaction and pipeline tests: pipeline files and real model packages."""
from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import numpy as np
import pytest

EXAMPLE = """\
[[model]]
path = "carbon.aism"
emit = true
[[model]]
path = "membrane.aism"
absorb = true
[[interaction]]
child = "membrane"
parent = "carbon"
kind = "avoid"
radius_nm = 10
threshold = 0.5
"""


def write_pipeline(folder: Path, text: str, models: tuple[str, ...] = ()) -> Path:
    """``folder/pipeline.toml`` with ``text``; ``models`` are placeholder files it points to."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in models:
        (folder / name).write_bytes(b"")
    path = folder / "pipeline.toml"
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture(name="write_pipeline")
def write_pipeline_fixture():
    """:func:`write_pipeline`, for the tests."""
    return write_pipeline


@pytest.fixture(scope="session")
def model_packages(tmp_path_factory) -> dict[str, Path]:
    """Real ``.aism`` packages (untrained UNet Lite, 16 px test input) for carbon and membrane."""
    import torch

    from ais_framework.model import save_model
    from ais_plugins.architectures.unet_lite import build

    folder = tmp_path_factory.mktemp("models")
    torch.manual_seed(0)
    test_input = np.random.default_rng(0).normal(size=(1, 1, 16, 16)).astype(np.float32)
    packages = {}
    for feature in ("carbon", "membrane"):
        meta = {"name": f"{feature} model", "feature": feature, "architecture": "unet_lite",
                "dims": "2d", "depth": 1, "box": 16, "pixel_size_A": 10.0}
        packages[feature] = save_model(folder / f"{feature}.aism", build(1), meta, test_input)
    return packages


@pytest.fixture
def example_folder(tmp_path, model_packages) -> Path:
    """A folder with the README's example pipeline and the two model packages it names."""
    for feature, package in model_packages.items():
        shutil.copy(package, tmp_path / f"{feature}.aism")
    write_pipeline(tmp_path, EXAMPLE)
    return tmp_path
