"""Filament picker: points every ``spacing_A`` along each filament, with tangent-derived angles.

1. Threshold (0..1 scale, optional binning); components smaller than ``min_size_A3`` dropped.
2. Skeleton (scikit-image, Lee's 3D thinning), as a graph of 26-connected voxels.
3. Branch pruning: each connected piece of skeleton gives its longest path (geodesic
   diameter) as a filament; the side branches left once it is removed are treated the same
   way and kept as filaments of their own only when at least ``min_length_A`` long, so
   shorter branches (and pieces) are pruned.
4. A smoothing spline through each path (scipy ``splprep``, smoothing ``smoothing_px`` pixels
   of RMS deviation), sampled every ``spacing_A`` of arc length from one end.
5. Angles: RELION Euler angles whose reference Z axis is the local tangent (tilt, psi); rot
   turns by ``twist_deg`` per step (0 by default), for helical symmetry.
6. Margin and ``min_particles`` as for every picker; ``filament_id`` numbers the filaments
   from 1, and picks keep their order along each filament.

Score: the filament's length in Å (the same for all its points), longest first.
"""
from __future__ import annotations

import numpy as np

from ais_framework import hookimpl
from ais_framework.errors import UsageError
from ais_framework.picking.common import check_non_negative, direction_angles, finish, label, prepare
from ais_framework.picks import Picks
from ais_framework.specs import PickerSpec
from ais_framework.volume import Volume

PARAMETERS = {
    "threshold": (0.5, "segmentation value (0..1) at and above which a voxel belongs to a filament"),
    "min_size_A3": (0.0, "components smaller than this are ignored, Å³"),
    "min_length_A": (200.0, "side branches and filaments shorter than this are removed, Å"),
    "spacing_A": (0.0, "distance between picks along a filament, Å (0: 40 Å, about a tubulin dimer's rise x 5)"),
    "twist_deg": (0.0, "rotation about the filament axis per step, degrees (rot angle)"),
    "smoothing_px": (1.0, "RMS deviation allowed to the smoothing spline, pixels"),
    "margin_A": (0.0, "picks closer than this to a volume face are dropped, Å"),
    "binning": (1, "average b³ blocks before picking (1 = none, 0 = automatic for large volumes)"),
    "min_particles": (0, "a tomogram with fewer picks than this gives none"),
}
DEFAULT_SPACING_A = 40.0
NEIGHBOURS = np.array([(dz, dy, dx) for dz in (-1, 0, 1) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
                       if (dz, dy, dx) != (0, 0, 0)])


def pick_filaments(volume: Volume, threshold: float = 0.5, min_size_A3: float = 0.0, min_length_A: float = 200.0,
                   spacing_A: float = 0.0, twist_deg: float = 0.0, smoothing_px: float = 1.0, margin_A: float = 0.0,
                   binning: int = 1, min_particles: int = 0, **_ignored) -> Picks:
    """Filament picks of one segmentation (see the module docstring)."""
    from skimage.morphology import skeletonize

    min_length = check_non_negative("min_length_A", min_length_A, "Å")
    spacing_A = check_non_negative("spacing_A", spacing_A, "Å") or DEFAULT_SPACING_A
    margin_A = check_non_negative("margin_A", margin_A, "Å")
    grid, mask = prepare(volume, threshold, binning)
    labels, count, sizes = label(mask)
    small = sizes < max(1.0, grid.voxels(check_non_negative("min_size_A3", min_size_A3, "Å³")))
    small[0] = True
    mask = ~small[labels]
    del labels
    skeleton = np.argwhere(skeletonize(mask))
    paths = [p for p in _paths(skeleton, grid.pixels(min_length)) if _length(p) >= grid.pixels(min_length)]
    pieces = [_sample(p, grid.pixels(spacing_A), smoothing_px / grid.binning) for p in paths]
    pieces = [(pts, tan, i + 1, _length(paths[i]) * grid.voxel_A) for i, (pts, tan) in enumerate(pieces) if len(pts)]
    if not pieces:
        return finish(np.zeros((0, 3)), np.zeros(0), grid, volume, margin_A=margin_A, min_particles=int(min_particles),
                      rot=np.zeros(0), tilt=np.zeros(0), psi=np.zeros(0), filament_id=np.zeros(0, int),
                      components=count)
    zyx = np.concatenate([p[0] for p in pieces])
    angles = np.concatenate([direction_angles(p[1], twist_deg * np.arange(len(p[0]))) for p in pieces])
    ids = np.concatenate([np.full(len(p[0]), p[2]) for p in pieces])
    score = np.concatenate([np.full(len(p[0]), p[3]) for p in pieces])
    return finish(grid.to_original(zyx), score, grid, volume, margin_A=margin_A, min_particles=int(min_particles),
                  rot=angles[:, 0], tilt=angles[:, 1], psi=angles[:, 2], filament_id=ids)


