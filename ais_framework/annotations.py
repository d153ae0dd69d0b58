"""Annotations of one tomogram: features, sparse per-slice label masks, and training boxes.

The TUI draws into an :class:`AnnotationStore`; training reads it (``extract_from_store``).
Labels: 0 background, 1 feature, 2 ignore. A slice holding a mask for a feature is an
*annotated slice* of it: its 0 pixels are background (negatives); paint 2 where unsure.
A box is a centre (z, y, x) in tomogram pixels; training uses the feature's ``box_size``
square around it (pixels outside that square are ignored).

On-disk format ``ais-fw-annotations``, ``format_version`` 1: a zip, by default
``<tomogram stem>.annotations.zip`` beside the tomogram (:func:`default_store_path`), holding

* ``annotations.json``: ``{"format", "format_version", "next_id", "tomogram": {"path"
  (POSIX, relative to the store's folder), "name", "size", "sha256" (content check),
  "shape" [Z, Y, X], "pixel_size" (Å or null), "voxel_size" [x, y, z] or null, "origin"
  [x, y, z] Å, "start" [nxstart, nystart, nzstart]}, "features": [{"id", "name", "colour"
  ("#rrggbb"), "box_size" (px), "slices" [z, ...], "boxes" [[z, y, x], ...]}, ...]}``;
* ``masks/f<id>/z<z:05d>.npz``: one per annotated slice, ``numpy.savez_compressed`` of one
  uint8 array ``mask`` (Y, X); read with ``allow_pickle=False`` (no pickle anywhere). ``id``
  is the feature's permanent number, so a rename rewrites no mask.

The content check is the file size plus the SHA-256 of its first 64 KiB (the header) and of
eight 64 KiB blocks spread over the file. :meth:`AnnotationStore.tomogram_path` tries the
recorded relative path, then the file name beside the store (its folder, two levels of
sub-folders, the parent folder) and accepts only a file that passes the check.
Saving is atomic and cheap enough for autosave: a slice is compressed once per change.
"""
from __future__ import annotations

import glob
import hashlib
import io
import json
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .atomic import atomic_path
from .errors import AisError, InputFileError, UnknownNameError, UsageError
from .volume import Volume, read_volume, write_volume

FORMAT = "ais-fw-annotations"
FORMAT_VERSION = 1
BLOCK = 64 * 1024
N_SAMPLED_BLOCKS = 8
DEFAULT_BOX_SIZE = 64
Box = tuple[int, int, int]  # (z, y, x) centre, tomogram pixels
PALETTE = ("#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6")


def default_store_path(tomogram: str | os.PathLike) -> Path:
    """``data/t1.mrc`` → ``data/t1.annotations.zip``."""
    return Path(tomogram).with_suffix(".annotations.zip")


