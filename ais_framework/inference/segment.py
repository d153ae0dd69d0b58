"""Segment whole tomograms with one or several models, streaming through Z.

For each tomogram, every model predicts the same window of slices; competition and
interactions (a :class:`~ais_framework.pipeline.Pipeline`) are applied to the window with
the halo they need; the window's central slices are written to each output. Memory stays
at a few windows whatever the tomogram's size: the tomogram is read memory-mapped (pages
released after each window) and outputs are written slab by slab, atomically.

Outputs: ``{tomogram stem}__{name}.mrc`` (name: the model's feature, or its pipeline name),
uint8 0-255 (or float16 0-1), the same shape, voxel size and origin as the tomogram.
"""
from __future__ import annotations

import contextlib
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import UsageError
from ..normalisation import robust_stats
from ..volume import Volume, release_pages, slab_writer

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class SegmentOptions:
    batch_size: int = 8
    device: str = "cpu"
    precision: str = "auto"
    tta: int = 1
    tile: int | None = None
    z_range: tuple[int, int] | None = None
    as_float16: bool = False
    overwrite: bool = False
    window: int = 16


@dataclass
class ModelRun:
    """One model of a segmentation run: its output name and the loaded package."""

    name: str
    model: Any
    notes: list[str] = field(default_factory=list)


def output_path(outdir: Path, tomogram: Path, name: str) -> Path:
    """``{tomogram stem}__{name}.mrc`` in ``outdir``."""
    return Path(outdir) / f"{Path(tomogram).stem}__{name}.mrc"


def to_output(probs: np.ndarray, as_float16: bool = False) -> np.ndarray:
    """Probabilities as saved: uint8 0-255 (default) or float16 0-1."""
    if as_float16:
        return probs.astype(np.float16)
    scaled = probs * np.float32(255.0)
    scaled += np.float32(0.5)  # truncation below then rounds to the nearest level
    np.clip(scaled, 0.0, 255.0, out=scaled)
    return scaled.astype(np.uint8)


def z_bounds(n_slices: int, z_range: tuple[int, int] | None) -> tuple[int, int]:
    """The slices to segment, ``[lo, hi)``; a clear error when the range holds none."""
    if z_range is None:
        return 0, n_slices
    lo, hi = max(0, int(z_range[0])), min(n_slices, int(z_range[1]))
    if hi <= lo:
        raise UsageError(f"--z-range {z_range[0]} {z_range[1]} holds no slice of a tomogram with {n_slices}",
                         f"give FIRST LAST with 0 <= FIRST < LAST <= {n_slices}")
    return lo, hi


def rescale_note(name: str, model: Any, volume: Volume) -> list[str]:
    """A note when the model's pixel size differs from the tomogram's (the engine rescales)."""
    model_px, tomo_px = model.metadata.pixel_size_A, volume.pixel_size
    if abs(tomo_px / model_px - 1.0) < 1e-3:
        return []
    return [f"{name}: the model was trained at {model_px:g} Å/px, the tomogram has {tomo_px:g} Å/px; "
            f"slices are rescaled by {tomo_px / model_px:.3g} for the model and back"]


