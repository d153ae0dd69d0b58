"""Running a 2D/2.5D network on batches of tomogram slices.

Inputs are normalised with the tomogram's own robust statistics (the method recorded in
the model), rescaled to the model's pixel size and padded to the network's size multiple;
outputs are probabilities (0..1) in the tomogram's geometry.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage


def slice_stack(data: np.ndarray, z: int, depth: int) -> np.ndarray:
    """The ``depth`` slices centred on ``z`` (edges clamped), as float32 (depth, Y, X)."""
    half = depth // 2
    index = np.clip(np.arange(z - half, z + half + 1), 0, data.shape[0] - 1)
    return np.asarray(data[index], dtype=np.float32)


def pad_to_multiple(batch: np.ndarray, multiple: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Reflect-pad the last two axes up to a multiple; returns the padded batch and the original size."""
    h, w = batch.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        pad = [(0, 0)] * (batch.ndim - 2) + [(0, ph), (0, pw)]
        batch = np.pad(batch, pad, mode="reflect" if min(h, w) > max(ph, pw) else "edge")
    return batch, (h, w)


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


def run_network(network, batch: np.ndarray, device: str = "cpu") -> np.ndarray:
    """Sigmoid probabilities of ``network`` on a float32 batch (N, C, H, W) -> (N, H, W)."""
    import torch

    with torch.inference_mode():
        x = torch.from_numpy(np.ascontiguousarray(batch)).to(device)
        probs = torch.sigmoid(network(x).float())
    return probs[:, 0].cpu().numpy()
