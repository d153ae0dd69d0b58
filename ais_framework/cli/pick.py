"""``ais-fw pick SEG... --mode blob|centroid|filament -o OUT``: particle coordinates from segmentations."""
from __future__ import annotations

from pathlib import Path

import typer

from .output import print_json

FORMAT_HELP = "Coordinate format: star (RELION 3/4), relion5, tbl (Dynamo), json (copick), csv, tsv."


def pick(
    segmentations: list[Path] = typer.Argument(..., metavar="SEG", help="Segmentation files ({tomogram}__{feature}.mrc; uint8 "
                                                         "0-255, 0/1 mask or float 0..1)."),
    output: Path = typer.Option(..., "-o", "--output", help="Folder for the coordinate files (one per segmentation)."),
    mode: str = typer.Option("blob", "--mode", help="Picker: blob, centroid, filament (or a plugin's)."),
    threshold: float = typer.Option(0.5, "--threshold", help="Particle where the segmentation is >= this (0..1)."),
    min_size_A3: float = typer.Option(None, "--min-size-A3", help="Drop particles smaller than this volume, Å³."),
    spacing_A: float = typer.Option(None, "--spacing-A", help="blob: minimum distance between picks; "
                                                             "filament: distance between picks along it; Å."),
    margin_A: float = typer.Option(None, "--margin-A", help="Drop picks closer than this to the volume faces, Å."),
    binning: int = typer.Option(None, "--binning", help="Average b³ blocks first for speed (1 = none, 0 = auto)."),
    min_particles: int = typer.Option(None, "--min-particles", help="Tomograms with fewer picks get none."),
    orient: str = typer.Option(None, "--orient", help="centroid: none, normal (disc) or axis (rod) -> Euler angles."),
    min_length_A: float = typer.Option(None, "--min-length-A", help="filament: prune branches shorter than this, Å."),
    twist_deg: float = typer.Option(None, "--twist-deg", help="filament: rotation about the axis per step, degrees."),
    fmt: str = typer.Option("star", "--format", help=FORMAT_HELP),
    pixel_size: float = typer.Option(None, "--pixel-size", help="Pixel size in Å, overriding the files'."),
    jobs: int = typer.Option(0, "--jobs", "-j", help="Parallel processes (0 = one per CPU)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summaries as JSON."),
) -> None:
    """Pick particles in segmentations, one coordinate file per segmentation, in parallel processes.

    Files are named {segmentation name}_picks.{ext}. A segmentation with nothing to pick gives an
    empty but valid file, and says so.
    """
    from ..errors import AisError
    from ..picking import pick_many

    params = dict(threshold=threshold, min_size_A3=min_size_A3, spacing_A=spacing_A, margin_A=margin_A,
                  binning=binning, min_particles=min_particles, orient=orient, min_length_A=min_length_A,
                  twist_deg=twist_deg)
    results = pick_many(segmentations, output, mode=mode, fmt=fmt.lower(), jobs=jobs, pixel_size=pixel_size,
                        on_done=None if as_json else _say, **params)
    failed = [r for r in results if r.get("error")]
    if as_json:
        print_json(results)
    if failed:
        raise AisError(f"{len(failed)} of {len(results)} segmentations could not be picked", "see the lines above")


def _say(summary: dict) -> None:
    if summary.get("error"):
        typer.echo(f"error: {summary['segmentation']}: {summary['error']}", err=True)
        if summary.get("hint"):
            typer.echo(f"hint: {summary['hint']}", err=True)
        return
    line = f"{summary['segmentation']}: {summary['picks']} picks -> {summary['output']}"
    if summary.get("note"):
        line += f" (empty file: {summary['note']})"
    typer.echo(line)
