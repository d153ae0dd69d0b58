"""RELION 5 tomography particle STAR files: rlnTomoName + rlnCenteredCoordinateX/Y/ZAngst.

RELION 5 gives positions in Å from the centre of the tomogram: centred = pixel x pixel size -
size x pixel size / 2 (the centre of a 200-pixel axis is at pixel 100). Converting to pixels
therefore needs each tomogram's size and pixel size, which RELION keeps in ``tomograms.star``
(``data_global``: rlnTomoName, rlnTomoSizeX/Y/Z in tilt-series pixels,
rlnTomoTiltSeriesPixelSize, rlnTomoTomogramBinning). They are looked for, in order, in:
the ``tomograms=`` file given; a ``global`` block in the particle file itself (files written
here have one); a ``*tomograms*.star`` beside the particle file that lists the tomogram.
The picks' pixel size is the one given, else tilt-series pixel size x binning.
Shifts (rlnOriginX/Y/ZAngst) and subtomogram angles (rlnTomoSubtomogramRot/Tilt/Psi) are
folded into positions and angles as RELION does.

Writing gives a ``particles`` block (rlnTomoName, centred coordinates in Å, rlnAngleRot/Tilt/
Psi, rlnAutopickFigureOfMerit, rlnHelicalTubeID) and a ``global`` block in ``tomograms.star``
layout (size in pixels of the picked tomogram, its pixel size, binning 1), which RELION
ignores when reading particles. The picks must know their tomogram's shape and pixel size.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ais_framework import hookimpl
from ais_framework.errors import InputFileError, UsageError
from ais_framework.picks import Picks, tomogram_stem
from ais_framework.specs import CoordinateFormatSpec

from . import _star

CENTRED = ("rlnCenteredCoordinateXAngst", "rlnCenteredCoordinateYAngst", "rlnCenteredCoordinateZAngst")
SIZES = ("rlnTomoSizeX", "rlnTomoSizeY", "rlnTomoSizeZ")
HINT = ("RELION 5 particle files have rlnTomoName and rlnCenteredCoordinateX/Y/ZAngst; "
        "files with rlnCoordinateX/Y/Z are read with --format star")
GEOMETRY_HINT = "give RELION's tomograms.star (tomograms=... / --tomograms), or put it beside the particle file"


def read_relion5(path: Path, pixel_size: float | None = None, tomograms: str | Path | None = None,
                 **_options) -> list[Picks]:
    """One :class:`Picks` per tomogram of a RELION 5 particle file."""
    path = Path(path)
    blocks = _star.read_blocks(path)
    table = _star.loop_with(blocks, CENTRED[0])
    if table is None:
        raise InputFileError(f"{path}: has no particle table (no loop_ block)", HINT)
    _star.require_columns(table, (*CENTRED, "rlnTomoName"), path, HINT)
    if len(table) == 0:
        return []
    centred = _star.numbers(table, CENTRED, path)
    angles, shifts_A = _star.poses(table, path)
    names = _star.tomogram_names(table, path)
    geometry = _geometry(path, blocks, tomograms, sorted(set(names)))
    return [_picks(table, rows, centred - shifts_A, angles, name, geometry[name], pixel_size, path)
            for name, rows in _star.groups(names)]


def _picks(table, rows, centred, angles, name, geometry, pixel_size, path) -> Picks:
    size_px, ts_ps, binning = geometry
    ps = pixel_size or ts_ps * binning
    xyz = (centred[rows] + size_px * ts_ps / 2.0) / ps
    shape_xyz = np.rint(size_px * ts_ps / ps).astype(int)
    rot, tilt, psi = (None, None, None) if angles is None else angles[rows].T
    return Picks(x=xyz[:, 0], y=xyz[:, 1], z=xyz[:, 2], pixel_size_A=ps, tomogram=name, rot=rot, tilt=tilt,
                 psi=psi, tomogram_shape=tuple(shape_xyz[::-1]), **_star.extras(table, rows, path))


def _geometry(path: Path, blocks: dict, tomograms, names: list[str]) -> dict:
    """tomogram name -> (size x, y, z in tilt-series pixels, tilt-series pixel size, binning)."""
    sources = [Path(tomograms)] if tomograms is not None else [path, *sorted(path.parent.glob("*tomograms*.star"))]
    found: dict = {}
    for source in sources:
        table = _global_table(blocks if source == path else _star.read_blocks(source), source)
        if table is not None:
            for name in names:
                found.setdefault(name, _row_geometry(table, name, source))
        if all(found.get(n) is not None for n in names):
            return found
    missing = [n for n in names if found.get(n) is None]
    where = f"in {tomograms}" if tomograms is not None else "in the file or a tomograms.star beside it"
    raise InputFileError(f"{path}: no size and pixel size of tomogram {', '.join(missing[:5])} {where}; "
                         "RELION 5 centred coordinates need them", GEOMETRY_HINT)


def _global_table(blocks: dict, source: Path):
    table = blocks.get("global")
    if table is None or not hasattr(table, "columns"):
        return None
    if not all(c in table.columns for c in (*SIZES, "rlnTomoName", "rlnTomoTiltSeriesPixelSize")):
        return None
    return table


def _row_geometry(table, name: str, source: Path):
    tomo_names = table["rlnTomoName"].astype(str)
    rows = np.flatnonzero((tomo_names == name).to_numpy())
    if len(rows) == 0:
        rows = np.flatnonzero(tomo_names.map(tomogram_stem).to_numpy() == tomogram_stem(name))
    if len(rows) == 0:
        return None
    row = table.iloc[rows[:1]]
    size = _star.numbers(row, SIZES, source)[0]
    ts_ps = float(_star.numbers(row, ("rlnTomoTiltSeriesPixelSize",), source)[0, 0])
    binning = 1.0
    if "rlnTomoTomogramBinning" in table.columns:
        binning = float(_star.numbers(row, ("rlnTomoTomogramBinning",), source)[0, 0])
    if not (size > 0).all() or ts_ps <= 0 or binning <= 0:
        return None
    return size, ts_ps, binning


def write_relion5(path: Path, picks_list: list[Picks], **_options) -> None:
    """Particles in RELION 5 centred Å coordinates, plus their tomograms' geometry."""
    particles = [_star.frame(_particle_columns(p)) for p in picks_list]
    empty = {"rlnTomoName": [], **{c: np.zeros(0) for c in CENTRED}}
    blocks = {"particles": _star.concat(particles) if particles else _star.frame(empty)}
    blocks["global"] = _star.frame(_geometry_columns(picks_list), strings=("rlnTomoName",))
    _star.write_blocks(Path(path), blocks)


