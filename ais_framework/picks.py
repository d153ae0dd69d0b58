"""Picks: a table of particle positions in one tomogram, and reading/writing it in any coordinate format.

Conventions (every format plugin converts to and from these):

* ``x``, ``y``, ``z`` are in **pixels of the original tomogram**, 0-based, voxel centres at
  integers: pick ``(z, y, x)`` lies on array element ``data[round(z), round(y), round(x)]``.
  Position in Å = pixel x ``pixel_size_A`` (the MRC origin not added).
* ``rot``, ``tilt``, ``psi``: Euler angles in degrees, ZYZ, as RELION defines rlnAngleRot,
  rlnAngleTilt, rlnAnglePsi: RELION's matrix is Rz(psi)·Ry(tilt)·Rz(rot) (in scipy:
  ``Rotation.from_euler("ZYZ", [rot, tilt, psi], degrees=True).inv()``), which rotates the
  particle onto the reference; all three or none.
* ``score``: higher is better; NaN where a file gives none.
* ``filament_id``: which filament a pick belongs to (filament picker), else None.
* ``tomogram_shape``: (Z, Y, X) pixels of the tomogram, when known; RELION 5 centred
  coordinates need it.

``read_picks`` / ``write_picks`` choose the coordinate-format plugin by name (``fmt``) or by
file extension, and writes are atomic. A file may hold several tomograms: ``read_picks_all``
returns one :class:`Picks` per tomogram, ``read_picks`` the one asked for (or the only one).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from .atomic import atomic_path, write_text_atomic
from .errors import InputFileError, UnknownNameError, UsageError

ANGLE_NAMES = ("rot", "tilt", "psi")


def _column(values: Any, dtype=np.float64) -> np.ndarray:
    return np.asarray(values if values is not None else [], dtype=dtype).reshape(-1)


@dataclass
class Picks:
    """Particle picks in one tomogram (see the module docstring for units and conventions)."""

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    pixel_size_A: float | None = None
    tomogram: str = ""
    score: np.ndarray | None = None
    rot: np.ndarray | None = None
    tilt: np.ndarray | None = None
    psi: np.ndarray | None = None
    filament_id: np.ndarray | None = None
    tomogram_shape: tuple[int, int, int] | None = None
    feature: str = ""
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.x, self.y, self.z = (_column(v) for v in (self.x, self.y, self.z))
        n = len(self.x)
        if len(self.y) != n or len(self.z) != n:
            raise UsageError(f"picks need as many x, y and z values, got {n}, {len(self.y)}, {len(self.z)}")
        self.score = np.full(n, np.nan) if self.score is None else _column(self.score)
        angles = [a is not None for a in (self.rot, self.tilt, self.psi)]
        if any(angles) and not all(angles):
            raise UsageError("picks need all three Euler angles (rot, tilt, psi) or none")
        if all(angles):
            self.rot, self.tilt, self.psi = (_column(a) for a in (self.rot, self.tilt, self.psi))
        if self.filament_id is not None:
            self.filament_id = _column(self.filament_id, dtype=np.int64)
        for name in ("score", *(ANGLE_NAMES if all(angles) else ()),
                     *(("filament_id",) if self.filament_id is not None else ())):
            if len(getattr(self, name)) != n:
                raise UsageError(f"picks have {n} positions but {len(getattr(self, name))} {name} values")
        if self.tomogram_shape is not None:
            self.tomogram_shape = tuple(int(v) for v in self.tomogram_shape)  # type: ignore[assignment]
        if self.pixel_size_A is not None:
            self.pixel_size_A = float(self.pixel_size_A)

    # -- construction -------------------------------------------------------------------
    @classmethod
    def empty(cls, tomogram: str = "", pixel_size_A: float | None = None, **kwargs: Any) -> "Picks":
        """No picks (still a valid table that writes a valid, empty file)."""
        return cls(x=[], y=[], z=[], tomogram=tomogram, pixel_size_A=pixel_size_A, **kwargs)

    @classmethod
    def from_zyx(cls, zyx: np.ndarray, **kwargs: Any) -> "Picks":
        """From an (N, 3) array of (z, y, x) pixel positions."""
        zyx = np.asarray(zyx, dtype=np.float64).reshape(-1, 3)
        return cls(x=zyx[:, 2], y=zyx[:, 1], z=zyx[:, 0], **kwargs)

    # -- views ----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.x)

    @property
    def has_angles(self) -> bool:
        return self.rot is not None

    @property
    def zyx(self) -> np.ndarray:
        """(N, 3) positions (z, y, x) in pixels."""
        return np.stack([self.z, self.y, self.x], axis=1) if len(self) else np.zeros((0, 3))

    @property
    def xyz(self) -> np.ndarray:
        """(N, 3) positions (x, y, z) in pixels."""
        return np.stack([self.x, self.y, self.z], axis=1) if len(self) else np.zeros((0, 3))

    def xyz_A(self) -> np.ndarray:
        """(N, 3) positions (x, y, z) in Å; needs the pixel size."""
        return self.xyz * self.require_pixel_size()

    def angles(self) -> np.ndarray | None:
        """(N, 3) Euler angles (rot, tilt, psi) in degrees, or None."""
        return None if self.rot is None else np.stack([self.rot, self.tilt, self.psi], axis=1)

    def require_pixel_size(self) -> float:
        ps = self.pixel_size_A
        if ps is None or not math.isfinite(ps) or ps <= 0:
            raise UsageError(f"picks of '{self.tomogram or '?'}' have no pixel size",
                             "pass the pixel size in Å (--pixel-size)")
        return ps

    def take(self, index: np.ndarray | Sequence[int]) -> "Picks":
        """A subset (or reordering) of the picks, by integer index or boolean mask."""
        index = np.asarray(index)
        pick = (lambda a: None if a is None else a[index])
        return replace(self, x=self.x[index], y=self.y[index], z=self.z[index], score=self.score[index],
                       rot=pick(self.rot), tilt=pick(self.tilt), psi=pick(self.psi),
                       filament_id=pick(self.filament_id), metadata=dict(self.metadata))

    def sorted_by_score(self) -> "Picks":
        """Best score first (NaN last); ties keep their order."""
        order = np.argsort(-np.nan_to_num(self.score, nan=-np.inf), kind="stable")
        return self.take(order)

    def with_pixel_size(self, pixel_size_A: float) -> "Picks":
        from .volume import check_pixel_size

        return replace(self, pixel_size_A=check_pixel_size(pixel_size_A))


def concatenate(parts: Sequence[Picks]) -> Picks:
    """Picks of one tomogram joined into one table (angles and filament ids kept only if all have them)."""
    if not parts:
        raise UsageError("nothing to join")
    first = parts[0]
    join = (lambda name: None if any(getattr(p, name) is None for p in parts)
            else np.concatenate([getattr(p, name) for p in parts]))
    return replace(first, x=join("x"), y=join("y"), z=join("z"), score=join("score"), rot=join("rot"),
                   tilt=join("tilt"), psi=join("psi"), filament_id=join("filament_id"))


# -- format dispatch ----------------------------------------------------------------------
def known_formats() -> dict[str, Any]:
    """Every coordinate-format spec, by name."""
    from .plugins import get_registry

    return {name: entry.spec for name, entry in get_registry().specs("coordinate_format").items()}


def _describe_known(formats: dict[str, Any]) -> str:
    return "; ".join(f"{name} ({', '.join(spec.extensions)})" for name, spec in sorted(formats.items())) or "none"


def format_for(path: str | os.PathLike, fmt: str | None, need: str) -> Any:
    """The coordinate-format spec named ``fmt``, or the one for ``path``'s extension.

    ``need`` is "read" or "write". Several formats sharing an extension (RELION 3/4 and 5 STAR)
    are told apart by their ``detect`` function when reading; writing picks the one whose
    name is the extension (``.star`` -> "star").
    """
    formats = known_formats()
    if fmt is not None:
        spec = formats.get(fmt.lower())
        if spec is None:
            raise UnknownNameError(f"unknown coordinate format '{fmt}'", f"known: {_describe_known(formats)}")
        return _check_can(spec, need)
    suffix = Path(path).suffix.lower()
    matches = [s for s in formats.values() if suffix in s.extensions and getattr(s, need) is not None]
    if not matches:
        raise UnknownNameError(f"{path}: no coordinate format reads and writes '{suffix or 'no extension'}' files"
                               if need == "write" else f"{path}: unknown coordinate file type '{suffix}'",
                               f"known: {_describe_known(formats)}; or name one with --format")
    if len(matches) > 1 and need == "read" and Path(path).exists():
        detected = [s for s in matches if s.detect is not None and s.detect(Path(path))]
        matches = detected or matches
    if len(matches) > 1:
        named = [s for s in matches if s.name == suffix.lstrip(".")]
        matches = named or matches
    return matches[0]


def _check_can(spec: Any, need: str) -> Any:
    if getattr(spec, need) is None:
        raise UsageError(f"coordinate format '{spec.name}' cannot {need} files", "choose another --format")
    return spec


def read_picks_all(path: str | os.PathLike, fmt: str | None = None, pixel_size: float | None = None,
                   **options: Any) -> list[Picks]:
    """Every tomogram's picks in a coordinate file, one :class:`Picks` each, in file order.

    ``pixel_size`` (Å) overrides what the file says (or supplies what it lacks); ``options`` go
    to the format plugin (e.g. ``tomograms=`` for RELION 5).
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such file", "check the path")
    spec = format_for(path, fmt, "read")
    tables = list(spec.read(path, pixel_size=pixel_size, **options))
    if pixel_size is not None:
        tables = [t.with_pixel_size(pixel_size) for t in tables]
    return tables


