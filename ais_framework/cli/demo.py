"""``ais-fw demo``: the whole workflow on an embedded default (synthetic tomograms).

synth (a training and a test tomogram) -> train a membrane model on a few slices ->
segment the test tomogram -> score it against the simulator's ground truth.
"""
from __future__ import annotations

from pathlib import Path

import typer

from .output import is_terminal


def _slices(n_slices: int, count: int) -> tuple[int, ...]:
    step = n_slices // (count + 1)
    return tuple(step * (i + 1) for i in range(count))


def _train(train_dir: dict, output: Path, epochs: int, seed: int, quiet: bool) -> dict:
    from .. import api
    from ..training.run import LabelSource, TrainOptions

    shape = api.volume_info(train_dir["tomogram"])["shape_zyx"]
    source = LabelSource(Path(train_dir["tomogram"]), Path(train_dir["files"]["membrane_mask"]), _slices(shape[0], 6))
    options = TrainOptions(feature="membrane", epochs=epochs, seed=seed, progress=not quiet and is_terminal())
    typer.echo(f"    {options.architecture}, slices {', '.join(map(str, source.slices))}, {epochs} epochs")
    return api.train(output / "membrane.aism", [source], [], options)


def demo(
    output: Path = typer.Option(Path("ais-fw-demo"), "-o", "--output", help="Folder for the demo's files."),
    seed: int = typer.Option(0, "--seed", help="Random seed of the synthetic tomograms and the training."),
    epochs: int = typer.Option(10, "--epochs", min=1, help="Training epochs."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
) -> None:
    """Run the workflow on synthetic tomograms and print the score at the end."""
    from .. import api

    typer.echo(f"1/4 simulating a training and a test tomogram in {output}/ ...")
    train_dir = api.make_synthetic(output / "train", seed=seed)
    test_dir = api.make_synthetic(output / "test", seed=seed + 1)
    facts = api.volume_info(test_dir["tomogram"])
    typer.echo(f"    {' x '.join(map(str, facts['shape_zyx']))} (Z Y X) at {facts['pixel_size_A']} Å/px; "
               f"{len(api.list_plugins()['plugins'])} plugins loaded")
    typer.echo("2/4 training a membrane model on 6 annotated slices ...")
    summary = _train(train_dir, output, epochs, seed, quiet)
    typer.echo(f"    saved {summary['model']} (best loss {summary['best_loss']:.4f}, {summary['seconds']:.0f} s)")
    typer.echo("3/4 segmenting the test tomogram ...")
    seg = api.segment_tomogram(test_dir["tomogram"], summary["model"], output / "segmented", overwrite=True)
    typer.echo(f"    {seg}")
    scores = api.segmentation_scores(seg, test_dir["files"]["membrane_mask"])
    typer.echo("4/4 membrane vs. ground truth: " + ", ".join(
        f"{k} {scores[k]:.3f}" for k in ("dice", "iou", "precision", "recall")))