def _graph(points: np.ndarray):
    """Sparse graph of 26-neighbouring skeleton voxels, edges weighted by their distance."""
    from scipy.sparse import coo_matrix

    index = {tuple(p): i for i, p in enumerate(points)}
    rows, cols, weights = [], [], []
    for step in NEIGHBOURS[:13]:  # each neighbour pair once
        for i, p in enumerate(points):
            j = index.get(tuple(p + step))
            if j is not None:
                rows.append(i)
                cols.append(j)
                weights.append(float(np.linalg.norm(step)))
    n = len(points)
    return coo_matrix((weights, (rows, cols)), shape=(n, n)).tocsr()


def _longest_path(graph, members: np.ndarray) -> tuple[np.ndarray, float]:
    """The longest shortest path (geodesic diameter) within one connected set of voxels."""
    from scipy.sparse.csgraph import dijkstra

    sub = graph[members][:, members]
    far = int(np.argmax(np.nan_to_num(dijkstra(sub, directed=False, indices=0), posinf=-1)))
    distances, previous = dijkstra(sub, directed=False, indices=far, return_predecessors=True)
    distances = np.nan_to_num(distances, posinf=-1)
    end = int(np.argmax(distances))
    path = [end]
    while previous[path[-1]] >= 0:
        path.append(int(previous[path[-1]]))
    return members[np.array(path)], float(distances[end])


def _paths(points: np.ndarray, min_length_px: float) -> list[np.ndarray]:
    """Skeleton voxels -> filament paths (arrays of z, y, x), longest first per skeleton piece.

    Each connected piece of skeleton gives its longest path; what is left once that path is
    removed (side branches) is handled the same way, and kept only if at least
    ``min_length_px`` long, so shorter branches are pruned.
    """
    from scipy.sparse.csgraph import connected_components

    if len(points) == 0:
        return []
    graph = _graph(points)
    alive = np.ones(len(points), dtype=bool)
    paths = []
    while alive.any():
        members_all = np.flatnonzero(alive)
        count, which = connected_components(graph[members_all][:, members_all], directed=False)
        progress = False
        for k in range(count):
            members = members_all[which == k]
            path, length = _longest_path(graph, members)
            alive[members if length < min_length_px or len(path) < 2 else path] = False
            if length >= min_length_px and len(path) >= 2:
                paths.append(points[path])
            progress = True
        if not progress:
            break
    return paths


def _length(path: np.ndarray) -> float:
    return float(np.sum(np.linalg.norm(np.diff(np.asarray(path, float), axis=0), axis=1))) if len(path) > 1 else 0.0


def _sample(path: np.ndarray, spacing_px: float, smoothing_px: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``spacing_px`` along a smoothing spline through the path, and unit tangents there."""
    from scipy.interpolate import splev, splprep

    path = np.asarray(path, dtype=float)
    if spacing_px <= 0:
        raise UsageError("spacing must be positive")
    keep = np.r_[True, np.any(np.diff(path, axis=0) != 0, axis=1)]
    path = path[keep]
    degree = min(3, len(path) - 1)
    if degree < 1:
        return np.zeros((0, 3)), np.zeros((0, 3))
    tck, _ = splprep(path.T, k=degree, s=len(path) * smoothing_px**2)
    dense_u = np.linspace(0, 1, max(50, int(_length(path) * 10)))
    dense = np.array(splev(dense_u, tck)).T
    arc = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(dense, axis=0), axis=1))]
    u = np.interp(np.arange(0.0, arc[-1] + 1e-9, spacing_px), arc, dense_u)
    return np.array(splev(u, tck)).T, np.array(splev(u, tck, der=1)).T


@hookimpl
def ais_fw_pickers():
    return [
        PickerSpec(
            name="filament",
            title="Filament picker (skeleton, pruned, smoothed, evenly spaced)",
            pick=pick_filaments,
            description="points every spacing Å along each filament with tangent Euler angles and filament id",
            parameters=PARAMETERS,
        )
    ]