def fingerprint(path: str | os.PathLike) -> dict:
    """Size and SHA-256 of the header block and eight blocks spread over the file."""
    size = os.path.getsize(path)
    digest = hashlib.sha256(str(size).encode())
    with open(path, "rb") as handle:
        for i in range(N_SAMPLED_BLOCKS + 1):
            handle.seek(i * max(0, size - BLOCK) // N_SAMPLED_BLOCKS)
            digest.update(handle.read(BLOCK))
    return {"size": size, "sha256": digest.hexdigest()}


def as_label_mask(array: np.ndarray, where: str) -> np.ndarray:
    """``array`` as uint8 labels, or an error if any value is not 0, 1 or 2."""
    array = np.asarray(array)
    if array.dtype == bool:
        return array.astype(np.uint8)
    bad = ~np.isin(array, (0, 1, 2))
    if bad.any():
        found = ", ".join(f"{v:g}" for v in np.unique(array[bad])[:5].astype(float))
        raise InputFileError(f"{where}: found label values {found}; labels must be 0 (background), 1 (feature) "
                             "or 2 (ignore)", "threshold a segmentation first, e.g. 0/255 -> 0/1")
    return array.astype(np.uint8)


@dataclass(frozen=True)
class Feature:
    """What the user annotates: a name, a display colour (#rrggbb) and the box size (px)."""

    name: str
    colour: str
    box_size: int = DEFAULT_BOX_SIZE


@dataclass
class _FeatureState:
    id: int
    name: str
    colour: str
    box_size: int
    masks: dict[int, list] = field(default_factory=dict)  # z -> [array | None, npz bytes | None]
    boxes: list[Box] = field(default_factory=list)


class AnnotationStore:
    """Features, per-slice masks and boxes of one tomogram, saved as one zip (see module doc)."""

    def __init__(self, path: Path, tomogram: dict, features: list[_FeatureState], next_id: int):
        self.path, self._tomogram, self._next_id, self.dirty = Path(path), tomogram, next_id, False
        self._features = {f.name: f for f in features}

    @classmethod
    def create(cls, path: str | os.PathLike | None, tomogram: str | os.PathLike | Volume,
               pixel_size: float | None = None, overwrite: bool = False) -> "AnnotationStore":
        """A new, empty store for ``tomogram`` (a path, or a Volume read from a file); saved at once."""
        volume = tomogram if isinstance(tomogram, Volume) else read_volume(tomogram, pixel_size, False)
        if volume.path is None:
            raise UsageError("annotations need a tomogram read from a file", "pass the tomogram's path")
        if pixel_size is not None and volume.pixel_size != pixel_size:
            volume = volume.with_pixel_size(pixel_size)
        path = Path(path) if path is not None else default_store_path(volume.path)
        if path.exists() and not overwrite:
            raise UsageError(f"{path}: an annotation store already exists", "open it instead, or pass overwrite=True")
        store = cls(path, _tomogram_record(volume, path), [], 1)
        store.dirty = True
        store.save()
        return store

    @classmethod
    def open(cls, path: str | os.PathLike) -> "AnnotationStore":
        """Open a saved store (no pickle; masks are decompressed when first used)."""
        path = Path(path)
        if not path.is_file():
            raise InputFileError(f"{path}: no such annotation store", "create one for the tomogram first")
        try:
            with zipfile.ZipFile(path) as archive:
                meta = json.loads(archive.read("annotations.json"))
                if meta.get("format") != FORMAT or int(meta.get("format_version", 0)) > FORMAT_VERSION:
                    raise ValueError(f"format {meta.get('format')} version {meta.get('format_version')}, "
                                     f"this ais-fw reads {FORMAT} up to version {FORMAT_VERSION}")
                features = [_read_feature(archive, entry) for entry in meta["features"]]
        except (zipfile.BadZipFile, KeyError, ValueError, TypeError) as exc:
            hint = "open a .annotations.zip written by ais-fw (a newer one needs a newer ais-fw)"
            raise InputFileError(f"{path}: not a readable annotation store ({exc})", hint) from exc
        return cls(path, meta["tomogram"], features, int(meta["next_id"]))

    def save(self, path: str | os.PathLike | None = None) -> Path:
        """Write the store atomically (to ``path`` from now on, if given); skipped when nothing changed.

        Safe to call from an autosave worker while the UI edits: it writes a snapshot, and an
        edit made during the save leaves the store dirty for the next one.
        """
        target = Path(path) if path is not None else self.path
        if target.resolve() != self.path.resolve():  # keep the tomogram's relative path right
            old = self.path.parent / self._tomogram["path"]
            self._tomogram = {**self._tomogram, "path": _relative(old, target)}
        elif not self.dirty and target.exists():
            return target
        self.dirty, snapshot = False, [(f, sorted(f.masks.items())) for f in list(self._features.values())]
        try:
            _write_zip(target, self._meta(snapshot), [(f.id, masks) for f, masks in snapshot])
        except BaseException:
            self.dirty = True
            raise
        self.path = target
        return target

    def _meta(self, snapshot: list[tuple[_FeatureState, list]]) -> dict:
        entries = [{"id": f.id, "name": f.name, "colour": f.colour, "box_size": f.box_size,
                    "slices": [z for z, _ in masks], "boxes": [list(b) for b in f.boxes]} for f, masks in snapshot]
        return {"format": FORMAT, "format_version": FORMAT_VERSION, "tomogram": self._tomogram,
                "next_id": self._next_id, "features": entries}

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self._tomogram["shape"])  # type: ignore[return-value]

    @property
    def pixel_size(self) -> float | None:
        return self._tomogram.get("pixel_size")

    def tomogram_volume_like(self, data: np.ndarray) -> Volume:
        """A volume with ``data`` and the tomogram's pixel size, voxel size, origin and start."""
        t = self._tomogram
        voxel = tuple(t["voxel_size"]) if t.get("voxel_size") else None
        return Volume(data, t.get("pixel_size"), tuple(t["origin"]), voxel, tuple(t["start"]))

    def tomogram_path(self) -> Path:
        """Where the annotated tomogram is now, checked by content (see module doc)."""
        recorded, mismatched = self.path.parent / self._tomogram["path"], []
        for candidate in self._candidates(recorded):
            if fingerprint(candidate) == {k: self._tomogram[k] for k in ("size", "sha256")}:
                self._accept(candidate)
                return candidate
            mismatched.append(candidate)
        hint = "move the tomogram back, or relink the store: AnnotationStore.relink(new_path)"
        if mismatched:
            others = ", ".join(str(p) for p in mismatched)
            raise InputFileError(f"{self.path}: {others} is not the annotated tomogram (content differs)", hint)
        raise InputFileError(f"{self.path}: the tomogram {recorded} has moved and is not beside the store", hint)

    def _candidates(self, recorded: Path) -> list[Path]:
        name, here = self._tomogram["name"], self.path.parent
        nearby = [p for pattern in ("*/", "*/*/") for p in sorted(here.glob(pattern + glob.escape(name)))]
        found = [recorded, here / name, *nearby, here.parent / name]
        unique = {os.path.normpath(p): p for p in found if p.is_file()}
        return list(unique.values())

    def _accept(self, path: Path) -> None:
        relative = _relative(path, self.path)
        if relative != self._tomogram["path"]:
            self._tomogram, self.dirty = {**self._tomogram, "path": relative}, True

    def relink(self, tomogram: str | os.PathLike, check: bool = True) -> None:
        """Point the store at ``tomogram``; with ``check=False`` accept a file of other content (same shape)."""
        tomogram = Path(tomogram)
        volume = read_volume(tomogram, require_pixel_size=False)
        if volume.shape != self.shape:
            raise InputFileError(f"{tomogram}: shape {volume.shape} is not {self.shape}", "choose the annotated one")
        if check and fingerprint(tomogram) != {k: self._tomogram[k] for k in ("size", "sha256")}:
            raise InputFileError(f"{tomogram}: not the annotated tomogram (content differs)", "check=False accepts it")
        self._tomogram, self.dirty = {**self._tomogram, **fingerprint(tomogram), "name": tomogram.name}, True
        self._accept(tomogram)

    @property
    def features(self) -> list[Feature]:
        return [Feature(f.name, f.colour, f.box_size) for f in self._features.values()]

    def add_feature(self, name: str, colour: str | None = None, box_size: int = DEFAULT_BOX_SIZE) -> Feature:
        """Add a feature; the colour defaults to the next one of a fixed palette."""
        name = _check_name(name)
        if name in self._features:
            raise UsageError(f"feature '{name}' already exists", "choose another name")
        colour = _check_colour(colour or PALETTE[len(self._features) % len(PALETTE)])
        self._features[name] = _FeatureState(self._next_id, name, colour, _check_box_size(box_size))
        self._next_id, self.dirty = self._next_id + 1, True
        return self.features[-1]

    def rename_feature(self, old: str, new: str) -> None:
        state, new = self._state(old), _check_name(new)
        if new != old and new in self._features:
            raise UsageError(f"feature '{new}' already exists", "choose another name")
        self._features = {(new if k == old else k): v for k, v in self._features.items()}
        state.name, self.dirty = new, True

    def update_feature(self, name: str, colour: str | None = None, box_size: int | None = None) -> None:
        """Change a feature's colour and/or box size."""
        state = self._state(name)
        state.colour = _check_colour(colour) if colour is not None else state.colour
        state.box_size = _check_box_size(box_size) if box_size is not None else state.box_size
        self.dirty = True

    def remove_feature(self, name: str) -> None:
        del self._features[self._state(name).name]
        self.dirty = True

    def _state(self, name: str) -> _FeatureState:
        if name not in self._features:
            known = ", ".join(self._features) or "none yet"
            raise UnknownNameError(f"no feature '{name}' in {self.path.name}", f"features: {known}")
        return self._features[name]

    def set_slice(self, feature: str, z: int, mask: np.ndarray) -> None:
        """Store the (Y, X) label mask (0/1/2) of slice ``z``; the slice becomes annotated."""
        state, z = self._state(feature), self._check_z(z)
        mask = as_label_mask(mask, f"mask of slice {z}")
        if mask.shape != self.shape[1:]:
            raise UsageError(f"mask shape {mask.shape}, slices are {self.shape[1:]}", "draw on the tomogram's grid")
        state.masks[z], self.dirty = [mask, None], True

    def get_slice(self, feature: str, z: int) -> np.ndarray | None:
        """A copy of slice ``z``'s mask, or None where the slice is not annotated."""
        entry = self._state(feature).masks.get(self._check_z(z))
        if entry is not None and entry[0] is None:
            entry[0] = _decode(entry[1], self.shape[1:])
        return None if entry is None else entry[0].copy()

    def clear_slice(self, feature: str, z: int) -> None:
        """Forget slice ``z``'s mask (it is no longer annotated)."""
        if self._state(feature).masks.pop(self._check_z(z), None) is not None:
            self.dirty = True

    def annotated_slices(self, feature: str) -> list[int]:
        return sorted(self._state(feature).masks)

    def _check_z(self, z: int) -> int:
        if not 0 <= int(z) < self.shape[0]:
            raise UsageError(f"slice {z} is outside the tomogram (0-{self.shape[0] - 1})", "choose a slice in range")
        return int(z)

    def add_box(self, feature: str, z: int, y: int, x: int) -> None:
        """Add a box centred at (z, y, x) pixels (a box already there is not doubled)."""
        state, box = self._state(feature), (self._check_z(z), int(y), int(x))
        if not (0 <= box[1] < self.shape[1] and 0 <= box[2] < self.shape[2]):
            raise UsageError(f"box centre ({y}, {x}) is outside the slice {self.shape[1:]}", "place boxes on the slice")
        if box not in state.boxes:
            state.boxes.append(box)
            self.dirty = True

    def remove_box(self, feature: str, z: int, y: int, x: int, radius: float | None = None) -> Box | None:
        """Remove the box on slice ``z`` nearest to (y, x) (within ``radius`` px if given); return it."""
        state = self._state(feature)
        near = sorted(((b[1] - y) ** 2 + (b[2] - x) ** 2, b) for b in state.boxes if b[0] == int(z))
        if not near or (radius is not None and near[0][0] > radius**2):
            return None
        state.boxes.remove(near[0][1])
        self.dirty = True
        return near[0][1]

    def boxes(self, feature: str) -> list[Box]:
        return list(self._state(feature).boxes)

    def import_label_volume(self, source: str | os.PathLike | Volume, feature: str,
                            slices: list[int] | None = None) -> list[int]:
        """Copy ``slices`` (default: those with any label) of a 0/1/2 volume into ``feature``; return them."""
        volume = source if isinstance(source, Volume) else read_volume(source, require_pixel_size=False)
        where = volume.path or "label volume"
        if volume.shape != self.shape:
            hint = "labels need the tomogram's shape"
            raise InputFileError(f"{where}: shape {volume.shape}, tomogram {self.shape}", hint)
        wanted = range(self.shape[0]) if slices is None else [self._check_z(z) for z in slices]
        masks = {z: as_label_mask(volume.data[z], f"{where}, slice {z}") for z in wanted}
        masks = {z: m for z, m in masks.items() if slices is not None or m.any()}
        if not masks:
            raise AisError(f"{where}: holds no labelled pixels", "check the file, or pass the slices to import")
        if feature not in self._features:
            self.add_feature(feature)
        for z, mask in masks.items():
            self.set_slice(feature, z, mask)
        return sorted(masks)

    def export_label_volume(self, feature: str, path: str | os.PathLike) -> Path:
        """Write ``feature``'s labels as a uint8 volume (unannotated slices 0), tomogram geometry."""
        data = np.zeros(self.shape, dtype=np.uint8)
        for z in self.annotated_slices(feature):
            data[z] = self.get_slice(feature, z)
        return write_volume(path, self.tomogram_volume_like(data))


