"""``ais-fw compare``: train several architectures on the same annotations and compare them in one table."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Optional

import typer

from .output import is_terminal, print_json
from .training_data import label_sources, parse_slices


def compare(
    architecture: list[str] = typer.Option(..., "--architecture", "-a", help="Architecture to compare (repeat: -a unet_lite -a unet_s ...)."),
    feature: str = typer.Option(..., "--feature", help="Name of the feature the models segment (e.g. membrane)."),
    output: Path = typer.Option(..., "-o", "--output", help="Folder for the models (.aism), compare.json/.csv and compare.png."),
    tomogram: list[Path] = typer.Option([], "--tomogram", help="Tomogram to train on (repeatable, with --labels)."),
    labels: list[Path] = typer.Option([], "--labels", help="Label volume for the --tomogram before it (0 bg, 1 feature, 2 ignore)."),
    slices: list[str] = typer.Option([], "--slices", help="Annotated slices to train on, e.g. 10,20,30-35 or 4-88:4 (default: all)."),
    annotations: list[Path] = typer.Option([], "--annotations", help="Annotation store to train from (repeatable)."),
    validate: Optional[tuple[Path, Path]] = typer.Option(None, "--validate", metavar="TOMO LABELS", help="Score every model on this tomogram against these labels (Dice, precision, recall)."),
    validate_slices: str = typer.Option(None, "--validate-slices", help="Slices of the --validate tomogram to score, e.g. 20-40 (default: all)."),
    epochs: int = typer.Option(25, "--epochs", min=1, help="Training epochs for every architecture."),
    batch_size: int = typer.Option(32, "--batch-size", min=1, help="Boxes per training step."),
    box: int = typer.Option(64, "--box", min=16, help="Box size in pixels (a multiple of 16)."),
    depth: int = typer.Option(1, "--depth", min=1, help="1 = 2D, odd > 1 = 2.5D."),
    copies: int = typer.Option(8, "--copies", min=1, help="Orientations each positive box is used in."),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda or cuda:N: for training, timing and validation."),
    pixel_size: float = typer.Option(None, "--pixel-size", help="Pixel size (Å) of the tomograms, if their files lack it."),
    seed: int = typer.Option(0, "--seed", help="Random seed, the same for every architecture."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON instead of the table."),
) -> None:
    """Train each architecture on the same training set and compare size, speed, loss and scores."""
    from .. import api
    from ..errors import UsageError
    from ..training.run import LabelSource, TrainOptions

    if validate_slices and not validate:
        raise UsageError("--validate-slices needs --validate TOMO LABELS", "add --validate, or drop --validate-slices")
    validation = None
    if validate:
        validation = LabelSource(validate[0], validate[1], parse_slices(validate_slices) if validate_slices else None)
    options = TrainOptions(feature=feature, epochs=epochs, batch_size=batch_size, box=box, depth=depth, copies=copies,
                           seed=seed, device=device, pixel_size=pixel_size, progress=not quiet and is_terminal())
    report = api.compare(output, architecture, label_sources(tomogram, labels, slices), list(annotations), options,
                         validation=validation, on_progress=None if quiet else _progress, on_row=None if quiet else _done)
    if as_json:
        print_json(report)
    else:
        _print_table(report)


def _progress(event: dict[str, Any]) -> None:
    if event["stage"] == "train":
        typer.echo(f"[{event['index']}/{event['total']}] {event['architecture']}: training ...", err=True)
    elif event["stage"] == "picture":
        typer.echo("drawing compare.png ...", err=True)


def _done(row: dict[str, Any]) -> None:
    facts = [f"{k} {_number(row[k])}" for k in ("train_loss", "dice") if row[k] is not None]
    typer.echo(f"    {row['architecture']}: {row['status']}{'; ' if facts else ''}{', '.join(facts)}"
               f"{'; ' + row['note'] if row['note'] else ''}", err=True)


def _number(value: float | None, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _parameters(count: int | None) -> str:
    if count is None:
        return ""
    return f"{count / 1e6:.2f} M" if count >= 100_000 else f"{count / 1e3:.1f} k"


def _seconds(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value * 1000:.1f} ms" if value < 0.1 else f"{value:.2f} s" if value < 10 else f"{value:.0f} s"


def _print_table(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    validated = report["validation"] is not None
    table = Table(title=f"{report['settings']['feature']}: {report['settings']['epochs']} epochs, "
                        f"timed on {report['inference_device']}")
    for column in ("architecture", "parameters", "training", "per 512×720 slice", "loss (BCE)"):
        table.add_column(column, justify="left" if column == "architecture" else "right")
    for column in ("Dice", "precision", "recall") if validated else ():
        table.add_column(column, justify="right")
    table.add_column("note")
    for row in report["rows"]:
        cells = [row["architecture"], _parameters(row["parameters"]), _seconds(row["train_seconds"]),
                 _seconds(row["seconds_per_slice"]), _number(row["train_loss"], 4)]
        cells += [_number(row[k]) for k in ("dice", "precision", "recall")] if validated else []
        cells.append(row["note"] or ("" if row["status"] == "trained" else row["status"]))
        table.add_row(*(Text(cell) for cell in cells))
    console = Console(width=None if sys.stdout.isatty() else 200)
    console.print(table)
    files = [Path(row["model"]).name for row in report["rows"] if row["model"]]
    files += ["compare.json", "compare.csv"] + (["compare.png"] if report["picture"] else [])
    console.print(Text(f"in {report['outdir']}: {', '.join(files)}"))
