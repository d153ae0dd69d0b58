"""Mesh files: Wavefront OBJ, binary STL and glTF binary (GLB), written atomically, and read back.

- OBJ: ``# colour r g b`` comment (0..1, as Blender scripts for Ais expect), one ``o`` object,
  ``v``/``vn`` lines and one ``g blob_N`` group of ``f a//a b//b c//c`` faces per blob.
- STL: the 80-byte header names the feature and units; one 50-byte record per triangle.
- GLB: glTF 2.0, one mesh with POSITION, NORMAL and uint32 indices and a material in the
  feature's colour; the units are stated in ``asset.extras`` (glTF viewers assume metres).
"""
from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .atomic import atomic_path
from .colours import rgb
from .errors import AisError, InputFileError, UsageError

if TYPE_CHECKING:
    from .mesh import Mesh

MESH_SUFFIXES = (".obj", ".stl", ".glb")
_STL_RECORD = np.dtype([("normal", "<f4", (3,)), ("corners", "<f4", (3, 3)), ("attribute", "<u2")])
_GLB_MAGIC, _JSON_CHUNK, _BIN_CHUNK = 0x46546C67, 0x4E4F534A, 0x004E4942


def check_mesh_path(path: Path) -> None:
    """:class:`UsageError` unless ``path`` ends in a mesh format we write."""
    if path.suffix.lower() not in MESH_SUFFIXES:
        raise UsageError(f"{path}: cannot write meshes ending in '{path.suffix or '(none)'}'",
                         f"known mesh formats: {', '.join(MESH_SUFFIXES)}")


def write_mesh(path: str | Path, mesh: "Mesh", name: str = "mesh", colour: str = "#ffb000") -> Path:
    """Write ``mesh`` atomically; the format follows the extension (.obj, .stl, .glb)."""
    path = Path(path)
    check_mesh_path(path)
    writer = {".obj": _write_obj, ".stl": _write_stl, ".glb": _write_glb}[path.suffix.lower()]
    try:
        with atomic_path(path) as tmp:
            writer(tmp, mesh, name, colour)
    except OSError as exc:
        raise AisError(f"{path}: cannot be written ({exc.strerror or exc})",
                       "check that the folder is writable and the disk is not full") from exc
    return path


def _lines(handle, template: str, rows: np.ndarray, chunk: int = 65536) -> None:
    """Write ``template % row`` for every row, a chunk at a time (fast, bounded memory)."""
    for start in range(0, len(rows), chunk):
        block = rows[start : start + chunk]
        handle.write((template * len(block)) % tuple(block.ravel().tolist()))


def _write_obj(path: Path, mesh: "Mesh", name: str, colour: str) -> None:
    red, green, blue = (c / 255.0 for c in rgb(colour))
    ends = mesh.blob_faces[1:] + [len(mesh.faces)]
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(f"# ais-fw mesh of {name}; units: {mesh.units}; {len(mesh.blob_faces)} blobs\n")
        handle.write(f"# colour {red:.4f} {green:.4f} {blue:.4f}\no {name}\n")
        _lines(handle, "v %.4f %.4f %.4f\n", mesh.vertices)
        _lines(handle, "vn %.4f %.4f %.4f\n", mesh.normals)
        for number, (start, end) in enumerate(zip(mesh.blob_faces, ends), 1):
            handle.write(f"g blob_{number}\n")
            corners = np.repeat(mesh.faces[start:end].astype(np.int64) + 1, 2, axis=1)
            _lines(handle, "f %d//%d %d//%d %d//%d\n", corners)


def _write_stl(path: Path, mesh: "Mesh", name: str, colour: str) -> None:
    corners = mesh.vertices[mesh.faces]
    normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    records = np.zeros(len(mesh.faces), dtype=_STL_RECORD)
    records["normal"] = normals / np.where(length > 0, length, 1.0)
    records["corners"] = corners
    header = f"ais-fw mesh {name} units {mesh.units} colour {colour}".encode("ascii", "replace")[:80]
    with open(path, "wb") as handle:
        handle.write(header.ljust(80, b" "))
        handle.write(struct.pack("<I", len(records)))
        handle.write(records.tobytes())


def _padded(data: bytes, filler: bytes) -> bytes:
    return data + filler * (-len(data) % 4)


