"""RELION 3/4 particle STAR files: rlnCoordinateX/Y/Z in pixels and rlnMicrographName (or rlnTomoName).

Reading takes the ``particles`` loop (or the first loop with rlnCoordinateX), groups rows by
rlnTomoName (else rlnMicrographName, else the file name) and subtracts the shifts RELION
refinements leave in rlnOriginX/Y/ZAngst (Å) or rlnOriginX/Y/Z (pixels). The pixel size is
the one given, else the optics block's rlnTomoTiltSeriesPixelSize (RELION 4: coordinates are
in tilt-series pixels) or rlnMicrographPixelSize, else unknown.

Writing gives what RELION 4 and Ais-style tools expect: an ``optics`` block with
rlnMicrographPixelSize (when the pixel size is known) and a ``particles`` block with
rlnCoordinateX/Y/Z (pixels of the picked tomogram), rlnMicrographName and rlnTomoName (the
tomogram), rlnAngleRot/Tilt/Psi when the picks have angles, rlnAutopickFigureOfMerit (score)
and rlnHelicalTubeID (filament). RELION 4's own importer wants coordinates in unbinned
tilt-series pixels: pass ``coordinate_pixel_size=`` (Å) to write them at that pixel size.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ais_framework import hookimpl
from ais_framework.errors import InputFileError
from ais_framework.picks import Picks
from ais_framework.specs import CoordinateFormatSpec

from . import _star

COORDINATES = ("rlnCoordinateX", "rlnCoordinateY", "rlnCoordinateZ")
PIXEL_SIZES = ("rlnTomoTiltSeriesPixelSize", "rlnMicrographPixelSize")
HINT = ("RELION 3/4 particle files have rlnCoordinateX/Y/Z in pixels; "
        "RELION 5 files with rlnCenteredCoordinateX/Y/ZAngst are read with --format relion5")


def read_star(path: Path, pixel_size: float | None = None, **_options) -> list[Picks]:
    """One :class:`Picks` per tomogram of a RELION 3/4 particle file."""
    path = Path(path)
    blocks = _star.read_blocks(path)
    table = _star.loop_with(blocks, COORDINATES[0])
    if table is None:
        raise InputFileError(f"{path}: has no particle table (no loop_ block)", HINT)
    _star.require_columns(table, COORDINATES, path, HINT)
    ps = pixel_size or _star.ps_from_optics(blocks, PIXEL_SIZES)
    xyz = _star.numbers(table, COORDINATES, path)
    angles, shifts_A = _star.poses(table, path)
    xyz -= _star.pixel_shifts(table, path)
    if np.any(shifts_A):
        if ps is None:
            raise InputFileError(f"{path}: particles have shifts in Å (rlnOriginXAngst, ...) but no pixel size",
                                 "pass the pixel size of the coordinates in Å (--pixel-size)")
        xyz -= shifts_A / ps
    names = _star.tomogram_names(table, path)
    return [_picks(table, rows, xyz, angles, name, ps, path) for name, rows in _star.groups(names)]


def _picks(table, rows, xyz, angles, name, ps, path) -> Picks:
    rot, tilt, psi = (None, None, None) if angles is None else angles[rows].T
    return Picks(x=xyz[rows, 0], y=xyz[rows, 1], z=xyz[rows, 2], pixel_size_A=ps, tomogram=name,
                 rot=rot, tilt=tilt, psi=psi, **_star.extras(table, rows, path))


def write_star(path: Path, picks_list: list[Picks], coordinate_pixel_size: float | None = None,
               **_options) -> None:
    """A RELION 3/4 particle file with an optics group per pixel size."""
    sizes = sorted({p.pixel_size_A for p in picks_list if p.pixel_size_A is not None})
    tables = [_star.frame(_particle_columns(p, sizes, coordinate_pixel_size)) for p in picks_list]
    blocks: dict = {}
    if sizes:
        out_sizes = [coordinate_pixel_size] * len(sizes) if coordinate_pixel_size else sizes
        blocks["optics"] = _star.frame({
            "rlnOpticsGroup": np.arange(1, len(sizes) + 1),
            "rlnOpticsGroupName": [f"opticsGroup{i + 1}" for i in range(len(sizes))],
            "rlnMicrographPixelSize": np.asarray(out_sizes, dtype=float),
        }, strings=("rlnOpticsGroupName",))
    blocks["particles"] = _star.concat(tables) if tables else _star.frame(_empty())
    _star.write_blocks(Path(path), blocks)


def _empty() -> dict:
    return {**{c: np.zeros(0) for c in COORDINATES}, "rlnMicrographName": [], "rlnTomoName": []}


def _particle_columns(picks: Picks, sizes: list[float], coordinate_pixel_size: float | None) -> dict:
    scale = 1.0
    if coordinate_pixel_size is not None:
        scale = picks.require_pixel_size() / coordinate_pixel_size
    columns = {name: values * scale for name, values in zip(COORDINATES, (picks.x, picks.y, picks.z))}
    columns["rlnMicrographName"] = np.full(len(picks), picks.tomogram, dtype=object)
    columns["rlnTomoName"] = np.full(len(picks), picks.tomogram, dtype=object)
    columns.update(_star.pick_columns(picks))
    if sizes:
        group = sizes.index(picks.pixel_size_A) + 1 if picks.pixel_size_A in sizes else 1
        columns["rlnOpticsGroup"] = np.full(len(picks), group)
    return columns


def detect_star(path: Path) -> bool:
    """True for particle files with pixel coordinates and no RELION 5 centred ones."""
    head = _head(path)
    return "rlnCoordinateX" in head and "rlnCenteredCoordinateXAngst" not in head


def _head(path: Path, size: int = 1 << 18) -> str:
    with open(path, "rb") as handle:
        return handle.read(size).decode("utf-8", errors="replace")


@hookimpl
def ais_fw_coordinate_formats():
    return [
        CoordinateFormatSpec(
            name="star",
            title="RELION 3/4 particle STAR (rlnCoordinateX/Y/Z, pixels)",
            extensions=(".star",),
            read=read_star,
            write=write_star,
            detect=detect_star,
            description="coordinates in pixels with rlnMicrographName/rlnTomoName; angles, score, filament id",
        )
    ]
