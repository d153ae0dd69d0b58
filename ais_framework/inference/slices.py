"""Slices of a tomogram as a network sees them: neighbours stacked as channels, and
in-plane resampling to the model's pixel size and back (used by training and inference).
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage


def slice_stack(data: np.ndarray, z: int, depth: int) -> np.ndarray:
    """The ``depth`` slices centred on ``z`` (edges clamped), as float32 (depth, Y, X)."""
    half = depth // 2
    index = np.clip(np.arange(z - half, z + half + 1), 0, data.shape[0] - 1)
    return np.asarray(data[index], dtype=np.float32)


def rescale(batch: np.ndarray, factor: float, order: int = 1) -> np.ndarray:
    """Zoom the last two axes by ``factor`` (1.0 returns the batch unchanged)."""
    if abs(factor - 1.0) < 1e-3:
        return batch
    zoom = [1.0] * (batch.ndim - 2) + [factor, factor]
    if factor < 1.0 and order > 0:  # anti-alias before shrinking
        sigma = [0.0] * (batch.ndim - 2) + [0.5 / factor] * 2
        batch = ndimage.gaussian_filter(batch, sigma)
    return ndimage.zoom(batch, zoom, order=order, grid_mode=True, mode="nearest")


def resize_to(batch: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resample the last two axes to exactly ``shape`` (used to go back to the tomogram's grid)."""
    if batch.shape[-2:] == tuple(shape):
        return batch
    factors = [1.0] * (batch.ndim - 2) + [shape[0] / batch.shape[-2], shape[1] / batch.shape[-1]]
    return ndimage.zoom(batch, factors, order=1, grid_mode=True, mode="nearest")