def _glb_document(mesh: "Mesh", name: str, colour: str, sizes: tuple[int, int, int]) -> dict:
    positions, normals, indices = sizes
    red, green, blue = (c / 255.0 for c in rgb(colour))
    views = [(0, positions, 34962), (positions, normals, 34962), (positions + normals, indices, 34963)]
    count = len(mesh.vertices)
    return {
        "asset": {"version": "2.0", "generator": "ais-fw", "extras": {"units": mesh.units}},
        "scene": 0, "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 0, "name": name}],
        "meshes": [{"name": name, "primitives": [
            {"attributes": {"POSITION": 0, "NORMAL": 1}, "indices": 2, "material": 0, "mode": 4}]}],
        "materials": [{"name": name, "doubleSided": True, "pbrMetallicRoughness": {
            "baseColorFactor": [red, green, blue, 1.0], "metallicFactor": 0.0, "roughnessFactor": 0.6}}],
        "buffers": [{"byteLength": positions + normals + indices}],
        "bufferViews": [{"buffer": 0, "byteOffset": o, "byteLength": n, "target": t} for o, n, t in views],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": count, "type": "VEC3",
             "min": mesh.vertices.min(axis=0).tolist(), "max": mesh.vertices.max(axis=0).tolist()},
            {"bufferView": 1, "componentType": 5126, "count": count, "type": "VEC3"},
            {"bufferView": 2, "componentType": 5125, "count": int(mesh.faces.size), "type": "SCALAR"},
        ],
    }


def _write_glb(path: Path, mesh: "Mesh", name: str, colour: str) -> None:
    blobs = [np.ascontiguousarray(a, dtype=d).tobytes()
             for a, d in ((mesh.vertices, "<f4"), (mesh.normals, "<f4"), (mesh.faces, "<u4"))]
    document = _glb_document(mesh, name, colour, tuple(len(b) for b in blobs))  # each a multiple of 4
    text = _padded(json.dumps(document, separators=(",", ":")).encode("utf-8"), b" ")
    binary = b"".join(blobs)
    with open(path, "wb") as handle:
        handle.write(struct.pack("<III", _GLB_MAGIC, 2, 12 + 8 + len(text) + 8 + len(binary)))
        handle.write(struct.pack("<II", len(text), _JSON_CHUNK) + text)
        handle.write(struct.pack("<II", len(binary), _BIN_CHUNK) + binary)


def read_mesh(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read an OBJ, STL or GLB file back: (vertices (N, 3) float, faces (M, 3) int).

    STL stores loose triangles; corners at the same position are merged into one vertex.
    """
    path = Path(path)
    reader = {".obj": _read_obj, ".stl": _read_stl, ".glb": _read_glb}.get(path.suffix.lower())
    if reader is None:
        raise InputFileError(f"{path}: not a mesh file", f"known mesh formats: {', '.join(MESH_SUFFIXES)}")
    return reader(path)


def _read_obj(path: Path) -> tuple[np.ndarray, np.ndarray]:
    vertices, faces = [], []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("v "):
                vertices.append([float(v) for v in line.split()[1:4]])
            elif line.startswith("f "):
                faces.append([int(corner.split("/")[0]) - 1 for corner in line.split()[1:4]])
    return np.array(vertices, dtype=np.float64).reshape(-1, 3), np.array(faces, dtype=np.int64).reshape(-1, 3)


def _read_stl(path: Path) -> tuple[np.ndarray, np.ndarray]:
    raw = path.read_bytes()
    (count,) = struct.unpack_from("<I", raw, 80)
    if len(raw) != 84 + count * _STL_RECORD.itemsize:
        raise InputFileError(f"{path}: not a binary STL file of {count} triangles", "the file may be truncated")
    corners = np.frombuffer(raw, dtype=_STL_RECORD, offset=84)["corners"].reshape(-1, 3)
    vertices, inverse = np.unique(corners, axis=0, return_inverse=True)
    return vertices.astype(np.float64), inverse.reshape(-1, 3).astype(np.int64)


def read_glb(path: str | Path) -> tuple[dict, bytes]:
    """A GLB file's JSON document and binary chunk; :class:`InputFileError` if the layout is wrong."""
    raw = Path(path).read_bytes()
    magic, version, length = struct.unpack_from("<III", raw, 0)
    json_length, json_type = struct.unpack_from("<II", raw, 12)
    bin_start = 20 + json_length
    bin_length, bin_type = struct.unpack_from("<II", raw, bin_start)
    if (magic, version, length, json_type, bin_type) != (_GLB_MAGIC, 2, len(raw), _JSON_CHUNK, _BIN_CHUNK):
        raise InputFileError(f"{path}: not a glTF 2.0 binary file", "write it again with ais-fw mesh")
    document = json.loads(raw[20:bin_start].decode("utf-8"))
    return document, raw[bin_start + 8 : bin_start + 8 + bin_length]


def _read_glb(path: Path) -> tuple[np.ndarray, np.ndarray]:
    document, binary = read_glb(path)
    views, accessors = document["bufferViews"], document["accessors"]

    def accessor(index: int, dtype: str, width: int) -> np.ndarray:
        view = views[accessors[index]["bufferView"]]
        data = np.frombuffer(binary, dtype=dtype, count=accessors[index]["count"] * width, offset=view["byteOffset"])
        return data.reshape(-1, width)

    primitive = document["meshes"][0]["primitives"][0]
    vertices = accessor(primitive["attributes"]["POSITION"], "<f4", 3)
    faces = accessor(primitive["indices"], "<u4", 1).reshape(-1, 3)
    return vertices.astype(np.float64), faces.astype(np.int64)
