"""Plain tables of picks: CSV (``.csv``) and tab-separated (``.tsv``, ``.txt``).

Written columns: ``tomogram, x, y, z`` (pixels), ``x_A, y_A, z_A`` (Å, when the pixel size is
known), ``score``, then ``rot, tilt, psi`` (RELION ZYZ degrees) and ``filament_id`` when the
picks have them. Reading accepts any column order and case, and:

* positions as ``x, y, z`` (pixels), or ``x_A, y_A, z_A`` (Å) or ``x_nm, y_nm, z_nm`` (nm),
  which need a pixel size: given, or a ``pixel_size_A`` column, or the ratio of Å to pixel
  columns when both are present (the synthetic ground-truth CSVs of ``ais-fw synth``);
* the tomogram from a ``tomogram``, ``tomo``, ``tomo_name`` or ``file`` column (else the file
  name); several tomograms per file are fine;
* files without a header (Ais's ``x<TAB>y<TAB>z`` lists): the first three columns are x, y, z.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from ais_framework import hookimpl
from ais_framework.errors import InputFileError
from ais_framework.picks import Picks
from ais_framework.specs import CoordinateFormatSpec

TOMOGRAM_COLUMNS = ("tomogram", "tomo", "tomo_name", "file")
UNITS = {"": 1.0, "_px": 1.0, "_a": None, "_nm": 10.0}  # None: Å
NUMERIC = {axis + suffix for axis in "xyz" for suffix in UNITS} | {
    "score", "rot", "tilt", "psi", "filament_id", "pixel_size_a"}
HINT = "a pick table has a header with x, y, z (pixels) or x_A, y_A, z_A (Å) columns"


def _delimiter(path: Path) -> str:
    return "," if Path(path).suffix.lower() == ".csv" else "\t"


def _rows(path: Path) -> list[list[str]]:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(f"{path}: not a text table: {exc}", HINT) from exc
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    delimiter = _delimiter(path)
    if delimiter == "\t" and lines and "\t" not in lines[0] and len(lines[0].split()) > 1:
        return [line.split() for line in lines]  # whitespace-separated .txt
    return [[cell.strip() for cell in row] for row in csv.reader(lines, delimiter=delimiter)]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _floats(rows: list[list[str]], index: int, name: str, path: Path) -> np.ndarray:
    try:
        return np.array([float(row[index]) if row[index] != "" else np.nan for row in rows])
    except (ValueError, IndexError) as exc:
        raise InputFileError(f"{path}: column {name} holds something that is not a number ({exc})", HINT) from exc


def read_table(path: Path, pixel_size: float | None = None, **_options) -> list[Picks]:
    path = Path(path)
    rows = _rows(path)
    if not rows:
        return []
    if all(_is_number(c) for c in rows[0][:3]):
        header, body = ["x", "y", "z"] + [f"column{i}" for i in range(3, len(rows[0]))], rows
    else:
        header, body = [c.lower() for c in rows[0]], rows[1:]
    columns = {name: i for i, name in enumerate(header)}
    values = {name: _floats(body, i, name, path) for name, i in columns.items() if name in NUMERIC}
    xyz, ps = _positions(values, pixel_size, path, header)
    names = _names(body, columns, path)
    order = list(dict.fromkeys(names))
    return [_picks(values, xyz, np.array([n == name for n in names]), name, ps) for name in order]


def _positions(values: dict, pixel_size: float | None, path: Path, header: list[str]) -> tuple[np.ndarray, float | None]:
    ps = pixel_size or _pixel_size_column(values) or _ratio(values)
    for suffix, scale in UNITS.items():
        names = [axis + suffix for axis in "xyz"]
        if all(n in values for n in names):
            xyz = np.stack([values[n] for n in names], axis=1)
            if scale == 1.0:
                return xyz, ps
            if ps is None:
                raise InputFileError(f"{path}: positions are in {'Å' if scale is None else 'nm'} but the pixel "
                                     "size is unknown", "pass --pixel-size in Å")
            return xyz * (scale or 1.0) / ps, ps
    raise InputFileError(f"{path}: no x, y, z columns (found: {', '.join(header) or 'none'})", HINT)


def _pixel_size_column(values: dict) -> float | None:
    column = values.get("pixel_size_a")
    return float(column[0]) if column is not None and len(column) and column[0] > 0 else None


def _ratio(values: dict) -> float | None:
    if "x" not in values or "x_a" not in values:
        return None
    usable = np.abs(values["x"]) > 1e-6
    if not usable.any():
        return None
    return float(np.round(np.median(values["x_a"][usable] / values["x"][usable]), 4))


def _names(body: list[list[str]], columns: dict, path: Path) -> list[str]:
    for name in TOMOGRAM_COLUMNS:
        if name in columns:
            return [row[columns[name]] if columns[name] < len(row) else "" for row in body]
    return [path.stem] * len(body)


def _picks(values: dict, xyz: np.ndarray, rows: np.ndarray, name: str, ps: float | None) -> Picks:
    angles = [values[a][rows] if a in values else None for a in ("rot", "tilt", "psi")]
    if any(a is None for a in angles):
        angles = [None] * 3
    filament = values.get("filament_id")
    return Picks(x=xyz[rows, 0], y=xyz[rows, 1], z=xyz[rows, 2], pixel_size_A=ps, tomogram=name,
                 score=values["score"][rows] if "score" in values else None,
                 rot=angles[0], tilt=angles[1], psi=angles[2],
                 filament_id=None if filament is None else filament[rows].astype(np.int64))


def write_table(path: Path, picks_list: list[Picks], **_options) -> None:
    with_angles = any(p.has_angles for p in picks_list)
    with_filaments = any(p.filament_id is not None for p in picks_list)
    with_A = bool(picks_list) and all(p.pixel_size_A for p in picks_list)
    header = ["tomogram", "x", "y", "z", *(["x_A", "y_A", "z_A"] if with_A else []), "score",
              *(["rot", "tilt", "psi"] if with_angles else []), *(["filament_id"] if with_filaments else [])]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=_delimiter(path), lineterminator="\n")
        writer.writerow(header)
        for picks in picks_list:
            writer.writerows(_lines(picks, with_A, with_angles, with_filaments))


def _lines(picks: Picks, with_A: bool, with_angles: bool, with_filaments: bool):
    angles = picks.angles()
    for i in range(len(picks)):
        xyz = picks.xyz[i]
        row = [picks.tomogram, *(_text(v) for v in xyz)]
        if with_A:
            row += [_text(v * picks.pixel_size_A) for v in xyz]
        row.append("" if math.isnan(picks.score[i]) else _text(picks.score[i]))
        if with_angles:
            row += [_text(v) for v in angles[i]] if angles is not None else ["", "", ""]
        if with_filaments:
            row.append(str(int(picks.filament_id[i])) if picks.filament_id is not None else "")
        yield row


def _text(value: float) -> str:
    return f"{float(value):.6f}".rstrip("0").rstrip(".") or "0"


@hookimpl
def ais_fw_coordinate_formats():
    common = dict(read=read_table, write=write_table)
    return [
        CoordinateFormatSpec(name="csv", title="CSV table of picks", extensions=(".csv",),
                             description="tomogram, x, y, z (pixels), x_A, y_A, z_A (Å), score, angles", **common),
        CoordinateFormatSpec(name="tsv", title="tab-separated table of picks", extensions=(".tsv", ".txt"),
                             description="as csv with tabs; also reads Ais's headerless x y z lists", **common),
    ]
