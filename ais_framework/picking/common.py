"""What every picker shares: thresholding (with binning), labelling, margins, the final table.

Memory is kept bounded: the segmentation is read slab by slab (it is usually a memory map)
and only the binned foreground mask (bool) and its labels (int32) exist at full size of the
working grid; per-particle work happens on each component's bounding box.

Binning ``b`` averages b x b x b blocks of the segmentation before thresholding (the volume
is cropped to a multiple of b, at most b - 1 pixels per axis); a binned voxel's centre lies
at original pixel ``(i + 0.5) * b - 0.5``. ``binning=0`` picks the smallest b that keeps the
working grid under :data:`AUTO_VOXELS` voxels.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import UsageError
from ..picks import Picks
from ..volume import Volume, probability_scale, release_pages, usable_pixel_size

AUTO_VOXELS = 2**24  # ~16.8 M voxels: int32 labels of 64 MB
SLAB_BYTES = 32 * 2**20


@dataclass(frozen=True)
class Grid:
    """The working grid: the original volume's geometry and the binning applied to it."""

    shape: tuple[int, int, int]      # original (Z, Y, X) pixels
    pixel_size_A: float              # original pixel size
    binning: int

    @property
    def voxel_A(self) -> float:
        """Edge of one working voxel in Å."""
        return self.pixel_size_A * self.binning

    def to_original(self, zyx: np.ndarray) -> np.ndarray:
        """Working-grid positions (N, 3) -> original pixels."""
        return (np.asarray(zyx, dtype=float) + 0.5) * self.binning - 0.5

    def voxels(self, volume_A3: float) -> float:
        """A volume in Å³ as a number of working voxels."""
        return volume_A3 / self.voxel_A**3

    def pixels(self, length_A: float) -> float:
        """A length in Å as working voxels."""
        return length_A / self.voxel_A


def check_threshold(threshold: float) -> float:
    """The threshold, or a UsageError if it is not in (0, 1]."""
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        value = float("nan")
    if not 0.0 < value <= 1.0:
        raise UsageError(f"threshold must be above 0 and at most 1, got {threshold!r}",
                         "it is on the 0..1 probability scale (uint8 segmentations: value / 255), e.g. --threshold 0.5")
    return value


def check_non_negative(name: str, value: float, unit: str) -> float:
    if value is None or not np.isfinite(value) or value < 0:
        raise UsageError(f"{name} must be zero or a positive number of {unit}, got {value!r}")
    return float(value)


def pixel_size_of(volume: Volume) -> float:
    ps = usable_pixel_size(volume.pixel_size)
    if ps is None:
        from ..errors import PixelSizeError

        name = volume.path or "the segmentation"
        raise PixelSizeError(f"{name} has no pixel size, and picking parameters are in Å",
                             "pass --pixel-size in Å (e.g. --pixel-size 10.0)")
    return ps


def choose_binning(shape: tuple[int, ...], binning: int | None) -> int:
    """``binning`` as given (>= 1), or for 0/None the smallest that fits :data:`AUTO_VOXELS`."""
    if binning not in (None, 0):
        if int(binning) != binning or binning < 1:
            raise UsageError(f"binning must be a whole number >= 1 (or 0 for automatic), got {binning!r}")
        return int(binning)
    total, b = float(np.prod(shape)), 1
    while total / b**3 > AUTO_VOXELS and min(shape) // (b + 1) >= 8:
        b += 1
    return b


def foreground(volume: Volume, threshold: float, binning: int) -> np.ndarray:
    """Boolean mask of the (binned) working grid: block mean >= threshold on the 0..1 scale.

    uint8 values are 0-255 (value / 255 is compared with the threshold), except in masks
    whose values are all 0 or 1 (ground truth, annotations), where 1 means inside.
    """
    return _foreground(volume.data, threshold * probability_scale(volume.data), binning)


