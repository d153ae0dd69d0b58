"""What the RELION STAR coordinate formats share: reading blocks, finding columns, poses, writing.

RELION's Euler angles (rlnAngleRot/Tilt/Psi) are kept as they are. Where a file also has
subtomogram angles (rlnTomoSubtomogramRot/Tilt/Psi, RELION 5 filaments), the two rotations are
composed as RELION does (subtomogram frame times particle frame) and the result written back
as one triple. Shifts rlnOriginX/Y/ZAngst (Å, RELION 3.1+) or rlnOriginX/Y/Z (pixels,
RELION 3.0) are subtracted from the coordinates, as RELION does when it extracts particles.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ais_framework.errors import InputFileError
from ais_framework.picks import Picks

ANGLES = ("rlnAngleRot", "rlnAngleTilt", "rlnAnglePsi")
SUBTOMOGRAM_ANGLES = ("rlnTomoSubtomogramRot", "rlnTomoSubtomogramTilt", "rlnTomoSubtomogramPsi")
ORIGINS_A = ("rlnOriginXAngst", "rlnOriginYAngst", "rlnOriginZAngst")
ORIGINS_PX = ("rlnOriginX", "rlnOriginY", "rlnOriginZ")
SCORE = "rlnAutopickFigureOfMerit"
FILAMENT = "rlnHelicalTubeID"
STAR_HINT = "check that it is a STAR file (RELION, Warp, starfile) and that it is complete"


def read_blocks(path: Path) -> dict:
    """Every data block of a STAR file, by name (loops as pandas DataFrames, others as dicts)."""
    import starfile

    try:
        return starfile.read(path, always_dict=True, parse_as_string=["rlnTomoName", "rlnMicrographName"])
    except Exception as exc:  # starfile raises many kinds of errors on bad text
        raise InputFileError(f"{path}: cannot be read as a STAR file: {exc}", STAR_HINT) from exc


def loop_with(blocks: dict, column: str, prefer: str = "particles"):
    """The loop block named ``prefer`` if it exists, else the first loop that has ``column``."""
    loops = {name: block for name, block in blocks.items() if hasattr(block, "columns")}
    if prefer in loops:
        return loops[prefer]
    for block in loops.values():
        if column in block.columns:
            return block
    return next(iter(loops.values()), None)


def require_columns(table, columns: tuple[str, ...], path: Path, hint: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InputFileError(f"{path}: the particle table has no column{'s' if len(missing) > 1 else ''} "
                             f"{', '.join(missing)}", hint)


def numbers(table, columns: tuple[str, ...], path: Path, allow_nan: bool = False) -> np.ndarray:
    """(N, len(columns)) float array; a non-numeric cell is an error naming its column."""
    import pandas as pd

    out = np.empty((len(table), len(columns)))
    for i, name in enumerate(columns):
        values = pd.to_numeric(table[name], errors="coerce").to_numpy(dtype=float)
        if np.isnan(values).any() and not allow_nan:
            row = int(np.flatnonzero(np.isnan(values))[0])
            raise InputFileError(f"{path}: {name} of particle {row + 1} is not a number: {table[name].iloc[row]!r}",
                                 STAR_HINT)
        out[:, i] = values
    return out


def tomogram_names(table, path: Path) -> np.ndarray:
    """The tomogram of each row: rlnTomoName, else rlnMicrographName, else the file's stem."""
    for column in ("rlnTomoName", "rlnMicrographName"):
        if column in table.columns:
            return table[column].astype(str).to_numpy()
    return np.full(len(table), Path(path).stem, dtype=object)


