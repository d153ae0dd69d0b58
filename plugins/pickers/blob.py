"""Blob picker: one pick per particle at the deepest point of each blob, several for touching ones.

1. Threshold the segmentation (0..1 scale; optional binning averages b³ blocks first).
2. Face-connected components; those smaller than ``min_size_A3`` are dropped.
3. In each component's bounding box, the Euclidean distance to the background (the depth).
   Candidate picks are local maxima of the depth (3x3x3 neighbourhood); taken deepest first,
   a candidate is kept only if it is at least ``spacing_A`` from every pick kept in the same
   component. Two touching particles thus give two picks, one particle one pick when
   ``spacing_A`` is about its radius or more.
4. Picks closer than ``margin_A`` to a face of the volume are dropped; fewer than
   ``min_particles`` picks give none.

Score: the depth of the pick in Å (distance to the blob's surface), best first.
"""
from __future__ import annotations

import numpy as np

from ais_framework import hookimpl
from ais_framework.picking.common import check_non_negative, components, finish
from ais_framework.picks import Picks
from ais_framework.specs import PickerSpec
from ais_framework.volume import Volume

PARAMETERS = {
    "threshold": (0.5, "segmentation value (0..1) at and above which a voxel belongs to a particle"),
    "min_size_A3": (0.0, "smallest particle volume kept, Å³ (e.g. 4/3·π·(50 Å)³ ≈ 520000 for a 10 nm sphere)"),
    "spacing_A": (0.0, "minimum distance between picks in one blob, Å (0: 1.5 x the blob's greatest depth, "
                       "i.e. 1.5 radii: one pick per round blob, two for two touching ones)"),
    "margin_A": (0.0, "picks closer than this to a volume face are dropped, Å"),
    "binning": (0, "average b³ blocks before picking (1 = none, 0 = automatic for large volumes)"),
    "min_particles": (0, "a tomogram with fewer picks than this gives none"),
}

DEFAULT_SPACING = 1.5  # x the blob's greatest depth, when no spacing is given


def pick_blobs(volume: Volume, threshold: float = 0.5, min_size_A3: float = 0.0, spacing_A: float = 0.0,
               margin_A: float = 0.0, binning: int = 0, min_particles: int = 0, **_ignored) -> Picks:
    """Blob picks of one segmentation (see the module docstring)."""
    spacing_A = check_non_negative("spacing_A", spacing_A, "Å")
    margin_A = check_non_negative("margin_A", margin_A, "Å")
    parts = components(volume, threshold, binning, min_size_A3)
    grid, labels, count, kept, boxes = parts.grid, parts.labels, parts.count, parts.kept, parts.boxes
    spacing_px = grid.pixels(spacing_A)
    found = [_peaks(labels, boxes[i - 1], i, spacing_px) for i in kept]
    zyx = np.concatenate([f[0] for f in found]) if found else np.zeros((0, 3))
    depth = np.concatenate([f[1] for f in found]) if found else np.zeros(0)
    return finish(grid.to_original(zyx), depth * grid.voxel_A, grid, volume, margin_A=margin_A,
                  min_particles=int(min_particles), components=count)


def _peaks(labels: np.ndarray, box: tuple, index: int, spacing_px: float) -> tuple[np.ndarray, np.ndarray]:
    """Positions (working grid) and depths (voxels) of the picks in one component."""
    from scipy import ndimage

    padded = tuple(slice(max(s.start - 1, 0), s.stop + 1) for s in box)
    inside = labels[padded] == index
    depth = ndimage.distance_transform_edt(inside).astype(np.float32)
    peak = (depth == ndimage.maximum_filter(depth, size=3, mode="constant")) & inside
    where = np.argwhere(peak)
    values = depth[peak]
    order = np.argsort(-values, kind="stable")
    where, values = where[order], values[order]
    spacing = spacing_px if spacing_px > 0 else max(1.0, DEFAULT_SPACING * float(values[0]))
    chosen = _spaced(where, spacing)
    offset = np.array([s.start for s in padded])
    return where[chosen] + offset, values[chosen]


def _spaced(points: np.ndarray, spacing: float) -> list[int]:
    """Indices of points kept greedily in order, each at least ``spacing`` from those kept before."""
    chosen: list[int] = []
    kept = np.empty((len(points), 3))
    for i, point in enumerate(points):
        n = len(chosen)
        if n and np.min(np.sum((kept[:n] - point) ** 2, axis=1)) < spacing**2:
            continue
        kept[n] = point
        chosen.append(i)
    return chosen


@hookimpl
def ais_fw_pickers():
    return [
        PickerSpec(
            name="blob",
            title="Blob picker (distance-transform peaks)",
            pick=pick_blobs,
            description="one pick per particle at its deepest point; touching particles split by minimum spacing",
            parameters=PARAMETERS,
        )
    ]
