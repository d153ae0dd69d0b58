"""``ais-fw mesh SEG -o OUT.obj|.stl|.glb``: a surface mesh of a segmentation (marching cubes)."""
from __future__ import annotations

from pathlib import Path

import typer

from .output import print_json


def mesh(
    segmentation: Path = typer.Argument(..., help="Segmentation file (.mrc; uint8 0-255, 0/1 mask or float 0..1)."),
    output: Path = typer.Option(..., "-o", "--output", help="Mesh file to write: .obj, .stl or .glb."),
    level: float = typer.Option(0.5, "--level", help="Surface level on the 0..1 scale (0.5 = 128 of 255)."),
    dust_nm3: float = typer.Option(100.0, "--dust-nm3", help="Drop blobs smaller than this many nm³ (0 keeps all)."),
    units: str = typer.Option("nm", "--units", help="Vertex coordinates in nm or A (Å)."),
    pixel_size: float = typer.Option(None, "--pixel-size", help="Pixel size in Å, overriding the file's."),
    colour: str = typer.Option(None, "--colour", help="Mesh colour (#rrggbb or a name); default: the feature's."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Mesh a segmentation: blobs below --dust-nm3 removed, vertices in nm (or Å) from the file's pixel size and origin."""
    from .. import api

    units = "A" if units in ("A", "Å", "a", "angstrom") else units
    summary = api.mesh_segmentation(segmentation, output, level=level, dust_nm3=dust_nm3, units=units,
                                    pixel_size=pixel_size, colour=colour)
    if as_json:
        print_json(summary)
        return
    unit = "Å" if units == "A" else units
    typer.echo(f"wrote {summary['output']}: {summary['blobs']} blobs, {summary['vertices']} vertices, "
               f"{summary['faces']} triangles ({summary['dust_blobs']} dust blobs dropped)")
    typer.echo(f"  area {summary['area']:.4g} {unit}², enclosed volume {summary['volume']:.4g} {unit}³")
