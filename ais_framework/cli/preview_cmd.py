"""``ais-fw preview TOMO [SEG...] -o out.png``: a picture of slices with segmentations and picks."""
from __future__ import annotations

from pathlib import Path

import typer

from .output import print_json


def preview(
    tomogram: Path = typer.Argument(..., help="Tomogram file (.mrc, .rec, .tif, ...)."),
    segmentations: list[str] = typer.Argument(None, help="Segmentations to overlay, each PATH or PATH:COLOUR."),
    output: Path = typer.Option(..., "-o", "--output", help="PNG file to write."),
    picks: list[str] = typer.Option(None, "--picks", help="Coordinate file to mark (PATH or PATH:COLOUR); repeatable."),
    slices: str = typer.Option(None, "--slices", help="Z slices to show, e.g. 10,40,70 (default: 4 evenly spaced)."),
    level: float = typer.Option(0.5, "--level", help="Overlay segmentations where they reach this (0..1)."),
    pick_radius_A: float = typer.Option(100.0, "--pick-radius-A", help="Radius of a pick's circle in Å."),
    panel_size: int = typer.Option(512, "--panel-size", help="Long side of each slice panel in pixels."),
    smooth: float = typer.Option(1.0, "--smooth", help="Gaussian smoothing of the slices in pixels (0: off)."),
    pixel_size: float = typer.Option(None, "--pixel-size", help="Pixel size in Å, overriding the file's."),
    as_json: bool = typer.Option(False, "--json", help="Print what was drawn as JSON."),
) -> None:
    """Draw chosen slices of a tomogram with segmentations overlaid in their colours and picks circled."""
    from .. import api

    summary = api.preview(tomogram, output, segmentations=segmentations or [], picks=picks or [],
                          slices=_parse_slices(slices), pixel_size=pixel_size, level=level,
                          pick_radius_A=pick_radius_A, panel_size=panel_size, smooth=smooth)
    if as_json:
        print_json(summary)
        return
    width, height = summary["size"]
    shown = ", ".join(str(z) for z in summary["slices"])
    typer.echo(f"wrote {summary['output']} ({width}×{height} px, slices {shown})")


def _parse_slices(text: str | None) -> list[int] | None:
    from ..errors import UsageError

    if not text:
        return None
    try:
        return [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise UsageError(f"--slices must be whole numbers separated by commas, got {text!r}",
                         "e.g. --slices 10,40,70") from None