def _shape_and_size(picks: Picks) -> tuple[np.ndarray, float]:
    if picks.tomogram_shape is None:
        raise UsageError(f"picks of '{picks.tomogram}' do not know their tomogram's shape, which RELION 5 "
                         "centred coordinates need", "pick from the segmentation, or write --format star")
    return np.asarray(picks.tomogram_shape[::-1], dtype=float), picks.require_pixel_size()


def _particle_columns(picks: Picks) -> dict:
    shape_xyz, ps = _shape_and_size(picks)
    centred = (picks.xyz - shape_xyz / 2.0) * ps
    columns = {"rlnTomoName": np.full(len(picks), picks.tomogram, dtype=object)}
    columns.update({name: centred[:, i] for i, name in enumerate(CENTRED)})
    columns.update(_star.pick_columns(picks))
    return columns


def _geometry_columns(picks_list: list[Picks]) -> dict:
    unique = {p.tomogram: p for p in picks_list}.values()
    shapes = [_shape_and_size(p) for p in unique]
    return {
        "rlnTomoName": [p.tomogram for p in unique],
        **{name: np.array([s[0][i] for s in shapes], dtype=int) for i, name in enumerate(SIZES)},
        "rlnTomoTiltSeriesPixelSize": np.array([s[1] for s in shapes], dtype=float),
        "rlnTomoTomogramBinning": np.ones(len(shapes)),
    }


def detect_relion5(path: Path) -> bool:
    with open(path, "rb") as handle:
        return b"rlnCenteredCoordinateXAngst" in handle.read(1 << 18)


@hookimpl
def ais_fw_coordinate_formats():
    return [
        CoordinateFormatSpec(
            name="relion5",
            title="RELION 5 tomography particle STAR (rlnCenteredCoordinateX/Y/ZAngst)",
            extensions=(".star",),
            read=read_relion5,
            write=write_relion5,
            detect=detect_relion5,
            description="Å from the tomogram centre, with rlnTomoName; tomogram sizes from tomograms.star",
        )
    ]
