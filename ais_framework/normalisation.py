"""Robust intensity normalisation, used identically in training and inference.

One method, ``"median_mad"``: the tomogram's median is subtracted and the result divided
by a robust standard deviation, ``1.4826 × MAD`` (median absolute deviation; 1.4826 makes
it equal the standard deviation for Gaussian noise). Gold beads, carbon edges and empty
slices barely move these statistics, unlike mean/std or min/max.

The statistics are estimated from at most ``max_slices`` slices spread evenly over Z
(the middle of each of ``max_slices`` equal Z ranges), reading only those slices of a
memory-mapped tomogram. A large slice contributes a seeded random sample of its pixels
(``MAX_PIXELS_PER_SLICE`` pixels drawn at random). Non-finite values are skipped.

Training and inference both compute the statistics on the tomogram as stored (before any
resampling to the model's pixel size) and apply them the same way: ``normalise`` the
values, then resample (both are linear, so the order does not matter).

The returned dict is what models and training sets record::

    {"method": "median_mad", "center": 12.5, "scale": 3.1}
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .errors import InputFileError, UsageError

METHOD = "median_mad"
MAD_TO_SIGMA = 1.4826
MAX_PIXELS_PER_SLICE = 1 << 17
SCALE_FLOOR = 1e-6


def sample_slices(n_slices: int, max_slices: int = 32) -> list[int]:
    """The Z indices robust_stats reads: the middle of each of ``max_slices`` equal Z ranges."""
    if n_slices <= max_slices:
        return list(range(n_slices))
    return sorted({int((i + 0.5) * n_slices / max_slices) for i in range(max_slices)})


def robust_stats(data: Any, max_slices: int = 32, seed: int = 0) -> dict:
    """Median and 1.4826·MAD of a (Z, Y, X) volume, from a sample of slices (see module doc).

    ``data`` may be a numpy array, a memory map, or any object with ``shape`` and Z indexing.
    """
    if len(data.shape) != 3 or min(data.shape) == 0:
        raise InputFileError(f"cannot normalise a volume of shape {tuple(data.shape)}", "give a (Z, Y, X) volume")
    rng = np.random.default_rng(seed)
    values = np.concatenate([_slice_values(data, z, rng) for z in sample_slices(data.shape[0], max_slices)])
    if values.size == 0:
        raise InputFileError("the volume holds no finite values", "check the tomogram file")
    center = float(np.median(values))
    scale = MAD_TO_SIGMA * float(np.median(np.abs(values - center)))
    if scale <= SCALE_FLOOR:  # more than half the values equal: fall back to the std
        scale = float(values.std())
    return {"method": METHOD, "center": center, "scale": scale if scale > SCALE_FLOOR else 1.0}


def _slice_values(data: Any, z: int, rng: np.random.Generator) -> np.ndarray:
    plane = np.asarray(data[z], dtype=np.float64)
    values = plane[np.isfinite(plane)]
    if values.size > MAX_PIXELS_PER_SLICE:
        values = values[rng.integers(0, values.size, MAX_PIXELS_PER_SLICE)]
    return values


def check_stats(stats: dict) -> tuple[float, float]:
    """Centre and scale of a stats dict, after checking its method is one this version knows."""
    method = stats.get("method") if isinstance(stats, dict) else None
    if method != METHOD:
        raise UsageError(f"unknown normalisation method {method!r}", f"this version knows '{METHOD}'")
    return float(stats["center"]), max(float(stats["scale"]), SCALE_FLOOR)


def normalise(array: np.ndarray, stats: dict) -> np.ndarray:
    """``(array - center) / scale`` as a new float32 array (scale floored at ``SCALE_FLOOR``)."""
    center, scale = check_stats(stats)
    out = np.asarray(array, dtype=np.float32) - np.float32(center)
    out /= np.float32(scale)
    return out
