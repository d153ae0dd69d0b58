"""Train a model from annotations and save it as an ``.aism`` package.

This is the orchestration behind ``ais-fw train``, the demo and the TUI: gather training
sets, build the network from the architecture registry, train, save.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import __version__
from ..errors import UsageError
from ..plugins import get_registry
from ..volume import read_volume

DEFAULT_ARCHITECTURE = "unet_lite"


@dataclass(frozen=True)
class LabelSource:
    """A tomogram with a label volume (0 background, 1 feature, 2 ignore), restricted to ``slices``."""

    tomogram: Path
    labels: Path
    slices: tuple[int, ...] | None = None


@dataclass
class TrainOptions:
    feature: str
    architecture: str = DEFAULT_ARCHITECTURE
    epochs: int = 25
    batch_size: int = 32
    box: int = 64
    depth: int = 1
    copies: int = 8
    negative_ratio: float = 1.3
    loss: str = "bce"
    lr: float = 1e-3
    seed: int = 0
    device: str = "auto"
    train_pixel_size: float | None = None
    pixel_size: float | None = None
    augment: bool = False
    resume: Path | None = None
    progress: bool = True
    metadata: dict[str, Any] = field(default_factory=dict)
    should_stop: Callable[[], bool] | None = None  # polled after each batch: True cancels, keeping the best epoch


def training_dims(spec, depth: int) -> str:
    """'2d', '2.5d' or '3d' for this architecture and depth, or a clear error."""
    if depth < 1 or (depth > 1 and depth % 2 == 0):
        raise UsageError(f"depth must be 1 or an odd number, got {depth}", "use --depth 1 (2D), 3, 5, ... (2.5D/3D)")
    dims = "2d" if depth == 1 else ("3d" if "3d" in spec.dims else "2.5d")
    if dims == "2d" and "2d" not in spec.dims and "3d" in spec.dims:
        raise UsageError(f"architecture '{spec.name}' is 3D and needs --depth > 1", "try --depth 9")
    if dims not in spec.dims:
        raise UsageError(f"architecture '{spec.name}' does not support {dims} input", f"it supports {', '.join(spec.dims)}")
    return dims


def _label_slices(source: LabelSource, shape: tuple[int, int, int]) -> dict[int, np.ndarray]:
    from ..annotations import as_label_mask

    labels = read_volume(source.labels, require_pixel_size=False)
    if labels.shape != shape:
        raise UsageError(
            f"{source.labels}: label volume shape {labels.shape} differs from the tomogram's {shape}",
            "the labels must have the same Z Y X shape as the tomogram",
        )
    slices = source.slices if source.slices else range(shape[0])
    for z in slices:
        if not 0 <= z < shape[0]:
            raise UsageError(f"slice {z} is outside the tomogram (0..{shape[0] - 1})", "check --slices")
    return {int(z): as_label_mask(np.asarray(labels.data[z]), f"{source.labels} slice {z}") for z in slices}


def gather_training_sets(sources: list[LabelSource], stores: list[Path], options: TrainOptions, dims: str):
    """One merged training set from label volumes and annotation stores."""
    from ..annotations import AnnotationStore
    from .trainingset import extract_from_labels, extract_from_store, merge

    common = dict(feature=options.feature, box=options.box, depth=options.depth, dims=dims,
                  train_pixel_size=options.train_pixel_size, copies=options.copies,
                  negative_ratio=options.negative_ratio, seed=options.seed)
    sets = []
    for source in sources:
        volume = read_volume(source.tomogram, pixel_size=options.pixel_size)
        sets.append(extract_from_labels(volume, _label_slices(source, volume.shape), **common))
    for store_path in stores:
        store = AnnotationStore.open(store_path)
        volume = read_volume(store.tomogram_path(), pixel_size=options.pixel_size) if options.pixel_size else None
        sets.append(extract_from_store(store, volume=volume, **common))
    if not sets:
        raise UsageError("no training data given", "pass --tomogram T --labels L, or --annotations STORE")
    return merge(sets) if len(sets) > 1 else sets[0]


def _initial_weights(options: TrainOptions, dims: str):
    """Weights of the model given with ``--resume``, after checking it matches this run."""
    if options.resume is None:
        return None
    from ..model import load_model

    previous = load_model(options.resume)
    meta = previous.metadata
    if meta.architecture != options.architecture or meta.depth != options.depth:
        raise UsageError(
            f"{options.resume}: trained as {meta.architecture} depth {meta.depth}, "
            f"not {options.architecture} depth {options.depth}",
            f"resume with --architecture {meta.architecture} --depth {meta.depth}",
        )
    return previous.network.state_dict()


def _metadata(options: TrainOptions, trainingset, dims: str, result) -> dict[str, Any]:
    record = {
        "epochs": len(result.history), "loss": options.loss, "best_loss": result.best_loss,
        "best_epoch": result.best_epoch, "history": result.history, "seconds": round(result.total_seconds, 2),
        "samples": int(len(trainingset.inputs)), "positives": trainingset.n_positive,
        "negatives": trainingset.n_negative, "seed": options.seed, "batch_size": options.batch_size,
        "lr": options.lr, "copies": options.copies, "interrupted": result.interrupted,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "framework_version": __version__,
    }
    meta = {
        "name": f"{options.feature}_{trainingset.pixel_size:g}A", "feature": options.feature,
        "architecture": options.architecture, "dims": dims, "depth": options.depth, "box": options.box,
        "pixel_size_A": trainingset.pixel_size, "normalisation": trainingset.normalisation, "training": record,
    }
    meta.update(options.metadata)
    return meta


def train_model(output: Path, sources: list[LabelSource], stores: list[Path], options: TrainOptions,
                on_epoch: Callable[[dict], Any] | None = None) -> dict[str, Any]:
    """Train a model for ``options.feature`` and save it to ``output`` (.aism). Returns a summary.

    Ctrl-C stops training early; the best weights so far are still saved.
    """
    from ..model import save_model
    from .fit import train_network

    spec = get_registry().get("architecture", options.architecture)
    dims = training_dims(spec, options.depth)
    trainingset = gather_training_sets(sources, stores, options, dims)
    init = _initial_weights(options, dims)
    result = train_network(
        lambda: spec.build(depth=options.depth), trainingset.inputs, trainingset.labels,
        epochs=options.epochs, batch_size=options.batch_size, lr=options.lr, loss=options.loss,
        seed=options.seed, device=options.device, progress=options.progress, on_epoch=on_epoch,
        init_state_dict=init, augment=options.augment, should_stop=options.should_stop,
        discriminator=(lambda: spec.discriminator(depth=options.depth)) if spec.discriminator else None,
    )
    if not result.is_global_zero:
        return {}
    if result.best_epoch is None:
        raise UsageError("training stopped before the first epoch finished; nothing to save", "train again")
    meta = _metadata(options, trainingset, dims, result)
    save_model(output, result.network, meta, test_input=trainingset.inputs[:2])
    return {"model": str(output), **meta["training"], "history": result.history}
