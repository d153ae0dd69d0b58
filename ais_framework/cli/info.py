"""``ais-fw info TOMO``: shape, dtype, pixel size, origin and value statistics of a volume."""
from __future__ import annotations

from pathlib import Path

import typer

from .output import print_json


def info(
    tomogram: Path = typer.Argument(..., help="Tomogram or segmentation file (.mrc, .rec, .tif, ...)."),
    pixel_size: float = typer.Option(None, "--pixel-size", help="Pixel size in Å, overriding the file's."),
    as_json: bool = typer.Option(False, "--json", help="Print the facts as JSON."),
) -> None:
    """Show what a volume file holds; statistics are computed slab by slab (memory stays small)."""
    from .. import api

    facts = api.volume_info(tomogram, pixel_size=pixel_size)
    if as_json:
        print_json(facts)
        return
    for key, value in facts.items():
        typer.echo(f"{key:>11}: {_show(value)}")
    if facts["pixel_size_A"] is None:
        typer.echo("warning: the file has no pixel size; pass --pixel-size when you use it", err=True)


def _show(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        return " x ".join(_show(v) for v in value) if all(isinstance(v, int) for v in value) else ", ".join(_show(v) for v in value)
    return "missing" if value is None else str(value)
