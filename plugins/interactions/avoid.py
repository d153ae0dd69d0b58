"""Avoid: suppress the child near the parent.

The child model's prediction is set to 0 within ``radius_px`` of where the parent model
exceeds its threshold (e.g. membrane false positives along the carbon edge removed).
The reach is a disc in each slice, or a ball in 3D with ``ball=True``.
"""
from __future__ import annotations

import numpy as np

from ais_framework import hookimpl
from ais_framework.specs import InteractionSpec

from ._reach import near_parent, reach_halo


def apply(child: np.ndarray, parent: np.ndarray, *, threshold: float, radius_px: float,
          ball: bool = False) -> np.ndarray:
    """The child, zeroed wherever a parent voxel lies within ``radius_px``."""
    near = near_parent(parent, threshold, radius_px, ball)
    return np.multiply(child, ~near, dtype=np.float32)


@hookimpl
def ais_fw_interactions():
    return [InteractionSpec(
        name="avoid", title="Avoid", apply=apply, halo=reach_halo,
        description="suppress the child within the radius of the parent (disc per slice, or ball)",
    )]
