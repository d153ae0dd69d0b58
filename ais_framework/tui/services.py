"""The blocking work the UI asks for, all through the library API; run in Textual workers.

Optional parts (the pipeline engine, picking, the model repository client) are looked up
when asked for: a screen hides or disables what is not installed. Nothing here touches
the UI, so every function can be called from a worker thread or a test.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import api
from .session import Dataset, ModelEntry, Session

_ARCHITECTURES: list[dict[str, Any]] | None = None


def optional_module(name: str):
    """The module ``name`` if it is installed and imports, else None."""
    try:
        return importlib.import_module(name)
    except Exception:  # an optional part that is absent or broken is simply not offered
        return None


def architectures() -> list[dict[str, Any]]:
    """Every architecture plugin with its parameter count for 2D (None where it is 3D only)."""
    global _ARCHITECTURES
    if _ARCHITECTURES is None:
        from ..plugins import get_registry
        from ..testing import count_parameters

        rows = []
        registry = get_registry()
        for name in sorted(registry.specs("architecture")):
            spec = registry.get("architecture", name)
            try:
                params = count_parameters(spec.build(depth=1)) if "2d" in spec.dims else None
            except Exception:
                params = None
            rows.append({"name": spec.name, "title": spec.title, "dims": ", ".join(spec.dims), "params": params})
        _ARCHITECTURES = rows
    return _ARCHITECTURES


def compute_stats(dataset: Dataset) -> dict:
    if dataset.stats is None:
        dataset.stats = api.tomogram_stats(dataset.volume)
    return dataset.stats


def train(session: Session, feature: str, output: Path, settings: dict[str, Any],
          on_epoch: Callable[[dict], Any], should_stop: Callable[[], bool]) -> dict[str, Any]:
    """Train a model for ``feature`` on every open tomogram annotated for it; saves first."""
    from ..errors import UsageError
    from ..training.run import TrainOptions

    session.save_all()
    stores = session.stores_with(feature)
    if not stores:
        raise UsageError(f"no slice is annotated for '{feature}'", "paint a few slices first (brush: b)")
    colours = {f.name: f.colour for d in session.datasets for f in d.store.features}
    pixel = session.dataset.volume.pixel_size if session.dataset else None
    options = TrainOptions(feature=feature, progress=False, should_stop=should_stop, pixel_size=pixel,
                           metadata={"colour": colours.get(feature, "#ffcc00")}, **settings)
    return api.train(output, [], stores, options, on_epoch=on_epoch)


CHEAP_ARCHITECTURES = ("unet_lite", "unet_s", "inceptionnet")  # ticked by default in the comparison view


def compare(session: Session, feature: str, architectures: list[str], outdir: Path, settings: dict[str, Any],
            validation_labels: Path | None = None, on_progress: Callable[[dict], Any] | None = None,
            on_row: Callable[[dict], Any] | None = None,
            should_stop: Callable[[], bool] = lambda: False) -> dict[str, Any]:
    """Train ``architectures`` on every open tomogram annotated for ``feature`` and compare them
    (:func:`ais_framework.api.compare`); validation labels, when given, belong to the current tomogram."""
    from ..errors import UsageError
    from ..training.run import LabelSource, TrainOptions

    session.save_all()
    stores = session.stores_with(feature)
    if not stores:
        raise UsageError(f"no slice is annotated for '{feature}'", "paint a few slices first (brush: b)")
    validation = None
    if validation_labels is not None:
        if session.dataset is None or not Path(validation_labels).is_file():
            raise UsageError(f"{validation_labels}: no such label volume",
                             "give a label volume (0/1/2) of the current tomogram, or leave it empty")
        validation = LabelSource(session.dataset.path, Path(validation_labels))
    colours = {f.name: f.colour for d in session.datasets for f in d.store.features}
    pixel = session.dataset.volume.pixel_size if session.dataset else None
    options = TrainOptions(feature=feature, progress=False, should_stop=should_stop, pixel_size=pixel,
                           metadata={"colour": colours.get(feature, "#ffcc00")}, **settings)
    return api.compare(outdir, architectures, [], stores, options, validation=validation,
                       on_progress=on_progress, on_row=on_row)


def load_model(path: str | Path, colours: dict[str, str]) -> ModelEntry:
    """A model package ready for live prediction and batch segmentation."""
    loaded = api.load_model(path)
    meta = loaded.metadata
    return ModelEntry(Path(path), loaded, meta.feature, colours.get(meta.feature, meta.colour), meta.threshold)


def save_model_copy(entry: ModelEntry, target: str | Path) -> Path:
    """Save a loaded model under another name (a verified copy of its package)."""
    from ..atomic import atomic_path

    target = Path(target).with_suffix(".aism")
    data = Path(entry.path).read_bytes()
    with atomic_path(target) as tmp:
        Path(tmp).write_bytes(data)
    return target


def predict(dataset: Dataset, entry: ModelEntry, z: int) -> np.ndarray:
    """Probabilities of slice ``z`` (cached per model and slice)."""
    key = (entry.key, int(z))
    if key not in dataset.predictions:
        stats = compute_stats(dataset)
        dataset.predictions[key] = api.segment_slice(entry.loaded, dataset.volume, int(z), stats=stats)
    return dataset.predictions[key]


class Cancelled(Exception):
    """The user cancelled a batch while a tomogram was being segmented (nothing was written)."""


def batch_pipeline(models: list[ModelEntry], interactions: list[dict]) -> Any:
    """The models' competition flags and the interactions between them as a checked pipeline,
    or None when the user set none (interactions naming a model not in ``models`` are left out)."""
    features = {m.feature for m in models}
    rules = [dict(r) for r in interactions if r["child"] in features and r["parent"] in features]
    if not rules and not any(m.emit or m.absorb for m in models):
        return None
    return _pipeline(models, rules)


def _pipeline(models: list[ModelEntry], rules: list[dict]) -> Any:
    from ..errors import UsageError

    engine = pipeline_module()
    if engine is None:
        raise UsageError("the pipeline engine is not installed in this ais-fw",
                         "clear the emit/absorb flags and interactions, or segment the models one by one")
    entries = [{"path": str(Path(m.path).resolve()), "name": m.feature, "emit": m.emit, "absorb": m.absorb,
                "threshold": float(m.threshold)} for m in models]
    return engine.check_pipeline(engine.Pipeline.model_validate({"model": entries, "interaction": rules}))


def segment(dataset: Dataset, models: list[ModelEntry], interactions: list[dict], outdir: Path,
            device: str = "auto", on_progress: Callable[[float], None] | None = None,
            should_stop: Callable[[], bool] = lambda: False) -> dict[str, Any]:
    """Segment one tomogram with ``models`` (their competition and interactions applied when set).

    Returns ``{"outputs": {feature: path}, "skipped", "notes"}``; existing outputs are kept.
    ``on_progress(fraction)``; ``should_stop()`` true stops at the next slab with :class:`Cancelled`.
    """
    def progress(done: int, total: int, name: str) -> None:
        if should_stop():
            raise Cancelled(name)
        if on_progress:
            on_progress(done / total)

    pipeline = batch_pipeline(models, interactions)
    source = {"pipeline": pipeline} if pipeline is not None else {"models": [str(m.path) for m in models]}
    [result] = api.segment([dataset.path], outdir, pixel_size=dataset.volume.pixel_size, device=device,
                           on_progress=progress, **source)
    outputs = {m.feature: Path(result["outputs"][m.feature]) for m in models}
    dataset.segmentations.update(outputs)
    return {**result, "outputs": outputs}


def pickers() -> list[str]:
    """Names of the installed picker plugins (empty when picking is not installed)."""
    from ..plugins import get_registry

    return sorted(get_registry().specs("picker"))


def picking_available() -> bool:
    return bool(pickers())


def pick(dataset: Dataset, entry: ModelEntry, outdir: Path, picker: str = "blob") -> np.ndarray:
    """Pick ``entry``'s feature in its segmentation at the model's threshold, write
    ``{segmentation stem}_picks.star`` (as ``ais-fw pick`` names it); returns (N, 3) z, y, x px."""
    segmentation = dataset.segmentations[entry.feature]
    params = {"threshold": entry.threshold} if "threshold" in picker_parameters(picker) else {}
    picks = api.pick(segmentation, picker, pixel_size=dataset.volume.pixel_size, **params)
    api.write_picks(picks, Path(outdir) / f"{segmentation.stem}_picks.star", "star")
    zyx = np.stack([picks.z, picks.y, picks.x], axis=1) if len(picks.x) else np.zeros((0, 3))
    dataset.picks[entry.feature] = zyx
    return zyx


def picker_parameters(picker: str) -> dict:
    """The parameters picker ``picker`` takes (an unknown picker is an error listing the installed ones)."""
    from ..plugins import get_registry

    return dict(getattr(get_registry().get("picker", picker), "parameters", None) or {})


def repository_client():
    """The model repository client module if installed, else None."""
    client = optional_module("ais_repository_client.client")
    install = optional_module("ais_repository_client.install")
    if client is None or install is None:
        return None
    return client


def search_repository(text: str) -> list[dict]:
    from ais_repository_client.client import RepositoryClient

    return RepositoryClient().search(text or None)


def install_from_repository(name: str) -> Path:
    from ais_repository_client.install import install_model

    return Path(install_model(name)["path"])


def pipeline_module():
    return optional_module("ais_framework.pipeline")


def interaction_kinds() -> list[str]:
    from ..plugins import get_registry

    return sorted(name for name in get_registry().specs("interaction") if name != "competition")


def save_pipeline(session: Session, path: str | Path) -> Path:
    """The loaded models (competition flags, thresholds) and interactions as a pipeline TOML file."""
    pipeline = _pipeline(session.models, [dict(r) for r in session.interactions])
    return pipeline_module().save_pipeline(pipeline, Path(path))


def parse_interaction(text: str, features: set[str]) -> dict[str, Any]:
    """``CHILD KIND PARENT RADIUS_NM [THRESHOLD]`` → an interaction rule (checked)."""
    from ..errors import UsageError

    parts = text.split()
    hint = "e.g. 'membrane avoid carbon 10' (child, kind, parent, radius in nm, optional threshold)"
    if len(parts) not in (4, 5):
        raise UsageError(f"cannot read {text!r}", hint)
    child, kind, parent = parts[:3]
    kinds = interaction_kinds() or ["colocalize", "avoid"]
    if kind not in kinds:
        raise UsageError(f"unknown interaction '{kind}'", f"known: {', '.join(kinds)}")
    for name in (child, parent):
        if name not in features:
            raise UsageError(f"no loaded model segments '{name}'", f"loaded: {', '.join(sorted(features)) or 'none'}")
    try:
        numbers = [float(p) for p in parts[3:]]
    except ValueError:
        raise UsageError(f"cannot read {text!r}", hint) from None
    return {"child": child, "parent": parent, "kind": kind, "radius_nm": numbers[0],
            "threshold": numbers[1] if len(numbers) > 1 else 0.5}