def _foreground(data: np.ndarray, cut: float, binning: int) -> np.ndarray:
    b = binning
    nz, ny, nx = (n // b for n in data.shape)
    if min(nz, ny, nx) < 1:
        raise UsageError(f"binning {b} is larger than the volume {data.shape}", "use a smaller --binning")
    mask = np.empty((nz, ny, nx), dtype=bool)
    step = max(1, SLAB_BYTES // max(1, b * ny * b * nx * 4))
    for z0 in range(0, nz, step):
        z1 = min(nz, z0 + step)
        slab = np.asarray(data[z0 * b : z1 * b, : ny * b, : nx * b])
        if b > 1:
            blocks = slab.reshape(z1 - z0, b, ny, b, nx, b)
            mask[z0:z1] = blocks.mean(axis=(1, 3, 5), dtype=np.float32) >= cut
        else:
            mask[z0:z1] = slab >= cut
        release_pages(data)
    return mask


@dataclass(frozen=True)
class Components:
    """The connected components of a segmentation big enough to be particles."""

    grid: "Grid"
    labels: np.ndarray      # int32 labels on the working grid
    count: int              # every component, before the size cut
    sizes: np.ndarray       # voxels per label (index 0 = background)
    kept: np.ndarray        # labels of the components of at least the minimum size
    boxes: list             # scipy.ndimage.find_objects slices, box of label i at i - 1


def components(volume: Volume, threshold: float, binning: int | None, min_size_A3: float) -> Components:
    """Threshold, bin and label a segmentation; keep the components of at least ``min_size_A3``."""
    from scipy import ndimage

    min_size = check_non_negative("min_size_A3", min_size_A3, "Å³")
    grid, mask = prepare(volume, threshold, binning)
    labels, count, sizes = label(mask)
    del mask
    kept = np.flatnonzero(sizes[1:] >= max(1.0, grid.voxels(min_size))) + 1
    return Components(grid, labels, count, sizes, kept, ndimage.find_objects(labels))


def label(mask: np.ndarray) -> tuple[np.ndarray, int, np.ndarray]:
    """Face-connected components: labels (int32), their count, and voxel counts per label (index 0 = background)."""
    from scipy import ndimage

    labels, count = ndimage.label(mask, output=np.int32)
    sizes = np.zeros(count + 1, dtype=np.int64)
    for z0 in range(0, labels.shape[0], 8):  # bincount works in int64: count slab by slab
        sizes += np.bincount(labels[z0 : z0 + 8].ravel(), minlength=count + 1)
    return labels, count, sizes


def inside_margin(zyx: np.ndarray, shape: tuple[int, int, int], margin_px: float) -> np.ndarray:
    """True for positions at least ``margin_px`` from every face of the volume."""
    if len(zyx) == 0:
        return np.zeros(0, dtype=bool)
    upper = np.asarray(shape, dtype=float) - 1 - margin_px
    return np.all((zyx >= margin_px) & (zyx <= upper), axis=1)


def finish(zyx: np.ndarray, score: np.ndarray, grid: Grid, volume: Volume, *, margin_A: float,
           min_particles: int, components: int | None = None, **columns) -> Picks:
    """Picks in original pixels: margin applied, best score first, empty if too few.

    ``components`` (the number found before size filtering) lets the note say when the
    segmentation was empty at the threshold.
    """
    zyx = np.asarray(zyx, dtype=float).reshape(-1, 3)
    keep = inside_margin(zyx, grid.shape, margin_A / grid.pixel_size_A)
    name = volume.path.stem if volume.path is not None else ""
    tomogram, _, feature = name.partition("__")
    picks = Picks.from_zyx(zyx[keep], score=np.asarray(score, float)[keep], pixel_size_A=grid.pixel_size_A,
                           tomogram=tomogram, feature=feature, tomogram_shape=grid.shape,
                           **{k: None if v is None else np.asarray(v)[keep] for k, v in columns.items()})
    picks = picks.sorted_by_score()
    picks.metadata.update(binning=grid.binning, dropped_by_margin=int((~keep).sum()))
    if components == 0:
        picks.metadata["note"] = "empty segmentation: no voxel at or above the threshold"
    if len(picks) < min_particles:
        found = len(picks)
        picks = picks.take(np.zeros(0, dtype=int))
        picks.metadata["note"] = f"{found} picks, fewer than --min-particles {min_particles}: none kept"
    return picks


def direction_angles(zyx_directions: np.ndarray, spin_deg: np.ndarray | float = 0.0) -> np.ndarray:
    """RELION (rot, tilt, psi) whose reference Z axis points along each (z, y, x) direction.

    RELION's matrix maps the reference's Z axis to (-cos psi sin tilt, sin psi sin tilt, cos tilt)
    (x, y, z): so tilt = arccos(dz), psi = atan2(dy, -dx), and rot spins the particle about
    that axis (``spin_deg``, e.g. a filament's twist).
    """
    d = np.asarray(zyx_directions, dtype=float).reshape(-1, 3)
    d = d / np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-12)
    dz, dy, dx = d.T
    tilt = np.degrees(np.arccos(np.clip(dz, -1.0, 1.0)))
    psi = np.degrees(np.arctan2(dy, -dx))
    rot = np.broadcast_to(np.asarray(spin_deg, dtype=float), tilt.shape)
    rot = (rot + 180.0) % 360.0 - 180.0
    return np.stack([rot, tilt, psi], axis=1)


def prepare(volume: Volume, threshold: float, binning: int | None) -> tuple[Grid, np.ndarray]:
    """Checked threshold and pixel size, the working grid and its foreground mask."""
    threshold = check_threshold(threshold)
    ps = pixel_size_of(volume)
    if volume.data.ndim != 3:
        raise UsageError(f"a segmentation must be 3D (Z, Y, X), got shape {volume.data.shape}")
    grid = Grid(shape=tuple(volume.data.shape), pixel_size_A=ps, binning=choose_binning(volume.data.shape, binning))
    return grid, foreground(volume, threshold, grid.binning)
