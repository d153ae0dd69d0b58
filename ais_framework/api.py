"""The one library API. The CLI, the terminal UI and notebooks all call these functions.

Functions here return plain data (dicts, lists, paths, Volumes) and raise ``AisError``
subclasses; they never print or exit.
"""
from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .plugins import get_registry
from .volume import read_volume, volume_stats


def list_plugins(strict: bool = False) -> dict[str, Any]:
    """Every loaded plugin spec (kind, name, title, distribution, version) and every failure.

    Specs are sorted by kind and name. ``strict`` raises :class:`PluginError` if any plugin failed.
    """
    registry = get_registry(strict=strict)
    plugins = [
        {
            "kind": entry.spec.kind,
            "name": entry.spec.name,
            "title": entry.spec.title,
            "plugin": entry.source.plugin,
            "module": entry.source.module,
            "distribution": entry.source.distribution,
            "version": entry.source.version,
        }
        for entry in registry.all_specs()
    ]
    plugins.sort(key=lambda p: (p["kind"], p["name"]))
    return {"plugins": plugins, "failures": [asdict(f) for f in registry.failures]}


def volume_info(path: str | os.PathLike, pixel_size: float | None = None) -> dict[str, Any]:
    """Facts about a volume file: shape (Z, Y, X), dtype, pixel size, origin and value statistics."""
    volume = read_volume(path, pixel_size=pixel_size, require_pixel_size=False)
    stats = volume_stats(volume.data)
    return {
        "path": str(Path(path)),
        "shape_zyx": list(volume.shape),
        "dtype": str(volume.data.dtype),
        "pixel_size_A": volume.pixel_size,
        "voxel_size_A": list(volume.voxel_size) if volume.voxel_size else None,
        "origin_A": list(volume.origin),
        **stats,
    }


def make_synthetic(output: str | os.PathLike, seed: int = 0, shape: tuple[int, int, int] | None = None,
                   pixel_size: float | None = None) -> dict[str, Any]:
    """Write a synthetic tomogram with known ground truth into ``output``; returns its manifest."""
    from .synth import DEFAULT_PIXEL_SIZE, DEFAULT_SHAPE, write_synthetic

    return write_synthetic(
        Path(output),
        seed=seed,
        shape=tuple(shape) if shape else DEFAULT_SHAPE,
        pixel_size=pixel_size if pixel_size is not None else DEFAULT_PIXEL_SIZE,
    )


def train(output: str | os.PathLike, sources: list, stores: list, options, on_epoch=None) -> dict[str, Any]:
    """Train a model (see :func:`ais_framework.training.run.train_model`)."""
    from .training.run import train_model

    return train_model(Path(output), sources, [Path(s) for s in stores], options, on_epoch=on_epoch)


def segment_tomogram(tomogram: str | os.PathLike, model: str | os.PathLike, outdir: str | os.PathLike,
                     pixel_size: float | None = None, overwrite: bool = False, device: str = "cpu",
                     batch_size: int = 8, on_progress=None) -> Path:
    """Segment one tomogram with one model into ``outdir/{stem}__{feature}.mrc``; skips finished outputs."""
    from .inference.segment import SegmentOptions, output_path, segment_to_file
    from .model import load_model

    loaded = load_model(model, device=device)
    target = output_path(Path(outdir), Path(tomogram), loaded.metadata.feature)
    if target.exists() and not overwrite:
        return target
    volume = read_volume(tomogram, pixel_size=pixel_size)
    options = SegmentOptions(batch_size=batch_size, device=device)
    return segment_to_file(loaded, volume, target, options, on_progress)


def segmentation_scores(prediction: str | os.PathLike, truth: str | os.PathLike, threshold: float = 0.5) -> dict:
    """Dice, IoU, precision and recall of a segmentation file against a ground-truth mask file."""
    from .evaluate import segmentation_scores as scores

    pred = read_volume(prediction, require_pixel_size=False)
    true = read_volume(truth, require_pixel_size=False)
    return scores(pred.data, true.data, threshold)


def load_model(model: str | os.PathLike, device: str = "cpu"):
    """A model package ready to run (see :func:`ais_framework.model.load_model`)."""
    from .model import load_model as load

    return load(model, device=device)


def tomogram_stats(volume) -> dict:
    """The robust normalisation statistics of a tomogram (computed once, reused per slice)."""
    from .normalisation import robust_stats

    return robust_stats(volume.data)


def segment_slice(model, volume, z: int, device: str = "cpu", stats: dict | None = None):
    """Probabilities 0..1 (Y, X) of one slice ``z`` of ``volume`` with a loaded 2D/2.5D model.

    Pass ``stats`` from :func:`tomogram_stats` when calling this repeatedly (live preview).
    """
    from .inference.segment import predict_slices

    if stats is None:
        stats = tomogram_stats(volume)
    factor = volume.pixel_size / model.metadata.pixel_size_A
    return predict_slices(model, volume.data, range(z, z + 1), stats, factor, device)[0]
