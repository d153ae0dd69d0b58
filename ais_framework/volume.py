"""Volumes: a (Z, Y, X) array that always carries its pixel size (Å) and origin.

Reading and writing go through the volume-format plugins (MRC, TIFF, third-party),
chosen by file extension. Writes are atomic.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

import numpy as np

from .atomic import atomic_path
from .errors import InputFileError, PixelSizeError, UsageError

PIXEL_SIZE_HINT = "pass --pixel-size in Å (e.g. --pixel-size 10.0)"


@dataclass(frozen=True)
class Volume:
    """A tomogram or segmentation.

    data: array (Z, Y, X), often a read-only memory map of the file.
    pixel_size: Å per pixel in X/Y, or None when the file does not say.
    origin: (x, y, z) in Å, as in the MRC header.
    voxel_size: (x, y, z) Å from the header, kept so a round trip preserves it.
    start: (nxstart, nystart, nzstart) from the MRC header.
    """

    data: np.ndarray
    pixel_size: float | None
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)
    voxel_size: tuple[float, float, float] | None = None
    start: tuple[int, int, int] = (0, 0, 0)
    path: Path | None = None

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.data.shape)  # type: ignore[return-value]

    def with_pixel_size(self, pixel_size: float) -> "Volume":
        """The same volume with a pixel size given by the user."""
        check_pixel_size(pixel_size)
        return replace(self, pixel_size=float(pixel_size), voxel_size=(float(pixel_size),) * 3)

    def like(self, data: np.ndarray) -> "Volume":
        """A new volume with other data but this one's pixel size, origin and header geometry."""
        return replace(self, data=data, path=None)

    def header_voxel_size(self) -> tuple[float, float, float]:
        if self.voxel_size is not None and all(v > 0 for v in self.voxel_size):
            return self.voxel_size
        ps = self.pixel_size or 0.0
        return (ps, ps, ps)


def check_pixel_size(pixel_size: float) -> float:
    if not (isinstance(pixel_size, (int, float)) and math.isfinite(pixel_size) and pixel_size > 0):
        raise UsageError(f"pixel size must be a positive number of Å, got {pixel_size!r}", PIXEL_SIZE_HINT)
    return float(pixel_size)


def _format_for(path: Path, need: str):
    from .plugins import get_registry

    suffix = path.suffix.lower()
    formats = get_registry().specs("volume_format").values()
    for entry in formats:
        spec = entry.spec
        if suffix in spec.extensions and getattr(spec, need) is not None:
            return spec
    known = sorted({ext for e in formats for ext in e.spec.extensions if getattr(e.spec, need)})
    verb = "read" if need == "read" else "write"
    raise InputFileError(
        f"{path}: cannot {verb} files ending in '{suffix or '(none)'}'",
        f"known extensions: {', '.join(known)}",
    )


def read_volume(path: str | os.PathLike, pixel_size: float | None = None, require_pixel_size: bool = True) -> Volume:
    """Open a volume file (memory-mapped where the format allows).

    ``pixel_size`` (Å) overrides the file's. Without it, a file whose header has no pixel
    size raises :class:`PixelSizeError` unless ``require_pixel_size`` is False.
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"{path}: no such file", "check the path")
    if path.is_dir():
        raise InputFileError(f"{path}: is a folder, not a volume file", "give the path of an .mrc or .tif file")
    volume = _format_for(path, "read").read(path)
    if pixel_size is not None:
        volume = volume.with_pixel_size(pixel_size)
    elif volume.pixel_size is None and require_pixel_size:
        raise PixelSizeError(f"{path}: the file does not say its pixel size", PIXEL_SIZE_HINT)
    return volume


def write_volume(path: str | os.PathLike, volume: Volume) -> Path:
    """Write a volume atomically (temporary file + rename); the format follows the extension."""
    path = Path(path)
    spec = _format_for(path, "write")
    with atomic_path(path) as tmp:
        spec.write(tmp, volume)
    return path


def iter_slabs(data: np.ndarray, slices_per_slab: int = 16) -> Iterator[np.ndarray]:
    """Consecutive Z slabs of ``data`` (views; a memory map reads only what is asked)."""
    for z in range(0, data.shape[0], slices_per_slab):
        yield data[z : z + slices_per_slab]


def volume_stats(data: np.ndarray, slices_per_slab: int = 16) -> dict[str, float]:
    """min, max, mean and std, computed slab by slab so memory stays small."""
    count, total, lo, hi = 0, 0.0, math.inf, -math.inf
    mean_acc, m2 = 0.0, 0.0
    for slab in iter_slabs(data, slices_per_slab):
        values = np.asarray(slab, dtype=np.float64)
        n = values.size
        if n == 0:
            continue
        slab_mean = float(values.mean())
        slab_m2 = float(((values - slab_mean) ** 2).sum())
        delta = slab_mean - mean_acc
        total = count + n
        mean_acc += delta * n / total
        m2 += slab_m2 + delta * delta * count * n / total
        count = total
        lo, hi = min(lo, float(values.min())), max(hi, float(values.max()))
    if count == 0:
        return {"min": math.nan, "max": math.nan, "mean": math.nan, "std": math.nan}
    return {"min": lo, "max": hi, "mean": mean_acc, "std": math.sqrt(m2 / count)}
