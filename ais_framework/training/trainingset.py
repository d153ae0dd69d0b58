"""Training sets: boxes cut from a tomogram around its annotations, ready for a network.

Shapes: 2D/2.5D ``inputs`` float32 (N, depth, box, box) with ``labels`` uint8 (N, 1, box, box)
(the label of the centre slice); 3D ``inputs`` (N, 1, depth, box, box) with ``labels``
(N, 1, depth, box, box). ``depth`` 1 is 2D; an odd depth > 1 is 2.5D (slices as channels)
or a 3D slab, centred on the annotated slice. ``box`` is a multiple of 16 (default 64).
Samples are ordered positives first: ``inputs[:n_positive]`` hold the feature.

How boxes are chosen: on an annotated slice holding boxes (of any feature), the boxes;
on one without, tiles covering the slice (25 % overlap, a random offset per slice). A box
of another feature, or of this one on a slice it has no mask for, has background labels
for this feature (a negative example); pixels outside an annotation box (its feature's
``box_size``) or outside the tomogram get label 2 (ignore). A box whose labels hold a 1 is
a positive, one with only 0/2 a negative, one with only 2 is dropped.

Each positive is used ``copies`` times: copy 0 as is, the others in distinct dihedral
orientations (quarter turns and flips) and, with probability 1/2 each, an extra arbitrary
in-plane rotation (sampled from the tomogram itself, so corners hold real data; dropped for
a copy it would turn every feature pixel out of), plus a Z flip at random when depth > 1.
Negatives are sampled to ``negative_ratio`` × the number of positive samples; when fewer
exist, each is used in up to ``copies`` dihedral orientations (never turned by an arbitrary
angle, which could bring a feature pixel in). ``seed`` makes every choice reproducible.

Resampling, as inference does it (``inference.slices``): boxes are sampled in-plane at
``train_pixel_size`` Å (default: the tomogram's) from a window a little larger than the box
(never the whole tomogram): a Gaussian of σ = 0.5 / zoom source pixels first when shrinking,
then linear interpolation; labels nearest-neighbour. Z is not resampled: the slices are the
tomogram's own, clamped at its ends (labels 2 there). Inputs are normalised with
``robust_stats`` of their own tomogram as stored, recorded in ``normalisation`` (one
tomogram) and in each source.

File format (``save``/``load``): ``.npz`` (``allow_pickle=False``) with arrays ``inputs``,
``labels`` and ``meta`` (a JSON string: format ``ais-fw-trainingset``, ``format_version`` 1,
and every other field of :class:`TrainingSet`).
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..annotations import AnnotationStore, as_label_mask
from ..atomic import atomic_path
from ..errors import AisError, InputFileError, PixelSizeError, UsageError
from ..normalisation import normalise, robust_stats
from ..volume import PIXEL_SIZE_HINT, Volume, check_pixel_size, read_volume
from .augment import N_DIHEDRAL, orient

FORMAT = "ais-fw-trainingset"
FORMAT_VERSION = 1
TILE_OVERLAP = 0.25
ROTATION_PROBABILITY = 0.5
META_FIELDS = ("feature", "box", "depth", "dims", "pixel_size", "normalisation", "n_positive", "n_negative", "sources")


@dataclass
class TrainingSet:
    """Boxes and labels of one feature, with what a model must record to be used the same way."""

    inputs: np.ndarray
    labels: np.ndarray
    feature: str
    box: int
    depth: int
    dims: str
    pixel_size: float
    normalisation: dict
    n_positive: int
    n_negative: int
    sources: list[dict] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.inputs)

    @property
    def positive(self) -> np.ndarray:
        """One bool per sample: True for the positives (the first ``n_positive``)."""
        return np.arange(len(self)) < self.n_positive

    def save(self, path: str | os.PathLike) -> Path:
        """Write an ``.npz`` atomically (see module doc); no pickle."""
        meta = {"format": FORMAT, "format_version": FORMAT_VERSION, **{k: getattr(self, k) for k in META_FIELDS}}
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, inputs=self.inputs, labels=self.labels, meta=np.array(json.dumps(meta)))
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "TrainingSet":
        try:
            with np.load(path, allow_pickle=False) as npz:
                meta, inputs, labels = json.loads(str(npz["meta"])), npz["inputs"], npz["labels"]
        except (OSError, KeyError, ValueError) as exc:
            raise InputFileError(f"{path}: not a readable training set ({exc})", "extract it again") from exc
        if meta.get("format") != FORMAT or meta.get("format_version", 0) > FORMAT_VERSION:
            got = f"{meta.get('format')} version {meta.get('format_version')}"
            raise InputFileError(f"{path}: not an ais-fw training set this version reads ({got})", "extract it again")
        return cls(inputs, labels, **{k: meta[k] for k in META_FIELDS})


@dataclass(frozen=True)
class _Geometry:
    box: int
    depth: int
    dims: str
    pixel_size: float  # Å, the training pixel size
    zoom: float  # output pixels per tomogram pixel, in-plane

    @property
    def three_d(self) -> bool:
        return self.dims == "3d"


@dataclass(frozen=True)
class _Candidate:
    z: int
    y: float
    x: float
    half: float | None = None  # half the annotation box (tomogram px); None: the whole slice is annotated


def check_box_options(box: int, depth: int, dims: str | None = None) -> str:
    """Validate box/depth/dims (see module doc) and return dims ("2d", "2.5d" or "3d")."""
    if not isinstance(box, (int, np.integer)) or box < 16 or box % 16:
        raise UsageError(f"box size {box} is not a multiple of 16", "use 32, 48, 64, 96, 128, ...")
    dims = dims or ("2d" if depth == 1 else "2.5d")
    if not isinstance(depth, (int, np.integer)) or depth < 1:
        raise UsageError(f"depth {depth} must be a positive whole number", "1 for 2D, an odd number such as 5 for 2.5D")
    if dims == "2d" and depth != 1:
        raise UsageError(f"2D boxes have depth 1, got {depth}", "use an odd depth > 1 with 2.5D")
    if dims in ("2.5d", "3d") and (depth < 3 or depth % 2 == 0):
        hint = "use 3, 5, 7, ... so the annotated slice is the centre"
        raise UsageError(f"depth {depth} for {dims.upper()} must be odd and > 1", hint)
    if dims not in ("2d", "2.5d", "3d"):
        raise UsageError(f"unknown dims {dims!r}", "use 2d, 2.5d or 3d")
    return dims


def _geometry(volume: Volume, box: int, depth: int, dims: str | None, train_pixel_size: float | None) -> _Geometry:
    dims = check_box_options(box, depth, dims)
    if volume.pixel_size is None:
        raise PixelSizeError(f"{volume.path or 'tomogram'}: the tomogram has no pixel size", PIXEL_SIZE_HINT)
    target = check_pixel_size(train_pixel_size) if train_pixel_size is not None else volume.pixel_size
    return _Geometry(int(box), int(depth), dims, target, volume.pixel_size / target)


def antialias_sigma(zoom: float) -> float:
    """Gaussian σ (source pixels) applied before shrinking by ``zoom`` < 1, as inference does."""
    return 0.5 / zoom if zoom < 1 else 0.0


def _grid(geom: _Geometry, c: _Candidate, angle: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tomogram coordinates (z per slice; y, x per pixel) of a box centred on ``c``, turned by ``angle``."""
    offsets = (np.arange(geom.box) - geom.box // 2) / geom.zoom
    u, v = np.meshgrid(offsets, offsets, indexing="ij")
    cos, sin = math.cos(angle), math.sin(angle)
    zs = c.z + np.arange(geom.depth) - geom.depth // 2
    return zs, c.y + cos * u - sin * v, c.x + sin * u + cos * v


def _read_window(data: np.ndarray, zs: np.ndarray, lo: list[int], hi: list[int]) -> np.ndarray:
    """Slices ``zs`` (clamped to the volume) of data[:, lo:hi] as float32, mirrored in-plane outside it."""
    zs = np.clip(zs, 0, data.shape[0] - 1)
    inner = [slice(max(0, a), min(n, b)) for a, b, n in zip(lo, hi, data.shape[1:])]
    block = np.asarray(data[zs.min() : zs.max() + 1, inner[0], inner[1]], dtype=np.float32)[zs - zs.min()]
    pad = [(0, 0)] + [(s.start - a, b - s.stop) for s, a, b in zip(inner, lo, hi)]
    return np.pad(block, pad, mode="reflect") if any(p for pair in pad for p in pair) else block


def _sample_image(data: np.ndarray, geom: _Geometry, c: _Candidate, angle: float) -> np.ndarray:
    """(depth, box, box) float32 resampled from a window of ``data`` (never the whole volume)."""
    from scipy import ndimage

    zs, ys, xs = _grid(geom, c, angle)
    sigma, margin = antialias_sigma(geom.zoom), math.ceil(4 * antialias_sigma(geom.zoom)) + 2
    lo = [math.floor(ys.min()) - margin, math.floor(xs.min()) - margin]
    hi = [math.ceil(ys.max()) + margin + 1, math.ceil(xs.max()) + margin + 1]
    window = _read_window(data, zs, lo, hi)
    if sigma:
        window = ndimage.gaussian_filter(window, (0, sigma, sigma), mode="reflect")
    out = np.empty((geom.depth, geom.box, geom.box), dtype=np.float32)
    for k in range(geom.depth):
        out[k] = ndimage.map_coordinates(window[k], [ys - lo[0], xs - lo[1]], order=1, mode="nearest")
    return out


def _sample_labels(labels: dict, shape: tuple, geom: _Geometry, c: _Candidate, angle: float) -> np.ndarray:
    """Labels (1 or depth, box, box), nearest-neighbour; 2 outside the tomogram or the annotation box."""
    zs, ys, xs = _grid(geom, c, angle)
    iy, ix = np.rint(ys).astype(int), np.rint(xs).astype(int)
    inside = (iy >= 0) & (iy < shape[1]) & (ix >= 0) & (ix < shape[2])
    if c.half is not None:
        inside &= (iy - c.y >= -c.half) & (iy - c.y < c.half) & (ix - c.x >= -c.half) & (ix - c.x < c.half)
    iy, ix = np.clip(iy, 0, shape[1] - 1), np.clip(ix, 0, shape[2] - 1)
    slices = zs if geom.three_d else zs[geom.depth // 2 : geom.depth // 2 + 1]
    out = np.full((len(slices), geom.box, geom.box), 2, dtype=np.uint8)
    for k, z in enumerate(np.rint(slices).astype(int)):
        mask = labels.get(int(z))
        if mask is None and z == c.z and c.half is not None:  # a box on a slice without a mask: background
            out[k][inside] = 0
        elif mask is not None:
            out[k][inside] = mask[iy[inside], ix[inside]]
    return out


def _orientations(n: int, depth: int, rng: np.random.Generator, rotate: bool = True) -> list[tuple[float, int]]:
    """``n`` (angle, orient code) pairs: the identity, then distinct dihedral codes (+ rotations)."""
    codes = [int(c) for c in rng.permutation(np.arange(1, N_DIHEDRAL))]
    result = [(0.0, 0)]
    for i in range(1, n):
        angle = rng.uniform(0, math.pi / 2) if rotate and rng.random() < ROTATION_PROBABILITY else 0.0
        zflip = N_DIHEDRAL if depth > 1 and rng.random() < 0.5 else 0
        result.append((angle, codes[(i - 1) % len(codes)] + zflip))
    return result


def _tile_centres(length: int, footprint: float, rng: np.random.Generator) -> np.ndarray:
    """Whole-pixel tile centres along one axis: overlapping tiles covering it, shifted at random."""
    stride = footprint * (1 - TILE_OVERLAP)
    n = max(1, math.ceil((length - footprint) / stride) + 1)
    if n == 1:  # one tile covers the axis: centre it
        return np.array([length // 2])
    first = (length - 1 - (n - 1) * stride) / 2 + rng.uniform(-stride / 2, stride / 2)
    return np.clip(np.rint(first + stride * np.arange(n)), 0, length - 1)


def _candidates(shape: tuple, labels: dict, boxes: list[tuple], geom: _Geometry, rng: np.random.Generator) -> list:
    """Boxes as given; tiles on annotated slices that hold no box."""
    found = [_Candidate(int(z), float(y), float(x), size / 2) for z, y, x, size in boxes]
    boxed = {c.z for c in found}
    footprint = geom.box / geom.zoom
    for z in sorted(set(labels) - boxed):
        ys, xs = _tile_centres(shape[1], footprint, rng), _tile_centres(shape[2], footprint, rng)
        found += [_Candidate(z, float(y), float(x)) for y in ys for x in xs]
    return found


def _check_labels(volume: Volume, labels: dict, feature: str) -> dict[int, np.ndarray]:
    checked = {}
    for z, mask in labels.items():
        if not 0 <= int(z) < volume.shape[0]:
            raise UsageError(f"slice {z} is outside the tomogram (0-{volume.shape[0] - 1})", "choose slices in range")
        if np.shape(mask) != volume.shape[1:]:
            message = f"labels of slice {z} have shape {np.shape(mask)}, the tomogram's slices {volume.shape[1:]}"
            raise InputFileError(message, "labels must match the tomogram")
        checked[int(z)] = as_label_mask(mask, f"labels of slice {z}")
    if not any((m == 1).any() for m in checked.values()):
        raise AisError(f"feature '{feature}' has no labelled pixels", "paint it (label 1) on at least one slice")
    return checked


def _pick_samples(volume: Volume, labels: dict, candidates: list, geom: _Geometry, copies: int,
                  negative_ratio: float, rng: np.random.Generator) -> tuple[list, list]:
    """(candidate, angle, code) of the positive and the negative samples."""
    positives, negatives = [], []
    for c in candidates:
        label = _sample_labels(labels, volume.shape, geom, c, 0.0)
        if (label == 1).any():
            positives.append(c)
        elif (label == 0).any():
            negatives.append(c)
    pos = [(c, a, k) for c in positives for a, k in _orientations(copies, geom.depth, rng)]
    pos = [(c, a if _holds_feature(labels, volume.shape, geom, c, a) else 0.0, k) for c, a, k in pos]
    target = round(negative_ratio * len(pos))
    per = 1 if len(negatives) >= target or not negatives else min(copies, math.ceil(target / len(negatives)))
    neg = [(c, 0.0, k) for c in negatives for _, k in _orientations(per, geom.depth, rng, rotate=False)]
    if len(neg) > target:
        neg = [neg[i] for i in sorted(rng.choice(len(neg), target, replace=False))]
    return pos, neg


def _holds_feature(labels: dict, shape: tuple, geom: _Geometry, c: _Candidate, angle: float) -> bool:
    """Does the box still hold a feature pixel when turned by ``angle``? (It may turn out of a corner.)"""
    return angle == 0 or bool((_sample_labels(labels, shape, geom, c, angle) == 1).any())


def _extract(volume: Volume, labels: dict, feature: str, boxes: list[tuple], box: int = 64, depth: int = 1,
             dims: str | None = None, train_pixel_size: float | None = None, copies: int = 8,
             negative_ratio: float = 1.3, seed: int = 0) -> TrainingSet:
    geom = _geometry(volume, box, depth, dims, train_pixel_size)
    if int(copies) < 1 or not negative_ratio >= 0:
        message = f"copies ({copies}) must be >= 1 and negative_ratio ({negative_ratio}) >= 0"
        raise UsageError(message, "e.g. copies=8, negative_ratio=1.3")
    labels, rng = _check_labels(volume, labels, feature), np.random.default_rng(seed)
    candidates = _candidates(volume.shape, labels, boxes, geom, rng)
    pos, neg = _pick_samples(volume, labels, candidates, geom, int(copies), negative_ratio, rng)
    if not pos:
        raise AisError(f"no box of feature '{feature}' holds a labelled pixel", "place boxes over the painted feature")
    stats = robust_stats(volume.data)
    inputs, outputs = _sample_all(volume, labels, geom, pos + neg, stats)
    source = {"tomogram": os.path.abspath(volume.path) if volume.path else None, "pixel_size": volume.pixel_size,
              "slices": sorted({c.z for c, _, _ in pos + neg}), "normalisation": stats,
              "n_positive": len(pos), "n_negative": len(neg)}
    return TrainingSet(inputs, outputs, feature, geom.box, geom.depth, geom.dims, geom.pixel_size,
                       dict(stats), len(pos), len(neg), [source])


def _sample_all(volume: Volume, labels: dict, geom: _Geometry, samples: list, stats: dict) -> tuple:
    """Cut, orient and normalise every sample into the final (inputs, labels) arrays."""
    n, square = len(samples), (geom.box, geom.box)
    inputs = np.empty(((n, 1) if geom.three_d else (n,)) + (geom.depth, *square), dtype=np.float32)
    outputs = np.empty((n, 1) + ((geom.depth,) if geom.three_d else ()) + square, dtype=np.uint8)
    for i, (c, angle, code) in enumerate(samples):
        image = normalise(_sample_image(volume.data, geom, c, angle), stats)
        label = _sample_labels(labels, volume.shape, geom, c, angle)
        image, label = orient(image, label, code, geom.three_d)
        inputs[i], outputs[i] = image.reshape(inputs.shape[1:]), label.reshape(outputs.shape[1:])
    return inputs, outputs


def extract_from_labels(volume: Volume, labels: dict[int, np.ndarray], feature: str, box: int = 64, depth: int = 1,
                        dims: str | None = None, train_pixel_size: float | None = None, copies: int = 8,
                        negative_ratio: float = 1.3, seed: int = 0) -> TrainingSet:
    """Training set from fully labelled slices ``{z: (Y, X) 0/1/2 mask}``, tiled into boxes."""
    return _extract(volume, labels, feature, [], box=box, depth=depth, dims=dims, train_pixel_size=train_pixel_size,
                    copies=copies, negative_ratio=negative_ratio, seed=seed)


def extract_from_store(store: AnnotationStore, feature: str, volume: Volume | None = None, **options) -> TrainingSet:
    """Training set of ``feature`` from an annotation store (boxes where there are, else tiles).

    ``volume``: the tomogram, when already open; by default the store finds and opens it.
    ``options``: those of :func:`extract_from_labels`.
    """
    labels = {z: store.get_slice(feature, z) for z in store.annotated_slices(feature)}
    boxes = [(*b, f.box_size) for f in store.features for b in store.boxes(f.name)]
    if volume is None:
        volume = read_volume(store.tomogram_path(), require_pixel_size=False)
        if volume.pixel_size is None and store.pixel_size:
            volume = volume.with_pixel_size(store.pixel_size)
    if volume.shape != store.shape:
        message = f"{volume.path}: shape {volume.shape} differs from the annotated {store.shape}"
        raise InputFileError(message, "open the annotated tomogram")
    return _extract(volume, labels, feature, boxes, **options)


def merge(trainingsets: list[TrainingSet]) -> TrainingSet:
    """One training set from several (e.g. one per tomogram): same feature, box, depth, dims, pixel size."""
    if not trainingsets:
        raise UsageError("no training sets to merge", "extract at least one")
    first = trainingsets[0]
    for other in trainingsets[1:]:
        for name in ("feature", "box", "depth", "dims", "pixel_size"):
            if getattr(other, name) != getattr(first, name):
                values = f"{getattr(first, name)!r} and {getattr(other, name)!r}"
                hint = "extract them with the same options (e.g. the same --train-pixel-size)"
                raise UsageError(f"cannot merge training sets of different {name}: {values}", hint)
    parts = [(t.inputs[: t.n_positive], t.labels[: t.n_positive]) for t in trainingsets]
    parts += [(t.inputs[t.n_positive :], t.labels[t.n_positive :]) for t in trainingsets]
    normalisation = {"method": first.normalisation["method"]}  # each tomogram was normalised by its own stats
    return TrainingSet(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), first.feature,
                       first.box, first.depth, first.dims, first.pixel_size, normalisation,
                       sum(t.n_positive for t in trainingsets), sum(t.n_negative for t in trainingsets),
                       [s for t in trainingsets for s in t.sources])
