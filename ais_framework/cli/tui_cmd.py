"""``ais-fw tui [TOMO...]``: the terminal UI (Textual is imported only here, when it runs)."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer


def tui(
    tomograms: Optional[List[Path]] = typer.Argument(None, help="Tomograms to open (.mrc, .rec, .tif); more can be opened inside."),
    pixel_size: float = typer.Option(None, "--pixel-size", help="Pixel size in Å for tomograms whose file has none."),
    light: bool = typer.Option(False, "--light", help="Colours for a light terminal background (Ctrl+L switches)."),
    graphics: str = typer.Option("auto", "--graphics", help="How slices are drawn: auto (ask the terminal), kitty, sixel or halfblock (G switches)."),
) -> None:
    """Annotate, train, segment and pick in the terminal (works over SSH; ? shows every key)."""
    from ..errors import InputFileError, UsageError

    for path in tomograms or []:
        if not path.is_file():
            raise InputFileError(f"{path}: no such file", "give the path of a tomogram (.mrc, .rec, .tif)")
    if graphics not in ("auto", "kitty", "sixel", "halfblock"):
        raise UsageError(f"unknown --graphics '{graphics}'", "use auto, kitty, sixel or halfblock")
    if pixel_size is not None and pixel_size <= 0:
        raise UsageError(f"--pixel-size must be positive, got {pixel_size}", "e.g. --pixel-size 10.0")
    try:
        from ..tui.app import run
    except ImportError as exc:
        raise UsageError(f"the terminal UI needs Textual ({exc})", "pip install textual") from exc
    run(list(tomograms or []), pixel_size=pixel_size, light=light, graphics=graphics)
