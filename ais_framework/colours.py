"""Display colours for features: a stable palette chosen from the feature's name.

The same feature name gets the same colour in every picture, mesh and session, without any
configuration; a colour can always be given instead (``#rrggbb`` or a CSS name such as ``orange``).
"""
from __future__ import annotations

import re
import zlib
from pathlib import Path

from .errors import UsageError

# Bright, mutually distinct colours that stay visible over a grey tomogram.
PALETTE = (
    "#ffb000",  # amber
    "#00c2e0",  # cyan
    "#ff4f79",  # raspberry
    "#6fdc6f",  # green
    "#b68cff",  # lavender
    "#ff8a3d",  # orange
    "#4f9dff",  # blue
    "#f5e050",  # yellow
    "#3ee0b0",  # teal
    "#ff7ad9",  # pink
)

_HEX = re.compile(r"#[0-9a-fA-F]{6}")


def feature_colour(name: str) -> str:
    """The palette colour of a feature name (case-insensitive, stable across runs and machines)."""
    index = zlib.crc32(name.strip().lower().encode("utf-8")) % len(PALETTE)
    return PALETTE[index]


def distinct_colours(names: list[str]) -> list[str]:
    """Palette colours for several features at once: two different names never share a colour
    (while the palette lasts); a repeated name keeps its colour."""
    chosen: dict[str, str] = {}
    for name in names:
        key = name.strip().lower()
        if key in chosen:
            continue
        start = PALETTE.index(feature_colour(name))
        used = set(chosen.values())
        free = [PALETTE[(start + i) % len(PALETTE)] for i in range(len(PALETTE))]
        chosen[key] = next((c for c in free if c not in used), free[0])
    return [chosen[n.strip().lower()] for n in names]


def parse_colour(text: str) -> str:
    """``#rrggbb``, ``rrggbb`` or a CSS colour name → ``#rrggbb``; :class:`UsageError` otherwise."""
    from PIL import ImageColor

    value = text.strip()
    if re.fullmatch(r"[0-9a-fA-F]{6}", value):
        value = "#" + value
    if _HEX.fullmatch(value):
        return value.lower()
    try:
        red, green, blue = ImageColor.getrgb(value)[:3]
    except ValueError:
        raise UsageError(f"unknown colour {text!r}", "give #rrggbb (e.g. #ff8800) or a name like orange") from None
    return f"#{red:02x}{green:02x}{blue:02x}"


def rgb(colour: str) -> tuple[int, int, int]:
    """``#rrggbb`` → (r, g, b) in 0..255."""
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def feature_name(path: str | Path) -> str:
    """The feature a segmentation file holds: ``t1__membrane.mrc`` → ``membrane``;
    without ``__`` the file's stem (``truth/membrane.mrc`` → ``membrane``)."""
    stem = Path(path).stem
    return stem.rsplit("__", 1)[-1] if "__" in stem else stem
