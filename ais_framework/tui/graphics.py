"""Terminal graphics for the slice view: Kitty's graphics protocol or Sixel where the terminal
has one, half-block characters everywhere else.

The optional package ``textual-image`` sends the pictures. It asks the terminal what it supports
when it is first imported, which only works before Textual takes over the terminal, so
:func:`choose` runs in ``ais-fw tui`` before the app starts. Half blocks stay the default for
tests and snapshots (they are the same on every machine).
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import UsageError

MODES = ("auto", "kitty", "sixel", "halfblock")
GRAPHICS = ("kitty", "sixel")
MAX_DENSITY = 4  # at most 4x4 picture pixels per half-block pixel: enough to show every image pixel


def available() -> bool:
    """True when textual-image is installed (it imports Textual's widget base)."""
    try:
        import textual_image.widget  # noqa: F401  (the import also measures the terminal's cells)
    except Exception:  # absent or broken: graphics are simply not offered
        return False
    return True


def detect() -> str:
    """'kitty', 'sixel' or 'halfblock': what the terminal answers (only valid before Textual starts)."""
    if not available():
        return "halfblock"
    from textual_image import renderable

    if renderable.Image is renderable.SixelImage:
        return "sixel"
    if renderable.Image is renderable.TGPImage:
        return "kitty"
    return "halfblock"


def choose(requested: str, detected: str | None = None) -> str:
    """The mode to use for ``--graphics requested``; ``detected`` (for tests) replaces asking the terminal."""
    if requested not in MODES:
        raise UsageError(f"unknown graphics mode '{requested}'", f"use one of: {', '.join(MODES)}")
    if requested == "halfblock":
        return "halfblock"
    if requested == "auto":
        return detected if detected is not None else detect()
    if detected is None and not available():
        raise UsageError(f"--graphics {requested} needs the textual-image package",
                         "pip install textual-image, or use --graphics halfblock")
    return requested


def image_widget(mode: str, **kwargs):
    """A textual-image widget that draws pictures with ``mode`` ('kitty' or 'sixel')."""
    from textual_image.widget import SixelImage, TGPImage

    if mode not in GRAPHICS:
        raise ValueError(f"not a graphics mode: {mode}")
    return (TGPImage if mode == "kitty" else SixelImage)(**kwargs)


def density(scale: float) -> int:
    """Picture pixels per half-block pixel (each way) at view ``scale``: enough to show every image
    pixel when zoomed out, 1 when zoomed in (the terminal enlarges the picture itself)."""
    return int(min(max(math.ceil(1.0 / max(scale, 1e-6)), 1), MAX_DENSITY))


def to_picture(rgb: np.ndarray):
    """A PIL picture of a (rows, columns, 3) uint8 array."""
    from PIL import Image

    return Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB")
