"""Segment many tomograms with the same models (or pipeline): the work behind ``ais-fw segment``.

Each tomogram is segmented by :func:`~ais_framework.inference.segment.segment_volume`;
finished outputs are skipped unless ``overwrite``, so an interrupted overnight batch
resumes where it stopped. With several GPUs, tomograms are shared out between them, one
process per GPU.
"""
from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from ..errors import UsageError
from ..volume import read_volume
from .segment import ModelRun, SegmentOptions, output_path, rescale_note, segment_volume

BatchProgress = Callable[[float, int, str], None]  # (tomograms done, tomograms, current tomogram)


@dataclass
class TomogramResult:
    tomogram: Path
    outputs: dict[str, Path]
    skipped: bool = False
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"tomogram": str(self.tomogram), "outputs": {k: str(v) for k, v in self.outputs.items()},
                "skipped": self.skipped, "notes": self.notes, "seconds": round(self.seconds, 3)}


@dataclass(frozen=True)
class ModelSet:
    """What to segment with: ``(name or None, model path or installed name)`` pairs and a pipeline."""

    models: tuple[tuple[str | None, str], ...]
    pipeline: Any = None

    @classmethod
    def from_pipeline(cls, pipeline: Any) -> "ModelSet":
        return cls(tuple((m.name, str(pipeline.model_path(m))) for m in pipeline.models), pipeline)


def load_runs(models: ModelSet, device: str = "cpu") -> list[ModelRun]:
    """Load every model; names default to the feature and must be distinct."""
    from ..api import load_model

    runs = []
    for name, ref in models.models:
        loaded = load_model(ref, device=device)
        runs.append(ModelRun(name or loaded.metadata.feature, loaded, list(getattr(loaded, "warnings", []))))
    names = [run.name for run in runs]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise UsageError(f"two models would both write '{duplicate}'",
                         "segment them separately, or give them names in a pipeline file (name = ...)")
    return runs


def segment_tomograms(tomograms: list[Path], models: ModelSet, outdir: Path,
                      options: SegmentOptions = SegmentOptions(), devices: list[str] | None = None,
                      pixel_size: float | None = None, on_progress: BatchProgress | None = None) -> list[TomogramResult]:
    """Segment each tomogram into ``outdir``; results in the order given."""
    if not tomograms:
        raise UsageError("no tomogram given", "name one or more .mrc/.tif files")
    devices = devices or [options.device]
    if len(devices) > 1 and len(tomograms) > 1:
        return _in_parallel(tomograms, models, outdir, options, devices, pixel_size, on_progress)
    runs = load_runs(models, devices[0])
    options = replace(options, device=devices[0])
    total = len(tomograms)
    results = []
    for index, tomogram in enumerate(tomograms):
        def progress(done: int, count: int, index: int = index, name: str = Path(tomogram).name) -> None:
            if on_progress:
                on_progress(index + done / count, total, name)  # in tomograms, fractions included

        results.append(segment_one(Path(tomogram), runs, Path(outdir), options, models.pipeline, pixel_size, progress))
    return results


def segment_one(tomogram: Path, runs: list[ModelRun], outdir: Path, options: SegmentOptions,
                pipeline: Any = None, pixel_size: float | None = None,
                on_progress: Callable[[int, int], None] | None = None) -> TomogramResult:
    """Segment one tomogram with loaded models; skips it when every output exists already."""
    started = time.perf_counter()
    targets = {run.name: output_path(outdir, tomogram, run.name) for run in runs}
    todo = targets if options.overwrite else {n: p for n, p in targets.items() if not p.exists()}
    if not todo:
        return TomogramResult(tomogram, targets, skipped=True, notes=["every output exists (use --overwrite)"])
    volume = read_volume(tomogram, pixel_size=pixel_size)
    notes = [note for run in runs for note in run.notes + rescale_note(run.name, run.model, volume)]
    segment_volume(runs, volume, todo, options, pipeline, on_progress)
    return TomogramResult(tomogram, targets, notes=notes, seconds=time.perf_counter() - started)


def _in_parallel(tomograms: list[Path], models: ModelSet, outdir: Path, options: SegmentOptions,
                 devices: list[str], pixel_size: float | None, on_progress: BatchProgress | None) -> list[TomogramResult]:
    """One process per device, each segmenting its share of the tomograms in turn."""
    import multiprocessing

    shares = [(device, [t for i, t in enumerate(tomograms) if i % len(devices) == k])
              for k, device in enumerate(devices)]
    found: dict[Path, TomogramResult] = {}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=len(devices), mp_context=context) as pool:
        futures = [pool.submit(_segment_share, share, models, outdir, replace(options, device=device), pixel_size)
                   for device, share in shares if share]
        for future in as_completed(futures):
            for result in future.result():
                found[result.tomogram] = result
                if on_progress:
                    on_progress(len(found), len(tomograms), result.tomogram.name)
    return [found[Path(t)] for t in tomograms]


def _segment_share(tomograms: list[Path], models: ModelSet, outdir: Path, options: SegmentOptions,
                   pixel_size: float | None) -> list[TomogramResult]:
    runs = load_runs(models, options.device)
    return [segment_one(Path(t), runs, Path(outdir), options, models.pipeline, pixel_size) for t in tomograms]
