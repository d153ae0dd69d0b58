"""Dynamo tables (.tbl): one particle per line, whitespace-separated numbers.

Columns used (1-based, as Dynamo numbers them): 1 tag, 2 aligned, 3 averaged, 4-6 shifts dx,
dy, dz (pixels), 7-9 Euler angles tdrot, tilt, narot (degrees, Dynamo's ZXZ), 10 cc (score),
20 tomo (tomogram index), 22 class, 23 annotation (filament id here), 24-26 x, y, z (pixels),
36 apix (Å per pixel, when present and > 0). A particle sits at (x + dx, y + dy, z + dz);
coordinates are taken as they are (no ±1), as copick and dynamotable do.

Angles: Dynamo's (tdrot, tilt, narot) and RELION's (rot, tilt, psi) describe one rotation as
rot = narot - 90, tilt = tilt, psi = tdrot + 90 (the same rotation matrix; the tests check it
with scipy, Dynamo's (tdrot, tilt, narot) being extrinsic z-x-z rotations).

Tomogram names: Dynamo keeps them in a table map (``.doc``: "index path" per line). Reading
uses ``table_map=`` or a ``.doc`` with the table's name beside it, else the index ("1", "2",
...). Writing numbers tomograms 1, 2, ... and writes that ``.doc`` beside the table.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ais_framework import hookimpl
from ais_framework.errors import InputFileError
from ais_framework.picks import Picks
from ais_framework.specs import CoordinateFormatSpec

COLUMNS = 36
TAG, DX, TDROT, CC, TOMO, CLASS, ANNOTATION, X, APIX = 0, 3, 6, 9, 19, 21, 22, 23, 35
HINT = "a Dynamo table has at least 26 numbers per line (x, y, z in columns 24-26)"


def _wrap(angles: np.ndarray) -> np.ndarray:
    return (np.asarray(angles, dtype=float) + 180.0) % 360.0 - 180.0


def dynamo_to_relion(angles: np.ndarray) -> np.ndarray:
    """(N, 3) Dynamo (tdrot, tilt, narot) -> RELION (rot, tilt, psi), degrees: (narot - 90, tilt, tdrot + 90)."""
    angles = np.asarray(angles, dtype=float).reshape(-1, 3)
    return np.stack([_wrap(angles[:, 2] - 90.0), angles[:, 1], _wrap(angles[:, 0] + 90.0)], axis=1)


def relion_to_dynamo(angles: np.ndarray) -> np.ndarray:
    """(N, 3) RELION (rot, tilt, psi) -> Dynamo (tdrot, tilt, narot), degrees: (psi - 90, tilt, rot + 90)."""
    angles = np.asarray(angles, dtype=float).reshape(-1, 3)
    return np.stack([_wrap(angles[:, 2] - 90.0), angles[:, 1], _wrap(angles[:, 0] + 90.0)], axis=1)


def _load(path: Path) -> np.ndarray:
    if not path.read_bytes().strip():
        return np.zeros((0, COLUMNS))
    try:
        rows = np.loadtxt(path, ndmin=2, dtype=float)
    except ValueError as exc:
        raise InputFileError(f"{path}: not a Dynamo table: {exc}", HINT) from exc
    if rows.size and rows.shape[1] < X + 3:
        raise InputFileError(f"{path}: not a Dynamo table: {rows.shape[1]} columns per line", HINT)
    if not np.isfinite(rows).all():
        raise InputFileError(f"{path}: not a Dynamo table: it holds NaN or infinite values", HINT)
    return rows.reshape(-1, max(rows.shape[1], X + 3)) if rows.size else np.zeros((0, COLUMNS))


def _table_map(path: Path, table_map: str | Path | None) -> dict[int, str]:
    source = Path(table_map) if table_map is not None else path.with_suffix(".doc")
    if not source.is_file():
        if table_map is not None:
            raise InputFileError(f"{source}: no such table map", "give the Dynamo .doc file (index and path per line)")
        return {}
    names = {}
    for line in source.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2 and parts[0].lstrip("-").isdigit():
            names[int(parts[0])] = parts[1].strip()
    return names


def read_tbl(path: Path, pixel_size: float | None = None, table_map: str | Path | None = None,
             **_options) -> list[Picks]:
    """One :class:`Picks` per tomogram index of a Dynamo table."""
    path = Path(path)
    rows = _load(path)
    names = _table_map(path, table_map)
    apix = rows[:, APIX] if rows.shape[1] > APIX else np.zeros(len(rows))
    picks = []
    for index in dict.fromkeys(rows[:, TOMO].astype(int)):
        part = rows[rows[:, TOMO].astype(int) == index]
        picks.append(_picks(part, names.get(index, str(index)), pixel_size or _apix(apix[rows[:, TOMO] == index])))
    return picks


def _apix(values: np.ndarray) -> float | None:
    positive = values[values > 0]
    return float(positive[0]) if len(positive) else None


def _picks(part: np.ndarray, name: str, ps: float | None) -> Picks:
    xyz = part[:, X : X + 3] + part[:, DX : DX + 3]
    rot, tilt, psi = dynamo_to_relion(part[:, TDROT : TDROT + 3]).T
    filaments = part[:, ANNOTATION].astype(np.int64)
    return Picks(x=xyz[:, 0], y=xyz[:, 1], z=xyz[:, 2], pixel_size_A=ps, tomogram=name, score=part[:, CC],
                 rot=rot, tilt=tilt, psi=psi, filament_id=filaments if filaments.any() else None)


def write_tbl(path: Path, picks_list: list[Picks], **_options) -> dict[str, str]:
    """The table; returns the table map ``.doc`` text for the framework to write beside it."""
    tables = [_rows(p, index + 1) for index, p in enumerate(picks_list)]
    rows = np.concatenate(tables) if tables else np.zeros((0, COLUMNS))
    rows[:, TAG] = np.arange(1, len(rows) + 1)
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(" ".join(_number(v) for v in row) + "\n")
    return {".doc": "".join(f"{i + 1}\t{p.tomogram}\n" for i, p in enumerate(picks_list))}


def _rows(picks: Picks, index: int) -> np.ndarray:
    rows = np.zeros((len(picks), COLUMNS))
    rows[:, 1:3] = 1  # aligned, averaged
    if picks.has_angles:
        rows[:, TDROT : TDROT + 3] = relion_to_dynamo(picks.angles())
    rows[:, CC] = np.nan_to_num(picks.score, nan=0.0)
    rows[:, TOMO], rows[:, CLASS] = index, 1
    if picks.filament_id is not None:
        rows[:, ANNOTATION] = picks.filament_id
    rows[:, X : X + 3] = picks.xyz
    rows[:, APIX] = picks.pixel_size_A or 0.0
    return rows


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.6f}".rstrip("0").rstrip(".")


@hookimpl
def ais_fw_coordinate_formats():
    return [
        CoordinateFormatSpec(
            name="tbl",
            title="Dynamo table",
            extensions=(".tbl",),
            read=read_tbl,
            write=write_tbl,
            description="pixels (x+dx, y+dy, z+dz), ZXZ angles converted to RELION's, cc as score, tomogram map .doc",
        )
    ]
