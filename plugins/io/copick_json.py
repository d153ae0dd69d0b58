"""copick-style picks JSON: positions in Å, one 4x4 transformation per point.

The layout is copick's ``CopickPicksFile``: ``pickable_object_name``, ``user_id``,
``session_id``, ``run_name`` (the tomogram), ``voxel_spacing`` (Å), ``unit`` = "angstrom",
``trust_orientation`` and ``points``, each ``{"location": {"x", "y", "z"} (Å),
"transformation_": 4x4, "instance_id", "score"}``. The rotation part of the transformation is
RELION's matrix of (rot, tilt, psi) (copick's convention); its translation (Å) is added to the
location when reading. ``instance_id`` carries the filament id (0 = none); a missing score is
``null``. Positions in pixels = Å / ``voxel_spacing`` (or the pixel size given).

One tomogram per file, as copick has it; several tomograms are written as a JSON list of
such objects (ais-fw's extension), and read back either way.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ais_framework import hookimpl
from ais_framework.errors import InputFileError
from ais_framework.picks import Picks
from ais_framework.specs import CoordinateFormatSpec

HINT = "a copick picks file is a JSON object with 'points', each with a 'location' {x, y, z} in Å"


def _matrices(angles: np.ndarray | None, n: int) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    out = np.tile(np.eye(4), (n, 1, 1))
    if angles is not None and n:
        out[:, :3, :3] = Rotation.from_euler("ZYZ", angles, degrees=True).inv().as_matrix()
    return out


def _angles(matrices: np.ndarray) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    return Rotation.from_matrix(matrices[:, :3, :3]).inv().as_euler("ZYZ", degrees=True)


def _document(picks: Picks) -> dict:
    ps = picks.require_pixel_size() if len(picks) else picks.pixel_size_A
    transforms = _matrices(picks.angles(), len(picks))
    ids = picks.filament_id if picks.filament_id is not None else np.zeros(len(picks), dtype=int)
    points = [
        {"location": dict(zip("xyz", (float(v) for v in xyz_A))),
         "transformation_": transforms[i].tolist(),
         "instance_id": int(ids[i]),
         "score": None if math.isnan(picks.score[i]) else float(picks.score[i])}
        for i, xyz_A in enumerate(picks.xyz * (ps or 1.0))
    ]
    return {"pickable_object_name": picks.feature or "particle", "user_id": "ais-fw", "session_id": "0",
            "run_name": picks.tomogram, "voxel_spacing": ps, "unit": "angstrom",
            "trust_orientation": picks.has_angles, "points": points}


def write_json(path: Path, picks_list: list[Picks], **_options) -> None:
    documents = [_document(p) for p in picks_list]
    body = documents[0] if len(documents) == 1 else documents
    Path(path).write_text(json.dumps(body, indent=1) + "\n", encoding="utf-8")


def read_json(path: Path, pixel_size: float | None = None, **_options) -> list[Picks]:
    path = Path(path)
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFileError(f"{path}: not valid JSON: {exc}", HINT) from exc
    documents = body if isinstance(body, list) else [body]
    return [_picks(doc, path, pixel_size) for doc in documents]


def _picks(doc, path: Path, pixel_size: float | None) -> Picks:
    if not isinstance(doc, dict) or not isinstance(doc.get("points", []), list):
        raise InputFileError(f"{path}: not a copick picks file", HINT)
    points = doc.get("points") or []
    ps = pixel_size or doc.get("voxel_spacing")
    if points and not (isinstance(ps, (int, float)) and ps > 0):
        raise InputFileError(f"{path}: no voxel_spacing to turn Å into pixels", "pass --pixel-size in Å")
    try:
        xyz_A = np.array([[float(p["location"][k]) for k in "xyz"] for p in points]).reshape(-1, 3)
        transforms = np.array([p.get("transformation_", np.eye(4).tolist()) for p in points], float).reshape(-1, 4, 4)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputFileError(f"{path}: a point lacks a numeric location x, y, z ({exc})", HINT) from exc
    xyz = (xyz_A + transforms[:, :3, 3]) / (ps or 1.0)
    rotated = not np.allclose(transforms[:, :3, :3], np.eye(3))
    angles = _angles(transforms).T if (doc.get("trust_orientation") or rotated) and points else (None,) * 3
    ids = np.array([int(p.get("instance_id") or 0) for p in points], dtype=np.int64)
    scores = [np.nan if p.get("score") is None else float(p["score"]) for p in points]
    return Picks(x=xyz[:, 0], y=xyz[:, 1], z=xyz[:, 2], pixel_size_A=ps, tomogram=str(doc.get("run_name") or path.stem),
                 score=scores, rot=angles[0], tilt=angles[1], psi=angles[2],
                 filament_id=ids if ids.any() else None, feature=str(doc.get("pickable_object_name") or ""))


@hookimpl
def ais_fw_coordinate_formats():
    return [
        CoordinateFormatSpec(
            name="json",
            title="copick picks JSON (Å)",
            extensions=(".json",),
            read=read_json,
            write=write_json,
            description="copick CopickPicksFile layout: locations in Å, 4x4 transformations, score, instance id",
        )
    ]
