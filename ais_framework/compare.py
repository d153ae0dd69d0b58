"""Compare network architectures on one feature: ``ais-fw compare`` and the TUI's comparison view.

Every architecture is trained by :func:`~ais_framework.training.run.train_model` with the same
options and seed, so each one sees the identical training set: extraction is deterministic for a
given seed and options (the set is built once here as well, its SHA-256 recorded, and each
model's sample counts checked against it). For each architecture the comparison reports:

- ``parameters``: weights and biases of the network;
- ``train_seconds``: the time training took (from the model's training record);
- ``seconds_per_slice``: the network alone on one 512×720 slice (padded to its size multiple)
  on the inference device, the median of a few runs after a warm-up;
- ``train_loss``: masked binary cross-entropy of the saved model (eval mode) over the whole
  training set, computed the same way for every network (Pix2pix included), after training;
- ``dice``, ``precision``, ``recall`` on the validation slices, when validation data is given
  (label 2 pixels are left out; the threshold is the model's, 0.5 by default).

3D networks are skipped with a note: they train on 3D slabs, not on the shared 2D/2.5D boxes.
``OUTDIR`` receives ``{architecture}.aism`` for each trained network, ``compare.json`` and
``compare.csv`` (rewritten atomically after every architecture) and ``compare.png``.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import statistics
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .atomic import write_text_atomic
from .errors import AisError, UsageError
from .plugins import get_registry
from .training.run import LabelSource, TrainOptions, gather_training_sets, training_dims

COLUMNS = ("architecture", "title", "status", "parameters", "train_seconds", "seconds_per_slice",
           "train_loss", "dice", "precision", "recall", "best_epoch", "epochs", "model", "note")
TIMING_SHAPE = (512, 720)
TIMING_RUNS = 3
Callback = Callable[[dict[str, Any]], Any]


@dataclass
class _Validation:
    """The validation slices, read once: the tomogram, its normalisation and the truth."""

    source: LabelSource
    volume: Any
    stats: dict
    slices: list[int]
    truth: np.ndarray  # (n, Y, X) bool, label 1
    ignore: np.ndarray  # (n, Y, X) bool, label 2
    picture: int  # index into slices of the slice shown in compare.png


@dataclass
class _Shared:
    """What the run of every architecture shares."""

    outdir: Path
    sources: list[LabelSource]
    stores: list[Path]
    options: TrainOptions
    trainingset: Any
    check: _Validation | None
    device: str
    timing_runs: int
    pictures: dict[str, np.ndarray]  # probabilities of the pictured slice, by architecture


def compare_architectures(outdir: str | Path, architectures: list[str], sources: list[LabelSource],
                          stores: list[Path], options: TrainOptions, validation: LabelSource | None = None,
                          on_progress: Callback | None = None, on_row: Callback | None = None,
                          timing_runs: int = TIMING_RUNS) -> dict[str, Any]:
    """Train each architecture on the same data and measure it; returns the report (``rows``: one per
    architecture, in the order given) that is also written to ``outdir/compare.json``.

    ``options.architecture`` is ignored (each name in ``architectures`` is used in turn).
    ``on_progress(event)`` gets dicts with ``stage`` (train, epoch, evaluate, picture),
    ``architecture``, ``index`` and ``total``; ``on_row(row)`` each finished row. A stop request
    (``options.should_stop``, Ctrl-C) ends the comparison after the current architecture.
    """
    outdir = Path(outdir)
    names = _checked_names(architectures)
    specs = {name: get_registry().get("architecture", name) for name in names}
    device = inference_device(options.device)
    check = None if validation is None else _open_validation(validation, options.pixel_size)
    plans = {name: _dims_or_note(specs[name], options.depth) for name in names}
    dims = next((plan for plan in plans.values() if not plan.startswith("skipped")), None)
    trainingset = None
    if dims is not None:
        trainingset = gather_training_sets(sources, [Path(s) for s in stores], options, dims)
    report = {"outdir": str(outdir), **_report_head(options, device, trainingset, check)}
    outdir.mkdir(parents=True, exist_ok=True)
    shared = _Shared(outdir, sources, [Path(s) for s in stores], options, trainingset, check, device, timing_runs, {})
    emit = _emitter(on_progress, len(names))
    for index, name in enumerate(names, 1):
        row = _row(name, specs[name])
        if plans[name].startswith("skipped"):
            _skip(row, specs[name], options.depth, plans[name])
        else:
            _train_and_measure(row, specs[name], shared, lambda event, n=name, i=index: emit(event, n, i))
        report["rows"].append(row)
        _write_tables(outdir, report)
        if on_row is not None:
            on_row(dict(row))
        if row["status"] == "interrupted":
            report["rows"] += [{**_row(n, specs[n]), "status": "not run", "note": "comparison stopped"}
                               for n in names[index:]]
            break
    if check is not None and shared.pictures:
        emit({"stage": "picture"}, None, len(names))
        report["picture"] = str(_write_picture(outdir / "compare.png", check, report["rows"], shared.pictures))
    _write_tables(outdir, report)
    return report


def inference_device(device: str) -> str:
    """The one torch device (``cpu`` or ``cuda:N``) that ``--device`` means for timing and validation."""
    from .devices import resolve_device

    choice = resolve_device(device)
    if choice.accelerator == "cpu":
        return "cpu"
    if len(choice.devices) > 1:
        raise UsageError(f"compare runs on one device, not '{device}'", "use --device cuda:0 (or cpu)")
    return f"cuda:{choice.devices[0]}"


def _checked_names(architectures: list[str]) -> list[str]:
    names = [a.strip() for a in architectures]
    if not names:
        raise UsageError("no architecture to compare", "give --architecture twice or more, e.g. -a unet_lite -a unet_s")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UsageError(f"architecture {', '.join(twice)} given more than once", "give each --architecture once")
    return names


def _dims_or_note(spec, depth: int) -> str:
    """'2d'/'2.5d' for a network that trains on the shared boxes, else 'skipped: why'."""
    if "3d" in spec.dims:
        return (f"skipped: 3D network, not trainable on the shared 2D/2.5D boxes; "
                f"train it alone: ais-fw train -a {spec.name} --depth 9")
    try:
        return training_dims(spec, depth)
    except UsageError as exc:
        return f"skipped: {exc.message} ({exc.hint})"


def _row(name: str, spec) -> dict[str, Any]:
    row: dict[str, Any] = {column: None for column in COLUMNS}
    row.update(architecture=name, title=spec.title, note="")
    return row


def _skip(row: dict, spec, depth: int, plan: str) -> None:
    from .testing import count_parameters

    row.update(status="skipped", note=plan[len("skipped: "):])
    try:
        row["parameters"] = count_parameters(spec.build(depth=max(depth, spec.size_multiple)))
    except Exception:  # the count is a courtesy; the note already says why it was not trained
        row["parameters"] = None


def _train_and_measure(row: dict, spec, shared: _Shared, emit: Callable[[dict], None]) -> None:
    from .training.run import train_model

    output = shared.outdir / f"{spec.name}.aism"
    emit({"stage": "train"})
    try:
        summary = train_model(output, shared.sources, shared.stores, replace(shared.options, architecture=spec.name),
                              on_epoch=lambda info: emit({"stage": "epoch", **info}))
    except AisError as exc:
        stopped = exc.message.startswith("training stopped")  # a stop request before the first epoch ended
        row.update(status="interrupted" if stopped else "failed", note=_one_line(exc))
        return
    row.update(model=str(output), train_seconds=summary["seconds"], best_epoch=summary["best_epoch"],
               epochs=summary["epochs"], status="interrupted" if summary["interrupted"] else "trained")
    if summary["interrupted"]:
        row["note"] = f"training stopped after epoch {summary['epochs']}; the best model so far is kept"
        return
    emit({"stage": "evaluate"})
    try:
        _measure(row, output, shared)
    except AisError as exc:
        row.update(status="failed", note=_one_line(exc))


def _measure(row: dict, output: Path, shared: _Shared) -> None:
    from .model import load_model
    from .testing import count_parameters

    model, trainingset = load_model(output, device=shared.device), shared.trainingset
    if model.metadata.training.samples != len(trainingset.inputs):
        raise AisError(f"{output}: trained on {model.metadata.training.samples} samples, the shared set has "
                       f"{len(trainingset.inputs)}", "a bug: the same seed and options must give the same set")
    row["parameters"] = count_parameters(model.network)
    row["train_loss"] = training_loss(model.network, trainingset.inputs, trainingset.labels,
                                      shared.options.batch_size, shared.device)
    row["seconds_per_slice"] = seconds_per_slice(model.network, model.metadata.depth, model.spec.size_multiple,
                                                 shared.device, shared.timing_runs)
    if shared.check is not None:
        scores, shared.pictures[row["architecture"]] = _validate(model, shared.check, shared.device)
        row.update(dice=scores["dice"], precision=scores["precision"], recall=scores["recall"])


def training_loss(network, inputs: np.ndarray, labels: np.ndarray, batch_size: int = 32,
                  device: str = "cpu") -> float:
    """Masked binary cross-entropy (label 2 ignored) of ``network`` in eval mode over every sample."""
    import torch
    import torch.nn.functional as F

    from .training.losses import target_and_mask

    total, count = 0.0, 0.0
    network.eval()
    with torch.inference_mode():
        for start in range(0, len(inputs), batch_size):
            x = torch.from_numpy(np.ascontiguousarray(inputs[start:start + batch_size])).to(device)
            target, valid = target_and_mask(torch.from_numpy(labels[start:start + batch_size]).to(device))
            per_pixel = F.binary_cross_entropy_with_logits(network(x).float(), target, reduction="none")
            total += float((per_pixel * valid).sum())
            count += float(valid.sum())
    return total / count if count else math.nan


def seconds_per_slice(network, depth: int, size_multiple: int, device: str = "cpu", runs: int = TIMING_RUNS,
                      shape: tuple[int, int] = TIMING_SHAPE) -> float:
    """Median seconds of ``network`` on one (1, depth, 512, 720) input (padded to its size multiple)
    on ``device``, after one warm-up run."""
    import torch

    h, w = (math.ceil(side / size_multiple) * size_multiple for side in shape)
    x = torch.randn(1, depth, h, w, generator=torch.Generator().manual_seed(0)).to(device)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    network.eval()
    times = []
    with torch.inference_mode():
        for run in range(max(1, runs) + 1):
            sync()
            started = time.perf_counter()
            network(x)
            sync()
            if run:  # run 0 is the warm-up
                times.append(time.perf_counter() - started)
    return statistics.median(times)


def _open_validation(source: LabelSource, pixel_size: float | None) -> _Validation:
    from .annotations import as_label_mask
    from .normalisation import robust_stats
    from .volume import read_volume

    volume = read_volume(source.tomogram, pixel_size=pixel_size)
    labels = read_volume(source.labels, require_pixel_size=False)
    if labels.shape != volume.shape:
        raise UsageError(f"{source.labels}: validation labels of shape {labels.shape} differ from the tomogram's "
                         f"{volume.shape}", "give the labels of the validation tomogram")
    slices = list(source.slices) if source.slices else list(range(volume.shape[0]))
    outside = [z for z in slices if not 0 <= z < volume.shape[0]]
    if outside:
        raise UsageError(f"validation slice {outside[0]} is outside the tomogram (0..{volume.shape[0] - 1})",
                         "check --validate-slices")
    masks = np.stack([as_label_mask(np.asarray(labels.data[z]), f"{source.labels} slice {z}") for z in slices])
    shown = int(np.argmax((masks == 1).sum(axis=(1, 2))))  # the slice with the most feature
    return _Validation(source, volume, robust_stats(volume.data), slices, masks == 1, masks == 2, shown)


def _validate(model, check: _Validation, device: str) -> tuple[dict, np.ndarray]:
    """Scores over the validation slices, and the probabilities of the pictured slice."""
    from .evaluate import segmentation_scores
    from .inference.segment import predict_slices

    factor = check.volume.pixel_size / model.metadata.pixel_size_A
    probs = np.stack([predict_slices(model, check.volume.data, [z], check.stats, factor, device)[0]
                      for z in check.slices])
    shown = probs[check.picture].copy()
    probs[check.ignore] = 0.0
    scores = segmentation_scores(probs, check.truth.astype(np.uint8), model.metadata.threshold)
    return scores, shown


def _report_head(options: TrainOptions, device: str, trainingset, check: _Validation | None) -> dict[str, Any]:
    settings = {key: getattr(options, key) for key in
                ("feature", "epochs", "batch_size", "box", "depth", "copies", "loss", "lr", "seed", "device")}
    validation = None
    if check is not None:
        validation = {"tomogram": str(check.source.tomogram), "labels": str(check.source.labels),
                      "slices": check.slices, "picture_slice": check.slices[check.picture]}
    return {"settings": settings, "inference_device": device, "timing_input_yx": list(TIMING_SHAPE),
            "training_set": _describe(trainingset), "validation": validation, "rows": [], "picture": None}


def _describe(trainingset) -> dict[str, Any] | None:
    if trainingset is None:
        return None
    digest = hashlib.sha256(np.ascontiguousarray(trainingset.inputs).tobytes())
    digest.update(np.ascontiguousarray(trainingset.labels).tobytes())
    return {"samples": int(len(trainingset.inputs)), "positives": trainingset.n_positive,
            "negatives": trainingset.n_negative, "dims": trainingset.dims, "pixel_size_A": trainingset.pixel_size,
            "sha256": digest.hexdigest()}


def _write_tables(outdir: Path, report: dict) -> None:
    write_text_atomic(outdir / "compare.json", json.dumps(report, indent=2, default=str) + "\n")
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: ("" if row.get(k) is None else row[k]) for k in COLUMNS} for row in report["rows"])
    write_text_atomic(outdir / "compare.csv", text.getvalue())


def _write_picture(path: Path, check: _Validation, rows: list[dict], pictures: dict) -> Path:
    from .compare_picture import render_comparison

    z = check.slices[check.picture]
    image = np.asarray(check.volume.data[z], dtype=np.float32)
    panels = [(f"tomogram z={z}", None), ("truth", check.truth[check.picture].astype(np.float32))]
    panels += [(f"{row['architecture']}  Dice {row['dice']:.3f}", pictures[row["architecture"]])
               for row in rows if row["architecture"] in pictures]
    return render_comparison(path, image, panels)


def _emitter(on_progress: Callback | None, total: int) -> Callable[[dict, str | None, int], None]:
    def emit(event: dict, name: str | None, index: int) -> None:
        if on_progress is not None:
            on_progress({**event, "architecture": name, "index": index, "total": total})
    return emit


def _one_line(exc: AisError) -> str:
    return " ".join(str(exc).split())
