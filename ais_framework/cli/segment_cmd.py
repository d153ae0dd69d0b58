"""``ais-fw segment``: segment tomograms with models or a pipeline (competition, interactions)."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Iterator, Optional

import typer

from .output import is_terminal, print_json


def segment(
    tomograms: list[Path] = typer.Argument(..., help="Tomograms to segment (.mrc, .tif)."),
    output: Path = typer.Option(..., "-o", "--output", help="Folder for the {tomogram}__{feature}.mrc outputs."),
    model: list[str] = typer.Option([], "--model", "-m", help="Model (.aism path or installed name); repeatable."),
    pipeline: Path = typer.Option(None, "--pipeline", help="Pipeline file (.toml): models, competition, interactions."),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda or cuda:N[,M] (several GPUs share the tomograms)."),
    batch_size: int = typer.Option(8, "--batch-size", min=1, help="Slices per network call."),
    tta: int = typer.Option(1, "--tta", min=1, max=8, help="Test-time augmentation: average of 1..8 dihedral variants."),
    tile: int = typer.Option(None, "--tile", min=64, help="Run each slice in XY tiles of this size (default: only when out of memory)."),
    precision: str = typer.Option("auto", "--precision", help="auto, fp32, bf16 or fp16 (auto: fp16 on GPUs, bf16 on CPUs with bf16 hardware)."),
    z_range: Optional[tuple[int, int]] = typer.Option(None, "--z-range", help="Only slices FIRST..LAST-1 (others are 0)."),
    float16: bool = typer.Option(False, "--float16", help="Write float16 probabilities 0-1 instead of uint8 0-255."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Redo outputs that exist already."),
    pixel_size: float = typer.Option(None, "--pixel-size", help="Pixel size (Å) of the tomograms, if their files lack it."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """Segment tomograms: one output per tomogram and model, written atomically; finished ones are skipped."""
    from .. import api

    options = dict(device=device, batch_size=batch_size, tta=tta, tile=tile, precision=precision,
                   z_range=z_range, as_float16=float16, overwrite=overwrite)
    with _progress(enabled=not quiet and not as_json and is_terminal()) as report:
        results = api.segment(list(tomograms), output, models=list(model), pipeline=pipeline,
                              pixel_size=pixel_size, on_progress=report, **options)
    if as_json:
        print_json(results)
        return
    for result in results:
        _print_result(result)


def _print_result(result: dict) -> None:
    name = Path(result["tomogram"]).name
    for note in result["notes"]:
        typer.echo(f"note: {note}")
    if result["skipped"]:
        typer.echo(f"{name}: skipped, every output exists (use --overwrite to redo)")
        return
    outputs = ", ".join(Path(p).name for p in result["outputs"].values())
    typer.echo(f"{name}: {outputs} ({result['seconds']:.1f} s)")


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[Any]:
    """A callback ``(done, total, tomogram)`` that drives a rich progress bar with ETA (or nothing)."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
               TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task("segmenting", total=None)

        def report(done: float, total: int, tomogram: str) -> None:
            bar.update(task, completed=done, total=total, description=f"segmenting {tomogram}")

        yield report
