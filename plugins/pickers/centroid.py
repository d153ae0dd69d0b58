"""Centroid picker: one pick per component at its centre of mass, optionally oriented.

1. Threshold (0..1 scale, optional binning), face-connected components, drop those smaller
   than ``min_size_A3``.
2. Each component's centre of mass (all its voxels weigh the same).
3. ``orient``: "none"; "normal" (the principal axis of least spread: the normal of a disc or
   membrane patch) or "axis" (the axis of most spread: a rod's axis). The direction becomes
   RELION Euler angles whose reference Z axis points along it (rot = 0, see
   :func:`ais_framework.picking.common.direction_angles`). A component whose spread along the
   chosen axis is close to another's (eigenvalue ratio above ``isotropy``, default 0.7) has no
   defined direction and gets (0, 0, 0).
4. Margin and ``min_particles`` as for every picker.

Score: the component's volume in Å³, largest first.
"""
from __future__ import annotations

import numpy as np

from ais_framework import hookimpl
from ais_framework.errors import UsageError
from ais_framework.picking.common import check_non_negative, components, direction_angles, finish
from ais_framework.picks import Picks
from ais_framework.specs import PickerSpec
from ais_framework.volume import Volume

ORIENTATIONS = ("none", "normal", "axis")
PARAMETERS = {
    "threshold": (0.5, "segmentation value (0..1) at and above which a voxel belongs to a particle"),
    "min_size_A3": (0.0, "smallest component volume kept, Å³"),
    "orient": ("none", "none | normal (disc/membrane normal) | axis (rod axis): Euler angles from the principal axes"),
    "isotropy": (0.7, "eigenvalue ratio above which a component counts as round (angles 0, 0, 0)"),
    "margin_A": (0.0, "picks closer than this to a volume face are dropped, Å"),
    "binning": (0, "average b³ blocks before picking (1 = none, 0 = automatic for large volumes)"),
    "min_particles": (0, "a tomogram with fewer picks than this gives none"),
}


def pick_centroids(volume: Volume, threshold: float = 0.5, min_size_A3: float = 0.0, orient: str = "none",
                   isotropy: float = 0.7, margin_A: float = 0.0, binning: int = 0, min_particles: int = 0,
                   **_ignored) -> Picks:
    """Centre-of-mass picks of one segmentation (see the module docstring)."""
    if orient not in ORIENTATIONS:
        raise UsageError(f"unknown orientation '{orient}'", f"choose one of: {', '.join(ORIENTATIONS)}")
    margin_A = check_non_negative("margin_A", margin_A, "Å")
    parts = components(volume, threshold, binning, min_size_A3)
    grid, labels, count, sizes, kept, boxes = parts.grid, parts.labels, parts.count, parts.sizes, parts.kept, parts.boxes
    shapes = [_shape(labels, boxes[i - 1], i) for i in kept]
    centres = np.array([s[0] for s in shapes]).reshape(-1, 3)
    angles = None
    if orient != "none":
        angles = np.array([_angles(s[1], s[2], orient, isotropy) for s in shapes]).reshape(-1, 3)
    rot, tilt, psi = (None, None, None) if angles is None else angles.T
    return finish(grid.to_original(centres), sizes[kept] * grid.voxel_A**3, grid, volume, margin_A=margin_A,
                  min_particles=int(min_particles), rot=rot, tilt=tilt, psi=psi, components=count)


def _shape(labels: np.ndarray, box: tuple, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre (z, y, x), eigenvalues (ascending) and eigenvectors (columns) of a component's voxels."""
    points = np.argwhere(labels[box] == index).astype(float)
    points += [s.start for s in box]
    centre = points.mean(axis=0)
    if len(points) < 2:
        return centre, np.ones(3), np.eye(3)
    values, vectors = np.linalg.eigh(np.cov(points - centre, rowvar=False))
    return centre, values, vectors


def _angles(values: np.ndarray, vectors: np.ndarray, orient: str, isotropy: float) -> np.ndarray:
    """Euler angles along the smallest ("normal") or largest ("axis") principal axis, or zeros if round."""
    values = np.maximum(values, 1e-9)
    if orient == "normal":
        round_ = values[0] / values[1] > isotropy
        direction = vectors[:, 0]
    else:
        round_ = values[1] / values[2] > isotropy
        direction = vectors[:, 2]
    if round_:
        return np.zeros(3)
    if direction[0] < 0:  # a direction and its opposite are one axis: point it up in Z
        direction = -direction
    return direction_angles(direction[None])[0]


@hookimpl
def ais_fw_pickers():
    return [
        PickerSpec(
            name="centroid",
            title="Centroid picker (centre of mass, optional principal-axis orientation)",
            pick=pick_centroids,
            description="one pick per component at its centre of mass; disc normal or rod axis as Euler angles",
            parameters=PARAMETERS,
        )
    ]