def groups(names: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(name, row indices) for each distinct name, in order of first appearance."""
    _, first, inverse = np.unique(names, return_index=True, return_inverse=True)
    order = np.argsort(first)
    return [(str(names[first[k]]), np.flatnonzero(inverse == k)) for k in order]


def poses(table, path: Path) -> tuple[np.ndarray | None, np.ndarray]:
    """(N, 3) RELION angles (subtomogram frame folded in) or None, and (N, 3) x, y, z shifts in Å."""
    n = len(table)
    has_angles = all(c in table.columns for c in ANGLES)
    subtomogram = _rotations(table, SUBTOMOGRAM_ANGLES, path)
    shifts = numbers(table, ORIGINS_A, path) if all(c in table.columns for c in ORIGINS_A) else np.zeros((n, 3))
    if subtomogram is None:  # angles as written
        return (numbers(table, ANGLES, path) if has_angles else None), shifts
    particle = _rotations(table, ANGLES, path)
    total = subtomogram if particle is None else subtomogram @ particle
    return _eulers(total), np.einsum("nij,nj->ni", subtomogram, shifts)


def pixel_shifts(table, path: Path) -> np.ndarray:
    """RELION 3.0 shifts rlnOriginX/Y/Z in pixels (zeros when absent)."""
    if all(c in table.columns for c in ORIGINS_PX):
        return numbers(table, ORIGINS_PX, path)
    return np.zeros((len(table), 3))


def _rotations(table, columns, path) -> np.ndarray | None:
    """RELION's matrices (N, 3, 3) for an Euler triple, or None without those columns."""
    from scipy.spatial.transform import Rotation

    if not all(c in table.columns for c in columns):
        return None
    angles = numbers(table, columns, path)
    return Rotation.from_euler("ZYZ", angles, degrees=True).inv().as_matrix().reshape(-1, 3, 3)


def _eulers(matrices: np.ndarray) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    import warnings

    if len(matrices) == 0:
        return np.zeros((0, 3))
    with warnings.catch_warnings():  # tilt 0 or 180: rot and psi are one angle, scipy says so
        warnings.simplefilter("ignore", UserWarning)
        return Rotation.from_matrix(matrices).inv().as_euler("ZYZ", degrees=True)


def extras(table, rows: np.ndarray, path: Path) -> dict:
    """score and filament_id keyword arguments for :class:`Picks` from the rows' own columns."""
    found: dict = {}
    for column in (SCORE, "aisScore"):
        if column in table.columns:
            found["score"] = numbers(table.iloc[rows], (column,), path, allow_nan=True)[:, 0]
            break
    if FILAMENT in table.columns:
        found["filament_id"] = numbers(table.iloc[rows], (FILAMENT,), path)[:, 0].astype(np.int64)
    return found


def pick_columns(picks: Picks) -> dict:
    """Angle, score and filament columns for a particle table (only those the picks have)."""
    columns: dict = {}
    if picks.has_angles:
        columns.update(zip(ANGLES, (picks.rot, picks.tilt, picks.psi)))
    if not np.isnan(picks.score).all() or len(picks) == 0:
        columns[SCORE] = picks.score
    if picks.filament_id is not None:
        columns[FILAMENT] = picks.filament_id
    return columns


def frame(columns: dict, strings: tuple[str, ...] = ("rlnTomoName", "rlnMicrographName")):
    """A DataFrame whose empty string columns stay strings (a valid, empty loop)."""
    import pandas as pd

    return pd.DataFrame({name: pd.Series(values, dtype=object if name in strings else None)
                         for name, values in columns.items()})


def concat(frames: list):
    """Particle tables of several tomograms as one (columns missing in some are left empty)."""
    import pandas as pd

    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def write_blocks(path: Path, blocks: dict) -> None:
    import starfile

    starfile.write(blocks, path, overwrite=True, float_format="%.6f")


def ps_from_optics(blocks: dict, names: tuple[str, ...]) -> float | None:
    """The first positive pixel size found in the optics block (or a simple block) under ``names``."""
    for block in blocks.values():
        for name in names:
            value = _first_value(block, name)
            if value is not None:
                return value
    return None


def _first_value(block, name: str) -> float | None:
    try:
        value = float(block[name].iloc[0] if hasattr(block, "columns") else block[name])
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    return value if np.isfinite(value) and value > 0 else None
