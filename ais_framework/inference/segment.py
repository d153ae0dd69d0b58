"""Segment whole tomograms: slice batches for 2D/2.5D models, overlapping slabs for 3D.

Memory stays bounded: the tomogram is read memory-mapped, a few slices at a time, and
the output is collected in a memory-mapped temporary file before the atomic write.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..normalisation import normalise, robust_stats
from ..volume import Volume, write_volume
from .slices import pad_to_multiple, rescale, resize_to, run_network, slice_stack


@dataclass(frozen=True)
class SegmentOptions:
    batch_size: int = 8
    device: str = "cpu"
    z_range: tuple[int, int] | None = None
    as_float16: bool = False


def output_path(outdir: Path, tomogram: Path, feature: str) -> Path:
    """``{tomogram stem}__{feature}.mrc`` in ``outdir``."""
    return Path(outdir) / f"{Path(tomogram).stem}__{feature}.mrc"


def _prepare(data: np.ndarray, zs: range, depth: int, stats: dict, factor: float, multiple: int):
    batch = np.stack([slice_stack(data, z, depth) for z in zs])
    batch = rescale(normalise(batch, stats), factor)
    return pad_to_multiple(batch, multiple)


def predict_slices(model, data: np.ndarray, zs: range, stats: dict, factor: float, device: str = "cpu") -> np.ndarray:
    """Probabilities (len(zs), Y, X) for the slices ``zs`` of ``data`` with a 2D/2.5D model."""
    meta = model.metadata
    batch, (h, w) = _prepare(data, zs, meta.depth, stats, factor, model.spec.size_multiple)
    probs = run_network(model.network, batch, device)[:, :h, :w]
    return resize_to(probs, data.shape[1:])


def _z_bounds(volume: Volume, z_range: tuple[int, int] | None) -> tuple[int, int]:
    if z_range is None:
        return 0, volume.shape[0]
    lo, hi = max(0, z_range[0]), min(volume.shape[0], z_range[1])
    return lo, hi


def _scratch(shape: tuple[int, ...]) -> np.ndarray:
    """A zeroed float32 memory map in a temporary file (the caller deletes ``.filename``)."""
    with tempfile.NamedTemporaryFile(prefix="ais-fw-", suffix=".npy", delete=False) as handle:
        name = handle.name
    return np.lib.format.open_memmap(name, mode="w+", dtype=np.float32, shape=shape)


def segment_volume(model, volume: Volume, options: SegmentOptions = SegmentOptions(),
                   on_progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Probabilities 0..1 as float32 (Z, Y, X) in a temporary memory map (zeros outside z_range)."""
    stats = robust_stats(volume.data)
    factor = volume.pixel_size / model.metadata.pixel_size_A
    out = _scratch(volume.shape)
    lo, hi = _z_bounds(volume, options.z_range)
    step = options.batch_size
    for z0 in range(lo, hi, step):
        zs = range(z0, min(z0 + step, hi))
        out[zs.start : zs.stop] = predict_slices(model, volume.data, zs, stats, factor, options.device)
        if on_progress:
            on_progress(zs.stop - lo, hi - lo)
    return out


def to_output(probs: np.ndarray, as_float16: bool = False) -> np.ndarray:
    """Probabilities as the saved output: uint8 0-255 (default) or float16 0-1."""
    if as_float16:
        return probs.astype(np.float16)
    return np.clip(np.rint(probs * 255.0), 0, 255).astype(np.uint8)


def segment_to_file(model, volume: Volume, path: Path, options: SegmentOptions = SegmentOptions(),
                    on_progress: Callable[[int, int], None] | None = None) -> Path:
    """Segment ``volume`` and write the result atomically to ``path`` (same geometry as the input)."""
    probs = segment_volume(model, volume, options, on_progress)
    try:
        return write_volume(path, volume.like(to_output(probs, options.as_float16)))
    finally:
        Path(probs.filename).unlink(missing_ok=True)
