"""Volumes: a (Z, Y, X) array that always carries its pixel size (Å) and origin.

Reading and writing go through the volume-format plugins (MRC, TIFF, third-party),
chosen by file extension. Writes are atomic.
"""
from __future__ import annotations

import contextlib
import math
import mmap
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from .atomic import atomic_path
from .errors import AisError, InputFileError, PixelSizeError, UsageError

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
        """(x, y, z) Å to write into a header: the file's voxel size, gaps filled with the pixel size."""
        ps = usable_pixel_size(self.pixel_size) or 0.0
        sizes = self.voxel_size or (ps, ps, ps)
        return tuple(usable_pixel_size(v) or ps for v in sizes)  # type: ignore[return-value]


def usable_pixel_size(value: object) -> float | None:
    """``value`` as a float if it is a finite, positive number of Å, else None."""
    if isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool):
        if math.isfinite(float(value)) and float(value) > 0:
            return float(value)
    return None


def check_pixel_size(pixel_size: float) -> float:
    """A pixel size given by the user, or :class:`UsageError` if it is not a positive number."""
    value = usable_pixel_size(pixel_size)
    if value is None:
        raise UsageError(f"pixel size must be a positive number of Å, got {pixel_size!r}", PIXEL_SIZE_HINT)
    return value


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
    size (missing, zero or not a number) raises :class:`PixelSizeError` unless
    ``require_pixel_size`` is False; the volume's ``pixel_size`` is then None.
    Unreadable, corrupt or truncated files raise :class:`InputFileError` naming the file.
    """
    path = Path(path)
    if pixel_size is not None:
        check_pixel_size(pixel_size)
    if not path.exists():
        raise InputFileError(f"{path}: no such file", "check the path")
    if path.is_dir():
        raise InputFileError(f"{path}: is a folder, not a volume file", "give the path of an .mrc or .tif file")
    volume = _read_with(_format_for(path, "read"), path)
    if usable_pixel_size(volume.pixel_size) is None:
        volume = replace(volume, pixel_size=None)
    if pixel_size is not None:
        volume = volume.with_pixel_size(pixel_size)
    elif volume.pixel_size is None and require_pixel_size:
        raise PixelSizeError(f"{path}: the file does not say its pixel size", PIXEL_SIZE_HINT)
    return volume


def _read_with(spec, path: Path) -> Volume:
    """Call a format's reader; anything but an AisError becomes an InputFileError naming the file."""
    try:
        return spec.read(path)
    except AisError:
        raise
    except OSError as exc:
        raise InputFileError(f"{path}: cannot be read ({exc.strerror or exc})",
                             "check the file's permissions and the disk") from exc
    except Exception as exc:  # a damaged file can make any reader fail in its own way
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
        raise InputFileError(f"{path}: not a readable {spec.title} file ({detail})",
                             "the file may be corrupt or incomplete; rerun with --debug for details") from exc


def write_volume(path: str | os.PathLike, volume: Volume) -> Path:
    """Write a volume atomically (temporary file + rename); the format follows the extension.

    The volume must have a pixel size (:class:`PixelSizeError` otherwise). On any failure
    no partial file is left and an existing file at ``path`` is untouched.
    """
    path = Path(path)
    spec = _format_for(path, "write")
    volume = _writable(path, volume)
    try:
        with atomic_path(path) as tmp:
            spec.write(tmp, volume)
    except OSError as exc:
        raise AisError(f"{path}: cannot be written ({exc.strerror or exc})",
                       "check that the folder exists, is writable and the disk is not full") from exc
    return path


@contextlib.contextmanager
def slab_writer(path: str | os.PathLike, template: Volume, dtype: np.dtype | type) -> Iterator[Any]:
    """A writer with ``write(z, slab)`` for a volume shaped and placed like ``template``.

    The file appears under ``path`` only when the block ends without an error (atomic);
    the format must support streaming writes (MRC does).
    """
    path = Path(path)
    spec = _format_for(path, "write")
    if spec.open_writer is None:
        raise UsageError(f"{path}: the {spec.title} format cannot be written slab by slab", "write .mrc files")
    _writable(path, template)
    with atomic_path(path) as tmp:
        writer = spec.open_writer(tmp, template, np.dtype(dtype))
        yield writer
        writer.close()


def release_pages(array: Any) -> None:
    """Let the OS drop the pages of a memory-mapped array this process has read so far.

    Reading a tomogram through a memory map keeps every page read in the process's resident
    memory; dropping them after each slab keeps a whole-tomogram pass at constant memory.
    """
    base = array
    while base is not None and not hasattr(base, "_mmap"):
        base = getattr(base, "base", None)
    handle = getattr(base, "_mmap", None)
    if handle is not None and hasattr(handle, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
        handle.madvise(mmap.MADV_DONTNEED)


def probability_scale(data: np.ndarray) -> float:
    """What "certainly the feature" is in a segmentation's values: 1.0 for floats (0-1) and for
    0/1 masks (ground truth, annotations), 255.0 for uint8-style 0-255 probability maps.

    Read slab by slab (pages released), so a memory-mapped segmentation costs one slab of memory.
    """
    if data.dtype.kind == "f":
        return 1.0
    if data.dtype.kind not in "iub":
        raise UsageError(f"segmentation values of type {data.dtype} are not probabilities",
                         "give a segmentation as uint8 0-255 or float 0-1")
    top = 0
    for slab in iter_slabs(data):
        top = max(top, int(slab.max(initial=0)))
        release_pages(data)
    if top > 255:
        raise UsageError(f"segmentation values go up to {top}; expected 0..1 or 0..255",
                         "rescale the segmentation to 0..255 (uint8) or 0..1 (float)")
    return 1.0 if top <= 1 else 255.0


def _writable(path: Path, volume: Volume) -> Volume:
    """The volume as (Z, Y, X) with a pixel size, or an error saying why it cannot be written."""
    if volume.data.ndim == 2:
        volume = replace(volume, data=volume.data[np.newaxis])
    if volume.data.ndim != 3 or 0 in volume.data.shape:
        raise UsageError(f"{path}: a volume must be a non-empty (Z, Y, X) array, got shape {volume.data.shape}",
                         "pass a 3-D array")
    if usable_pixel_size(volume.pixel_size) is None:
        raise PixelSizeError(f"{path}: the volume to write has no pixel size", PIXEL_SIZE_HINT)
    return volume


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