def segment_volume(runs: list[ModelRun], volume: Volume, outputs: dict[str, Path],
                   options: SegmentOptions = SegmentOptions(), pipeline: Any = None,
                   on_progress: ProgressCallback | None = None) -> dict[str, Path]:
    """Segment ``volume`` with every model in ``runs``; write ``outputs[name]`` for each name given.

    Returns the written paths. With a ``pipeline``, competition and interactions are applied
    before writing (names in ``runs`` must be the pipeline's model names).
    """
    from .predict import SlicePredictor
    from .runner import Runner

    lo, hi = z_bounds(volume.shape[0], options.z_range)
    stats = robust_stats(volume.data)
    predictors = {run.name: SlicePredictor(run.model, _runner(Runner, run.model, options), volume, stats,
                                           options.batch_size) for run in runs}
    halo = _halo(pipeline, volume)
    windows = {name: _Window(predictor.predict) for name, predictor in predictors.items()}
    dtype = np.float16 if options.as_float16 else np.uint8
    with contextlib.ExitStack() as stack:
        writers = {name: stack.enter_context(slab_writer(path, volume, dtype)) for name, path in outputs.items()}
        background = stack.enter_context(ThreadPoolExecutor(max_workers=1))  # writes while the next window runs
        pending = None
        for z0 in range(lo, hi, options.window):
            z1 = min(z0 + options.window, hi)
            a, b = max(lo, z0 - halo), min(hi, z1 + halo)
            probs = {name: window.get(a, b) for name, window in windows.items()}
            if pipeline is not None:
                probs = _postprocess(probs, pipeline, volume)
            _wait(pending)
            kept = {name: probs[name][z0 - a : z1 - a] for name in writers}
            pending = background.submit(_write_window, writers, kept, z0, options.as_float16)
            release_pages(volume.data)
            if on_progress:
                on_progress(z1 - lo, hi - lo)
        _wait(pending)
    return dict(outputs)


def _write_window(writers: dict, probs: dict[str, np.ndarray], z0: int, as_float16: bool) -> None:
    for name, writer in writers.items():
        writer.write(z0, to_output(probs[name], as_float16))


def _wait(pending: Any) -> None:
    if pending is not None:
        pending.result()  # re-raises a failed write here


def _runner(factory: Any, model: Any, options: SegmentOptions) -> Any:
    return factory(model, device=options.device, precision=options.precision, tta=options.tta, tile=options.tile)


def _halo(pipeline: Any, volume: Volume) -> int:
    if pipeline is None:
        return 0
    from ..pipeline import halo_slices

    return int(halo_slices(pipeline, volume.pixel_size))


def _postprocess(probs: dict[str, np.ndarray], pipeline: Any, volume: Volume) -> dict[str, np.ndarray]:
    from ..pipeline import postprocess

    return postprocess(probs, pipeline, volume.pixel_size)


class _Window:
    """Predicted slices ``[start, start + len)`` of one model, extended and trimmed as Z advances."""

    def __init__(self, predict: Callable[[int, int], np.ndarray]):
        self.predict = predict
        self.start = 0
        self.slices: np.ndarray | None = None

    def get(self, a: int, b: int) -> np.ndarray:
        """Probabilities for slices ``a .. b - 1`` (``a`` never decreases between calls)."""
        if self.slices is None or not self.start <= a <= self.start + len(self.slices):
            self.start, self.slices = a, self.predict(a, b)
            return self.slices
        stop = self.start + len(self.slices)
        kept = self.slices[a - self.start :]
        new = self.predict(stop, b) if b > stop else kept[:0]
        self.start, self.slices = a, np.concatenate([kept, new])
        return self.slices[: b - a]


def predict_slices(model: Any, data: np.ndarray, zs: Any, stats: dict, factor: float, device: str = "cpu",
                   precision: str = "auto", tta: int = 1) -> np.ndarray:
    """Probabilities (len(zs), Y, X) of the consecutive slices ``zs`` of ``data`` (live preview, checks).

    The prepared network is kept with the model's network, so calling this slice after slice
    does not copy and fold the network each time.
    """
    from .predict import SlicePredictor
    from .runner import Runner

    zs = list(zs)
    volume = Volume(data, pixel_size=factor * model.metadata.pixel_size_A)
    runners = _RUNNERS.setdefault(model.network, {})
    if (device, precision, tta) not in runners:  # a Runner copies and folds the network: do it once
        runners[(device, precision, tta)] = Runner(model, device, precision, tta)
    predictor = SlicePredictor(model, runners[(device, precision, tta)], volume, stats, batch_size=len(zs))
    return predictor.predict(zs[0], zs[-1] + 1)


#: network -> {(device, precision, tta): Runner}; entries go with their network
_RUNNERS: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()
