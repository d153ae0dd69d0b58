"""``ais-fw synth OUTDIR``: write a synthetic tomogram with known ground truth."""
from __future__ import annotations

from pathlib import Path

import typer

from .output import print_json


def synth(
    output: Path = typer.Argument(..., help="Folder to write the tomogram and its ground truth into."),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same seed gives the same files."),
    shape: tuple[int, int, int] = typer.Option(None, "--shape", help="Volume shape Z Y X in pixels."),
    pixel_size: float = typer.Option(None, "--pixel-size", help="Pixel size in Å."),
    as_json: bool = typer.Option(False, "--json", help="Print the manifest as JSON."),
) -> None:
    """Simulate a tomogram (vesicles, carbon film with an edge, small and large particles) with ground truth."""
    from .. import api

    manifest = api.make_synthetic(output, seed=seed, shape=shape, pixel_size=pixel_size)
    if as_json:
        print_json(manifest)
        return
    typer.echo(f"wrote {manifest['tomogram']}")
    for name, path in manifest["files"].items():
        typer.echo(f"  {name}: {path}")
