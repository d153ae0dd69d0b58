"""``ais-fw demo``: the whole workflow on an embedded default (a synthetic tomogram).

It grows with the project; today: synth -> info -> plugins.
"""
from __future__ import annotations

from pathlib import Path

import typer


def demo(
    output: Path = typer.Option(Path("ais-fw-demo"), "-o", "--output", help="Folder for the demo's files."),
    seed: int = typer.Option(0, "--seed", help="Random seed of the synthetic tomogram."),
) -> None:
    """Run the workflow on a synthetic tomogram and print what happened at each step."""
    from .. import api

    typer.echo(f"1/3 simulating a tomogram with known ground truth in {output}/ ...")
    manifest = api.make_synthetic(output, seed=seed)
    typer.echo(f"    {manifest['tomogram']}")
    typer.echo("2/3 reading it back (ais-fw info):")
    facts = api.volume_info(manifest["tomogram"])
    typer.echo(
        f"    shape {' x '.join(map(str, facts['shape_zyx']))} (Z Y X), {facts['dtype']}, "
        f"{facts['pixel_size_A']} Å/px, mean {facts['mean']:.3f}, std {facts['std']:.3f}"
    )
    listing = api.list_plugins()
    typer.echo(f"3/3 {len(listing['plugins'])} plugins loaded (ais-fw plugins), {len(listing['failures'])} failed")
    typer.echo("done.")
