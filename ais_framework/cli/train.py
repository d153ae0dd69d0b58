"""``ais-fw train``: train a model for one feature and save it as ``.aism``."""
from __future__ import annotations

from pathlib import Path

import typer

from .output import is_terminal, print_json
from .training_data import label_sources


def train(
    feature: str = typer.Option(..., "--feature", help="Name of the feature the model segments (e.g. membrane)."),
    output: Path = typer.Option(..., "-o", "--output", help="Where to save the model (.aism)."),
    tomogram: list[Path] = typer.Option([], "--tomogram", help="Tomogram to train on (repeatable, with --labels)."),
    labels: list[Path] = typer.Option([], "--labels", help="Label volume for the --tomogram before it (0 bg, 1 feature, 2 ignore)."),
    slices: list[str] = typer.Option([], "--slices", help="Annotated slices to use, e.g. 10,20,30-35 or 4-88:4 (every 4th; default: all)."),
    annotations: list[Path] = typer.Option([], "--annotations", help="Annotation store to train from (repeatable)."),
    architecture: str = typer.Option("unet_lite", "--architecture", "-a", help="Network architecture (see `ais-fw plugins`)."),
    epochs: int = typer.Option(25, "--epochs", min=1, help="Training epochs."),
    batch_size: int = typer.Option(32, "--batch-size", min=1, help="Boxes per training step."),
    box: int = typer.Option(64, "--box", min=16, help="Box size in pixels (a multiple of 16)."),
    depth: int = typer.Option(1, "--depth", min=1, help="1 = 2D, odd > 1 = 2.5D (or a 3D slab for 3D networks)."),
    copies: int = typer.Option(8, "--copies", min=1, help="Orientations each positive box is used in."),
    loss: str = typer.Option("bce", "--loss", help="bce, dice or bce_dice (label 2 is ignored)."),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda or cuda:N."),
    resume: Path = typer.Option(None, "--resume", help="Continue training from this model (.aism)."),
    train_pixel_size: float = typer.Option(None, "--train-pixel-size", help="Resample training boxes to this pixel size (Å)."),
    pixel_size: float = typer.Option(None, "--pixel-size", help="Pixel size (Å) of the tomograms, if their files lack it."),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same seed gives the same model."),
    augment: bool = typer.Option(False, "--augment", help="Extra augmentation: brightness, contrast, noise, blur."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    as_json: bool = typer.Option(False, "--json", help="Print the training summary as JSON."),
) -> None:
    """Train a segmentation model from label volumes or an annotation store."""
    from ..training.run import TrainOptions, train_model

    options = TrainOptions(
        feature=feature, architecture=architecture, epochs=epochs, batch_size=batch_size, box=box, depth=depth,
        copies=copies, loss=loss, seed=seed, device=device, train_pixel_size=train_pixel_size,
        pixel_size=pixel_size, augment=augment, resume=resume, progress=not quiet and is_terminal(),
    )
    summary = train_model(output, label_sources(tomogram, labels, slices), list(annotations), options)
    if as_json:
        print_json(summary)
        return
    stopped = " (interrupted: best model so far saved)" if summary.get("interrupted") else ""
    typer.echo(
        f"saved {summary['model']}: best loss {summary['best_loss']:.4f} at epoch {summary['best_epoch']}, "
        f"{summary['samples']} samples, {summary['seconds']:.0f} s{stopped}"
    )