def _tomogram_record(volume: Volume, store_path: Path) -> dict:
    voxel = list(volume.voxel_size) if volume.voxel_size else None
    path = Path(volume.path)
    return {"path": _relative(path, store_path), "name": path.name, **fingerprint(path),
            "shape": list(volume.shape), "pixel_size": volume.pixel_size, "voxel_size": voxel,
            "origin": list(volume.origin), "start": list(volume.start)}


def _relative(tomogram: Path, store_path: Path) -> str:
    try:
        return Path(os.path.relpath(os.path.abspath(tomogram), os.path.abspath(store_path.parent))).as_posix()
    except ValueError:  # another drive on Windows
        return Path(os.path.abspath(tomogram)).as_posix()


def _read_feature(archive: zipfile.ZipFile, entry: dict) -> _FeatureState:
    state = _FeatureState(int(entry["id"]), entry["name"], entry["colour"], int(entry["box_size"]))
    state.masks = {int(z): [None, archive.read(f"masks/f{state.id}/z{int(z):05d}.npz")] for z in entry["slices"]}
    state.boxes = [tuple(int(v) for v in b) for b in entry["boxes"]]  # type: ignore[misc]
    return state


def _write_zip(target: Path, meta: dict, masks: list[tuple[int, list]]) -> None:
    with atomic_path(target) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("annotations.json", json.dumps(meta, indent=1), zipfile.ZIP_DEFLATED)
        for feature_id, entries in masks:
            for z, entry in entries:
                archive.writestr(f"masks/f{feature_id}/z{z:05d}.npz", _blob(entry))


def _blob(entry: list) -> bytes:
    if entry[1] is None:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, mask=entry[0])
        entry[1] = buffer.getvalue()
    return entry[1]


def _decode(blob: bytes, shape: tuple[int, ...]) -> np.ndarray:
    with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
        mask = npz["mask"]
    if mask.shape != tuple(shape) or mask.dtype != np.uint8:
        raise InputFileError(f"a stored mask is {mask.shape} {mask.dtype}, not {shape} uint8", "the store is damaged")
    return mask


def _check_name(name: str) -> str:
    if re.fullmatch(r"[^/\\\x00-\x1f]{1,64}", str(name).strip()):
        return str(name).strip()
    raise UsageError(f"bad feature name {name!r}", "use 1-64 characters without slashes")


def _check_colour(colour: str) -> str:
    if re.fullmatch(r"#[0-9a-fA-F]{6}", str(colour)):
        return colour.lower()
    raise UsageError(f"bad colour {colour!r}", "give a hex colour like #ff8800")


def _check_box_size(box_size: int) -> int:
    if int(box_size) >= 1:
        return int(box_size)
    raise UsageError(f"box size must be at least 1 pixel, got {box_size}", "e.g. 64")
