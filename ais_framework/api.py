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
                     batch_size: int = 8, on_progress=None, **options) -> Path:
    """Segment one tomogram with one model into ``outdir/{stem}__{feature}.mrc``; skips finished outputs.

    ``options``: the other fields of :class:`~ais_framework.inference.segment.SegmentOptions`
    (precision, tta, tile, z_range, as_float16).
    """
    from .inference.batch import ModelSet, load_runs, segment_one
    from .inference.segment import SegmentOptions

    runs = load_runs(ModelSet(((None, str(model)),)), device)
    settings = SegmentOptions(batch_size=batch_size, device=device, overwrite=overwrite, **options)
    result = segment_one(Path(tomogram), runs, Path(outdir), settings, pixel_size=pixel_size, on_progress=on_progress)
    return result.outputs[runs[0].name]


def segment(tomograms: list, outdir: str | os.PathLike, models: list | None = None, pipeline=None,
            pixel_size: float | None = None, on_progress=None, **options) -> list[dict]:
    """Segment tomograms with models (paths or installed names) or a pipeline file (competition,
    interactions); returns one dict per tomogram: outputs, skipped, notes, seconds.

    ``options``: :class:`~ais_framework.inference.segment.SegmentOptions` fields (batch_size,
    device — ``auto``, ``cpu``, ``cuda``, ``cuda:N[,M]`` —, precision, tta, tile, z_range,
    as_float16, overwrite).
    """
    from .devices import inference_devices
    from .inference.batch import ModelSet, segment_tomograms
    from .inference.segment import SegmentOptions

    model_set = _model_set(models or [], pipeline)
    devices = inference_devices(options.pop("device", "auto"))
    settings = SegmentOptions(device=devices[0], **options)
    results = segment_tomograms([Path(t) for t in tomograms], model_set, Path(outdir), settings, devices,
                                pixel_size, on_progress)
    return [r.as_dict() for r in results]


def _model_set(models: list, pipeline):
    from .errors import UsageError
    from .inference.batch import ModelSet

    if pipeline is not None and models:
        raise UsageError("give either --model or --pipeline, not both", "list the models in the pipeline file")
    if pipeline is not None:
        from .pipeline import load_pipeline

        loaded = pipeline if hasattr(pipeline, "models") else load_pipeline(pipeline)
        return ModelSet.from_pipeline(loaded)
    if not models:
        raise UsageError("no model given", "use --model MODEL.aism (or an installed name), or --pipeline FILE.toml")
    return ModelSet(tuple((None, str(m)) for m in models))


def segmentation_scores(prediction: str | os.PathLike, truth: str | os.PathLike, threshold: float = 0.5) -> dict:
    """Dice, IoU, precision and recall of a segmentation file against a ground-truth mask file."""
    from .evaluate import segmentation_scores as scores

    pred = read_volume(prediction, require_pixel_size=False)
    true = read_volume(truth, require_pixel_size=False)
    return scores(pred.data, true.data, threshold)


def load_model(model: str | os.PathLike, device: str = "cpu"):
    """A model package ready to run: a file path, or an installed model's NAME or NAME@VERSION."""
    from .model import load_model as load

    return load(resolve_model(model), device=device)


def resolve_model(model: str | os.PathLike) -> Path:
    """The package file of ``model``: a path as is, or an installed NAME[@VERSION] (see ``ais-fw models``)."""
    from .model.installed import resolve_model as resolve

    return resolve(model)


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


def mesh_segmentation(segmentation: str | os.PathLike, output: str | os.PathLike, level: float = 0.5,
                      dust_nm3: float = 100.0, units: str = "nm", pixel_size: float | None = None,
                      colour: str | None = None) -> dict:
    """A surface mesh (.obj/.stl/.glb) of a segmentation (see :func:`ais_framework.mesh.mesh_segmentation`)."""
    from .mesh import mesh_segmentation as make_mesh

    return make_mesh(segmentation, output, level=level, dust_nm3=dust_nm3, units=units,
                     pixel_size=pixel_size, colour=colour)


def preview(tomogram: str | os.PathLike, output: str | os.PathLike, segmentations=(), picks=(),
            slices=None, **options) -> dict:
    """A PNG of slices with segmentations and picks drawn (see :func:`ais_framework.preview.preview`)."""
    from .preview import preview as draw

    return draw(tomogram, output, segmentations=segmentations, picks=picks, slices=slices, **options)


def compare(outdir: str | os.PathLike, architectures: list[str], sources: list, stores: list, options,
            validation=None, on_progress=None, on_row=None) -> dict:
    """Train several architectures on the same data and compare them (see
    :func:`ais_framework.compare.compare_architectures`); the report's ``rows`` hold one dict each."""
    from .compare import compare_architectures

    return compare_architectures(Path(outdir), list(architectures), sources, [Path(s) for s in stores], options,
                                 validation=validation, on_progress=on_progress, on_row=on_row)


def pick(segmentation: str | os.PathLike, mode: str = "blob", pixel_size: float | None = None, **params):
    """Picks (:class:`ais_framework.picks.Picks`) of one segmentation file with picker ``mode``.

    ``params`` are the picker's (physical units): threshold (0..1), min_size_A3, spacing_A,
    margin_A, binning, min_particles, ... (see ``ais-fw pick --help``).
    """
    from .picking import pick_file

    return pick_file(segmentation, mode, pixel_size=pixel_size, **params)


def write_picks(picks, path: str | os.PathLike, fmt: str | None = None, **options) -> Path:
    """Write picks atomically in a coordinate format (by name, or from the extension)."""
    from .picks import write_picks as write

    return write(picks, path, fmt=fmt, **options)


def read_picks(path: str | os.PathLike, fmt: str | None = None, pixel_size: float | None = None,
               tomogram: str | None = None, **options):
    """The picks of one tomogram in a coordinate file (see :func:`ais_framework.picks.read_picks`)."""
    from .picks import read_picks as read

    return read(path, fmt=fmt, pixel_size=pixel_size, tomogram=tomogram, **options)


def evaluate_picks(predicted: str | os.PathLike, truth: str | os.PathLike, tolerance_A: float,
                   pixel_size: float | None = None, truth_pixel_size: float | None = None,
                   tomogram: str | None = None) -> dict:
    """Precision, recall and F1 of predicted picks against true ones, optimal one-to-one matching
    within ``tolerance_A`` (see :mod:`ais_framework.evaluate` for the exact definition)."""
    from .evaluate import evaluate_pick_files

    return evaluate_pick_files(predicted, truth, tolerance_A, pixel_size=pixel_size,
                               truth_pixel_size=truth_pixel_size, tomogram=tomogram)
