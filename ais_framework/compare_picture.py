"""``compare.png``: one tomogram slice segmented by several models, side by side (Pillow).

Each panel is the slice in grey (contrast from its 1st-99th percentiles) with a probability
map drawn over it in yellow (opacity grows with the probability), under a caption. Panels are
scaled so their longer side is between ``MIN_SIDE`` and ``MAX_SIDE`` pixels and laid out in rows
of at most ``COLUMNS``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .atomic import atomic_path

MIN_SIDE, MAX_SIDE = 200, 360
COLUMNS = 4
CAPTION = 22  # px above each panel
GAP = 6
OVERLAY = np.array([255, 204, 0], dtype=np.float32)
OPACITY = 0.65


def grey(image: np.ndarray) -> np.ndarray:
    """uint8 (Y, X) of ``image`` with its 1st-99th percentiles stretched to 0-255."""
    image = np.asarray(image, dtype=np.float32)
    lo, hi = np.percentile(image, [1, 99]) if image.size else (0.0, 1.0)
    scaled = (image - lo) / (hi - lo) if hi > lo else np.zeros_like(image)
    return np.clip(np.rint(scaled * 255), 0, 255).astype(np.uint8)


def overlay(base: np.ndarray, probs: np.ndarray | None) -> np.ndarray:
    """RGB uint8 (Y, X, 3): the grey ``base`` with ``probs`` (0..1) blended over it in yellow."""
    rgb = np.repeat(base[..., None].astype(np.float32), 3, axis=2)
    if probs is not None:
        alpha = OPACITY * np.clip(np.asarray(probs, dtype=np.float32), 0, 1)[..., None]
        rgb = rgb * (1 - alpha) + OVERLAY * alpha
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def _panel_size(shape: tuple[int, int]) -> tuple[int, int]:
    """(width, height) of a panel for a (Y, X) slice."""
    longest = max(shape)
    scale = MIN_SIDE / longest if longest < MIN_SIDE else min(1.0, MAX_SIDE / longest)
    return max(1, round(shape[1] * scale)), max(1, round(shape[0] * scale))


def _font(size: int = 14):
    from PIL import ImageFont

    return ImageFont.load_default(size=size)  # scalable since Pillow 10.1


def render_comparison(path: str | Path, image: np.ndarray, panels: list[tuple[str, np.ndarray | None]]) -> Path:
    """Write ``path`` (PNG, atomically): ``image`` (Y, X) once per panel, with each panel's
    probabilities (or nothing, for None) over it and its caption above. Returns the path."""
    from PIL import Image, ImageDraw

    base = grey(image)
    width, height = _panel_size(base.shape)
    columns = min(COLUMNS, max(1, len(panels)))
    rows = -(-len(panels) // columns)
    sheet = Image.new("RGB", (columns * (width + GAP) + GAP, rows * (height + CAPTION + GAP) + GAP), "white")
    draw, font = ImageDraw.Draw(sheet), _font()
    for i, (caption, probs) in enumerate(panels):
        left = GAP + (i % columns) * (width + GAP)
        top = GAP + (i // columns) * (height + CAPTION + GAP)
        tile = Image.fromarray(overlay(base, probs), "RGB").resize((width, height), Image.Resampling.BILINEAR)
        sheet.paste(tile, (left, top + CAPTION))
        draw.text((left + 2, top + 3), caption, fill="black", font=font)
    with atomic_path(path) as tmp:
        sheet.save(tmp, format="PNG")
    return Path(path)
