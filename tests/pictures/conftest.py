"""Fixtures for the mesh and picture tests: a small synthetic tomogram with ground truth,
and hand-made spheres written as real MRC files."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ais_framework import api
from ais_framework.volume import Volume, write_volume


@pytest.fixture(scope="session")
def synth(tmp_path_factory) -> dict:
    """A 64×160×160 synthetic tomogram at 10 Å (3 vesicles, 3 large and 12 small particles)."""
    return api.make_synthetic(tmp_path_factory.mktemp("synth"), seed=0, shape=(64, 160, 160))


def _soft_sphere(shape, centre_zyx, radius_A, voxel_zyx=(10.0, 10.0, 10.0), width_A=10.0) -> np.ndarray:
    """A sphere as a network would give it: probabilities 0..1 falling from 1 to 0 across the
    surface (exactly 0.5 at ``radius_A``), sampled on a grid with voxel sizes ``voxel_zyx`` Å."""
    grid = np.indices(shape, dtype=np.float64)
    distance = np.sqrt(sum(((g - c) * v) ** 2 for g, c, v in zip(grid, centre_zyx, voxel_zyx)))
    return 1.0 / (1.0 + np.exp((distance - radius_A) / width_A))


def _write_segmentation(path: Path, data: np.ndarray, pixel_size: float = 10.0, origin=(0.0, 0.0, 0.0),
                       voxel_size=None) -> Path:
    write_volume(path, Volume(data=data, pixel_size=pixel_size, origin=origin, voxel_size=voxel_size))
    return path


@pytest.fixture
def soft_sphere():
    return _soft_sphere


@pytest.fixture
def write_segmentation():
    return _write_segmentation


def as_uint8(probabilities: np.ndarray) -> np.ndarray:
    return np.round(probabilities * 255).astype(np.uint8)


@pytest.fixture
def to_uint8():
    return as_uint8
