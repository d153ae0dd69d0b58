"""The zip behind a model package: safe reading, checksums, arrays without pickle, atomic writing.

Nothing here imports torch. Members are read into memory (never extracted to disk), only
names from a fixed list are accepted, and every member's size is capped both as declared
in the zip and while it is being decompressed.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from ..errors import InputFileError
from .metadata import (KNOWN_MEMBERS, METADATA_NAME, PREVIEW_NAME, REQUIRED_MEMBERS, WEIGHTS_NAME,
                       ModelMetadata)

GiB, MiB = 1024**3, 1024**2
#: the most bytes a member may decompress to
MEMBER_LIMITS = {METADATA_NAME: 16 * MiB, WEIGHTS_NAME: 2 * GiB, PREVIEW_NAME: 32 * MiB}
DEFAULT_LIMIT = 256 * MiB
CHUNK = 1 * MiB
DAMAGED_HINT = "the package is damaged or was not written by ais-fw; download it again"


@dataclass
class Package:
    """The members of a package file, read and size-checked; not yet checksum-verified."""

    path: Path
    members: dict[str, bytes]
    names: tuple[str, ...]  # every member in the zip, read or not

    def __getitem__(self, name: str) -> bytes:
        return self.members[name]


def member_limit(name: str) -> int:
    return MEMBER_LIMITS.get(name, DEFAULT_LIMIT)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_package(path: str | os.PathLike, names: tuple[str, ...] | None = None) -> Package:
    """Read the members ``names`` (default: all) of a package after checking its whole listing."""
    path = Path(path)
    with _open_zip(path) as archive:
        infos = _checked_listing(archive, path)
        wanted = names or tuple(infos)
        members = {name: _read_member(archive, infos[name], path) for name in wanted}
    return Package(path, members, tuple(infos))


def _open_zip(path: Path) -> zipfile.ZipFile:
    if not path.is_file():
        raise InputFileError(f"{path}: no such model file", "check the path; model packages end in .aism")
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputFileError(f"{path}: not a model package (not a zip file: {exc})", DAMAGED_HINT) from exc


def _checked_listing(archive: zipfile.ZipFile, path: Path) -> dict[str, zipfile.ZipInfo]:
    infos: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        _check_member(info, path)
        if info.filename in infos:
            raise InputFileError(f"{path}: member '{info.filename}' appears twice", DAMAGED_HINT)
        infos[info.filename] = info
    missing = [name for name in REQUIRED_MEMBERS if name not in infos]
    if missing:
        raise InputFileError(f"{path}: member {', '.join(missing)} is missing", DAMAGED_HINT)
    return infos


def _check_member(info: zipfile.ZipInfo, path: Path) -> None:
    name = info.filename
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in re.split(r"[/\\]", name):
        raise InputFileError(f"{path}: refusing member '{name}' (absolute path or '..')", DAMAGED_HINT)
    if name not in KNOWN_MEMBERS:
        raise InputFileError(f"{path}: unexpected member '{name}'",
                             f"a model package holds only {', '.join(KNOWN_MEMBERS)}")
    if info.flag_bits & 0x1:
        raise InputFileError(f"{path}: member '{name}' is encrypted", DAMAGED_HINT)
    if info.file_size > member_limit(name):
        raise InputFileError(f"{path}: member '{name}' declares {info.file_size} bytes, "
                             f"more than the {member_limit(name)} allowed", DAMAGED_HINT)


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> bytes:
    try:
        with archive.open(info) as stream:
            return read_bounded(stream, member_limit(info.filename), f"{path}: member '{info.filename}'")
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise InputFileError(f"{path}: member '{info.filename}' cannot be read: {exc}", DAMAGED_HINT) from exc


def read_bounded(stream: io.RawIOBase | io.BufferedIOBase, limit: int, what: str) -> bytes:
    """All of ``stream``, refusing (and stopping) as soon as it yields more than ``limit`` bytes."""
    buffer = bytearray()
    while chunk := stream.read(min(CHUNK, limit + 1 - len(buffer))):
        buffer += chunk
        if len(buffer) > limit:
            raise InputFileError(f"{what} decompresses to more than {limit} bytes", DAMAGED_HINT)
    return bytes(buffer)


def verify_members(package: Package, metadata: ModelMetadata) -> int:
    """Every member but model.json is listed in ``members`` with its sha256, and matches it.

    Returns how many members were checked.
    """
    present = set(package.names) - {METADATA_NAME}
    unlisted = sorted(present - set(metadata.members))
    if unlisted:
        raise InputFileError(f"{package.path}: member '{unlisted[0]}' has no sha256 in {METADATA_NAME}", DAMAGED_HINT)
    for name, expected in sorted(metadata.members.items()):
        if name not in package.members:
            raise InputFileError(f"{package.path}: member '{name}' is listed in {METADATA_NAME} but missing",
                                 DAMAGED_HINT)
        if sha256(package[name]) != expected:
            raise InputFileError(f"{package.path}: sha256 of member '{name}' does not match {METADATA_NAME}",
                                 "the file was changed or damaged after it was saved; download it again")
    return len(metadata.members)


def array_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array, dtype=np.float32), allow_pickle=False)
    return buffer.getvalue()


def read_array(package: Package, name: str) -> np.ndarray:
    """A float array member; object arrays (which would need pickle) are refused."""
    try:
        array = np.load(io.BytesIO(package[name]), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise InputFileError(f"{package.path}: member '{name}' is not a plain numeric array: {exc}",
                             "model packages never hold pickled data") from exc
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "fiu":
        raise InputFileError(f"{package.path}: member '{name}' must hold numbers, not {array.dtype}",
                             DAMAGED_HINT)
    return array.astype(np.float32, copy=False)


def write_package(path: str | os.PathLike, members: dict[str, bytes]) -> Path:
    """Write ``members`` as a zip, atomically (model.json first; weights stored uncompressed)."""
    path = Path(path)
    order = sorted(members, key=lambda name: KNOWN_MEMBERS.index(name))
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w") as archive:
            for name in order:
                method = zipfile.ZIP_STORED if name == WEIGHTS_NAME else zipfile.ZIP_DEFLATED
                archive.writestr(name, members[name], compress_type=method)
    return path