def read_picks(path: str | os.PathLike, fmt: str | None = None, pixel_size: float | None = None,
               tomogram: str | None = None, **options: Any) -> Picks:
    """The picks of one tomogram in a coordinate file.

    With several tomograms in the file, ``tomogram`` names the one wanted (a name or stem);
    an empty file gives empty picks.
    """
    tables = read_picks_all(path, fmt, pixel_size, **options)
    if tomogram is not None:
        wanted = [t for t in tables if _same_tomogram(t.tomogram, tomogram)]
        if not wanted:
            names = ", ".join(t.tomogram for t in tables) or "none"
            raise UsageError(f"{path}: no picks of tomogram '{tomogram}'", f"tomograms in the file: {names}")
        return concatenate(wanted)
    if len(tables) > 1:
        names = ", ".join(t.tomogram for t in tables[:10]) + (" ..." if len(tables) > 10 else "")
        raise UsageError(f"{path} holds picks of {len(tables)} tomograms", f"name one (--tomogram): {names}")
    return tables[0] if tables else Picks.empty(tomogram=Path(path).stem, pixel_size_A=pixel_size)


def tomogram_stem(name: str) -> str:
    """A tomogram name without folders and volume extensions (``/a/TS_01.mrc`` -> ``TS_01``)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    for ext in (".mrc", ".rec", ".map", ".tif", ".tiff", ".tomostar", ".st", ".ali"):
        if base.lower().endswith(ext):
            return base[: -len(ext)]
    return base


def _same_tomogram(a: str, b: str) -> bool:
    return a == b or tomogram_stem(a) == tomogram_stem(b)


def write_picks(picks: Picks | Iterable[Picks], path: str | os.PathLike, fmt: str | None = None,
                **options: Any) -> Path:
    """Write the picks of one or several tomograms atomically; returns the path written.

    Empty picks write a valid file with no rows. ``options`` go to the format plugin. A
    plugin may return ``{suffix: text}`` for files that belong beside the main one (Dynamo's
    table map ``.doc``); those are written atomically too, before the main file.
    """
    path = Path(path)
    tables = [picks] if isinstance(picks, Picks) else list(picks)
    spec = format_for(path, fmt, "write")
    with atomic_path(path) as tmp:
        companions = spec.write(tmp, tables, **options) or {}
        for suffix, text in companions.items():
            write_text_atomic(path.with_suffix(suffix), text)
    return path
