"""Surface meshes of segmentations: marching cubes, one connected blob at a time.

The segmentation is thresholded at ``level`` (on the 0..1 scale; uint8 segmentations hold
0..255 and are divided by 255, 0/1 masks are taken as they are), split into connected blobs
(26-connectivity), blobs smaller than ``dust_nm3`` are dropped, and each remaining blob is
meshed inside its own bounding box with scikit-image's marching cubes (Lewiner), so memory
grows with the largest blob, not with the number of blobs. Every blob is closed at the
volume's edges, so each one is a watertight surface with outward-facing triangles.

Vertices are (x, y, z) in nm or Å: ``origin + index * voxel size`` from the file's header.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import AisError, UsageError
from .volume import Volume, iter_slabs, probability_scale, read_volume

UNITS = {"nm": 10.0, "A": 1.0}  # Å per unit
DEFAULT_LEVEL = 0.5
DEFAULT_DUST_NM3 = 100.0


@dataclass
class Mesh:
    """A triangle mesh made of one or more closed blobs.

    vertices: (N, 3) float32 x, y, z in ``units``; normals: (N, 3) float32, unit length, outward;
    faces: (M, 3) uint32 vertex indices, counter-clockwise seen from outside;
    blob_faces: index of the first face of each blob (its faces run to the next blob's first);
    blob_voxels: each blob's size in voxels; dust_blobs: how many blobs were dropped as dust.
    """

    vertices: np.ndarray
    faces: np.ndarray
    normals: np.ndarray
    units: str
    blob_faces: list[int] = field(default_factory=list)
    blob_voxels: list[int] = field(default_factory=list)
    dust_blobs: int = 0

    @property
    def area(self) -> float:
        """Surface area in units²."""
        a, b, c = (self.vertices[self.faces[:, i]].astype(np.float64) for i in range(3))
        return float(0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1).sum())

    @property
    def enclosed_volume(self) -> float:
        """Volume inside the surface in units³ (sum of signed tetrahedra; > 0 for outward faces)."""
        a, b, c = (self.vertices[self.faces[:, i]].astype(np.float64) for i in range(3))
        return float(np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6.0)


def check_mesh_options(level: float, dust_nm3: float, units: str) -> None:
    """:class:`UsageError` for a level outside (0, 1), a negative dust size or unknown units."""
    if not 0.0 < float(level) < 1.0:
        raise UsageError(f"--level must be between 0 and 1 (exclusive), got {level}",
                         "levels are on the 0..1 scale, also for 0..255 segmentations (0.5 = 128)")
    if not float(dust_nm3) >= 0.0:
        raise UsageError(f"--dust-nm3 must be 0 or more, got {dust_nm3}", "give a volume in nm³, e.g. 100")
    if units not in UNITS:
        raise UsageError(f"unknown units {units!r}", f"use one of: {', '.join(UNITS)}")


def _threshold(data: np.ndarray, cut: float) -> np.ndarray:
    """``data >= cut`` as a bool array, filled slab by slab (no float copy of the volume)."""
    mask = np.empty(data.shape, dtype=bool)
    step = 16
    for z, slab in enumerate(iter_slabs(data, step)):
        np.greater_equal(slab, cut, out=mask[z * step : z * step + slab.shape[0]])
    return mask


def _blob_sizes(labels: np.ndarray, count: int) -> np.ndarray:
    """Voxels per label (index 0 = background), counted slab by slab."""
    sizes = np.zeros(count + 1, dtype=np.int64)
    for slab in iter_slabs(labels):
        sizes += np.bincount(slab.ravel(), minlength=count + 1)
    return sizes


def _voxel_size_zyx(volume: Volume) -> np.ndarray:
    x, y, z = volume.header_voxel_size()
    return np.array([z, y, x], dtype=np.float64)


def _mesh_blob(data, labels, box, label, cut):
    """Marching cubes of one blob inside its bounding box (grown by one voxel and padded with
    zeros so the surface closes at the volume's edges). Returns voxel-index vertices (z, y, x)."""
    from skimage.measure import marching_cubes

    grown = tuple(slice(max(s.start - 1, 0), min(s.stop + 1, n)) for s, n in zip(box, data.shape))
    values = np.asarray(data[grown], dtype=np.float32)
    own = labels[grown]
    values[(own != label) & (own != 0)] = 0.0  # hide neighbouring blobs
    verts, faces, normals, _ = marching_cubes(np.pad(values, 1), level=cut, method="lewiner")
    offset = np.array([s.start - 1 for s in grown], dtype=np.float32)
    return verts + offset, faces, normals


def mesh_volume(volume: Volume, level: float = DEFAULT_LEVEL, dust_nm3: float = DEFAULT_DUST_NM3,
                units: str = "nm") -> Mesh:
    """Mesh a segmentation volume (see the module docstring). Raises :class:`AisError` when
    nothing is left to mesh, saying whether the level or the dust size removed everything."""
    from scipy import ndimage

    check_mesh_options(level, dust_nm3, units)
    data, scale = volume.data, probability_scale(volume.data)
    cut = float(level) * scale
    labels, count = ndimage.label(_threshold(data, cut), structure=np.ones((3, 3, 3)), output=np.int32)
    if count == 0:
        raise AisError(f"nothing to mesh: no voxel reaches level {level}",
                       "lower --level, or check that this is the segmentation you meant")
    spacing = _voxel_size_zyx(volume)
    sizes = _blob_sizes(labels, count)
    keep = np.flatnonzero(sizes[1:] * (spacing.prod() / 1000.0) >= dust_nm3) + 1
    if keep.size == 0:
        raise AisError(f"nothing to mesh: all {count} blobs are smaller than --dust-nm3 {dust_nm3:g} nm³",
                       f"the largest is {sizes[1:].max() * spacing.prod() / 1000.0:.4g} nm³; lower --dust-nm3")
    boxes = ndimage.find_objects(labels)
    parts = [_mesh_blob(data, labels, boxes[i - 1], i, cut) for i in keep]
    mesh = _assemble(parts, [int(sizes[i]) for i in keep], volume, spacing, units)
    mesh.dust_blobs = int(count - keep.size)
    return mesh


def _assemble(parts, blob_voxels, volume: Volume, spacing: np.ndarray, units: str) -> Mesh:
    """Join the blobs into one mesh in (x, y, z) physical coordinates, faces facing outward."""
    starts = np.cumsum([0] + [len(v) for v, _, _ in parts])
    face_starts = np.cumsum([0] + [len(f) for _, f, _ in parts])
    verts = np.concatenate([v for v, _, _ in parts]).astype(np.float64)
    faces = np.concatenate([f + s for (_, f, _), s in zip(parts, starts)]).astype(np.uint32)
    normals = np.concatenate([n for _, _, n in parts])[:, ::-1]
    xyz = verts[:, ::-1] * spacing[::-1] + np.asarray(volume.origin, dtype=np.float64)
    # scikit-image winds faces clockwise seen from outside in (z, y, x); reading them as (x, y, z)
    # mirrors space, which makes them counter-clockwise from outside, as OBJ, STL and glTF expect.
    return Mesh(
        vertices=(xyz / UNITS[units]).astype(np.float32),
        faces=faces,
        normals=_unit(normals / spacing[::-1]),
        units=units,
        blob_faces=[int(s) for s in face_starts[:-1]],
        blob_voxels=blob_voxels,
    )


def _unit(vectors: np.ndarray) -> np.ndarray:
    length = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(length > 0, length, 1.0)).astype(np.float32)


def mesh_segmentation(segmentation: str | os.PathLike, output: str | os.PathLike, level: float = DEFAULT_LEVEL,
                      dust_nm3: float = DEFAULT_DUST_NM3, units: str = "nm", pixel_size: float | None = None,
                      colour: str | None = None) -> dict:
    """Mesh a segmentation file into ``output`` (.obj, .stl or .glb, written atomically).

    Returns a summary: output path, feature, colour, units, vertex/face/blob counts, blobs
    dropped as dust, surface area (units²) and enclosed volume (units³).
    """
    from .colours import feature_colour, feature_name, parse_colour
    from .mesh_files import check_mesh_path, write_mesh

    output = Path(output)
    check_mesh_path(output)
    check_mesh_options(level, dust_nm3, units)
    volume = read_volume(segmentation, pixel_size=pixel_size)
    feature = feature_name(segmentation)
    colour = parse_colour(colour) if colour else feature_colour(feature)
    mesh = mesh_volume(volume, level=level, dust_nm3=dust_nm3, units=units)
    write_mesh(output, mesh, name=feature, colour=colour)
    return {
        "output": str(output), "segmentation": str(segmentation), "feature": feature, "colour": colour,
        "units": units, "level": level, "dust_nm3": dust_nm3, "vertices": int(len(mesh.vertices)),
        "faces": int(len(mesh.faces)), "blobs": len(mesh.blob_voxels), "dust_blobs": mesh.dust_blobs,
        "area": mesh.area, "volume": mesh.enclosed_volume,
    }
