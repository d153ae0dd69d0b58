"""Draw a tomogram slice with overlays as half-block characters, vectorised with numpy.

Each terminal cell shows two vertical pixels: the upper one as the foreground colour of
``▀``, the lower one as the background colour. A cell is about twice as tall as wide, so
the screen pixels are square. Everything up to the final list of segments is numpy:
box-averaged sampling of the slice through an integral image (zoomed out, every image
pixel counts; zoomed in, each pixel becomes a block), window levels, colour blending of
overlays, and run-length merging of equal neighbouring cells. Rich styles are cached by
their two colours. No Textual import here: the widget wraps each row in a ``Strip``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style

HALF = "▀"
STYLE_CACHE_LIMIT = 200_000
RGB = tuple[int, int, int]


@dataclass(frozen=True)
class View:
    """Which part of a slice is shown: its centre (y, x) in image pixels and the scale
    (screen pixels per image pixel; 2 screen pixels per cell vertically)."""

    centre_y: float
    centre_x: float
    scale: float

    @classmethod
    def fit(cls, image_shape: tuple[int, int], cells: tuple[int, int]) -> "View":
        """The whole slice, centred, as large as the cells (width, height) allow."""
        height, width = image_shape
        scale = min(cells[0] / width, 2 * cells[1] / height)
        return cls(height / 2, width / 2, max(scale, 1e-6))

    def to_image(self, column: float, pixel_row: float, cells: tuple[int, int]) -> tuple[float, float]:
        """Image (y, x) under a screen pixel (column, pixel row), both counted from the top left."""
        y = self.centre_y + (pixel_row - cells[1]) / self.scale
        x = self.centre_x + (column - cells[0] / 2) / self.scale
        return y, x

    def to_screen(self, y: np.ndarray, x: np.ndarray, cells: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """Screen pixel (row, column) of image points (y, x) (arrays)."""
        rows = (np.asarray(y, float) - self.centre_y) * self.scale + cells[1]
        cols = (np.asarray(x, float) - self.centre_x) * self.scale + cells[0] / 2
        return rows, cols


@dataclass(frozen=True)
class Grid:
    """Image pixel bins under each screen pixel row/column: [start, stop) and inside-ness."""

    y0: np.ndarray
    y1: np.ndarray
    x0: np.ndarray
    x1: np.ndarray
    inside: np.ndarray  # (rows, columns) bool

    @classmethod
    def make(cls, view: View, image_shape: tuple[int, int], cells: tuple[int, int]) -> "Grid":
        y0, y1, yin = _bins(2 * cells[1], image_shape[0], view.centre_y, view.scale)
        x0, x1, xin = _bins(cells[0], image_shape[1], view.centre_x, view.scale)
        return cls(y0, y1, x0, x1, yin[:, None] & xin[None, :])

    def mean(self, integral: np.ndarray) -> np.ndarray:
        """Mean of the image over each screen pixel's bin, from its integral image."""
        total = _box_sums(integral, self)
        area = (self.y1 - self.y0)[:, None] * (self.x1 - self.x0)[None, :]
        return total / np.maximum(area, 1)

    def any(self, integral: np.ndarray) -> np.ndarray:
        """True where any pixel of the bin is set, from an integral image of a bool mask."""
        return (_box_sums(integral, self) > 0) & self.inside


def _bins(n_screen: int, n_image: int, centre: float, scale: float):
    edges = centre + (np.arange(n_screen + 1) - n_screen / 2) / scale
    start = np.floor(edges[:-1]).astype(np.int64)
    stop = np.maximum(np.floor(edges[1:]).astype(np.int64), start + 1)
    inside = (stop > 0) & (start < n_image)
    return np.clip(start, 0, n_image), np.clip(stop, 0, n_image), inside


def integral_image(image: np.ndarray) -> np.ndarray:
    """Summed-area table with a zero first row and column (float64, or int32 for bool masks)."""
    dtype = np.int32 if image.dtype == bool else np.float64
    table = np.zeros((image.shape[0] + 1, image.shape[1] + 1), dtype=dtype)
    np.cumsum(image, axis=0, dtype=dtype, out=table[1:, 1:])
    np.cumsum(table[1:, 1:], axis=1, out=table[1:, 1:])
    return table


def _box_sums(table: np.ndarray, grid: Grid) -> np.ndarray:
    y0, y1, x0, x1 = grid.y0[:, None], grid.y1[:, None], grid.x0[None, :], grid.x1[None, :]
    return table[y1, x1] - table[y0, x1] - table[y1, x0] + table[y0, x0]


def auto_levels(image: np.ndarray, low: float = 0.5, high: float = 99.5) -> tuple[float, float]:
    """Black and white levels at two percentiles of (a subsample of) the slice."""
    sample = np.asarray(image)[::2, ::2]
    lo, hi = np.percentile(sample, (low, high))
    return (float(lo), float(hi)) if hi > lo else (float(lo), float(lo) + 1.0)


def grey_to_rgb(values: np.ndarray, levels: tuple[float, float], inside: np.ndarray, background: RGB) -> np.ndarray:
    """uint8 (rows, columns, 3) greyscale through the levels; background outside the slice."""
    lo, hi = levels
    grey = np.clip((values - lo) * (255.0 / max(hi - lo, 1e-12)), 0, 255).astype(np.uint8)
    rgb = np.repeat(grey[:, :, None], 3, axis=2)
    rgb[~inside] = background
    return rgb


def hex_rgb(colour: str) -> RGB:
    colour = colour.lstrip("#")
    return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)


def blend(rgb: np.ndarray, where: np.ndarray, colour: RGB, alpha: float) -> None:
    """Tint ``rgb`` towards ``colour`` where ``where`` is True (in place)."""
    if not where.any():
        return
    tint = np.asarray(colour, np.float32) * alpha
    rgb[where] = (rgb[where] * (1.0 - alpha) + tint).astype(np.uint8)


def draw_rectangles(rgb: np.ndarray, boxes: list[tuple[float, float, float, float]], colour: RGB) -> None:
    """Outlines of (row0, col0, row1, col1) rectangles in screen pixels, clipped (in place)."""
    rows, cols = rgb.shape[:2]
    for r0, c0, r1, c1 in boxes:
        r0, r1 = int(round(r0)), int(round(r1))
        c0, c1 = int(round(c0)), int(round(c1))
        if r1 < 0 or c1 < 0 or r0 >= rows or c0 >= cols:
            continue
        rs, cs = slice(max(r0, 0), min(r1, rows - 1) + 1), slice(max(c0, 0), min(c1, cols - 1) + 1)
        for r in (r0, r1):
            if 0 <= r < rows:
                rgb[r, cs] = colour
        for c in (c0, c1):
            if 0 <= c < cols:
                rgb[rs, c] = colour


def draw_markers(rgb: np.ndarray, rows: np.ndarray, cols: np.ndarray, colour: RGB, radius: int = 1) -> None:
    """Small plus signs at screen pixels (rows, cols), clipped (in place)."""
    rows, cols = np.rint(rows).astype(int), np.rint(cols).astype(int)
    for dr, dc in [(0, 0)] + [(d, 0) for d in range(-radius, radius + 1) if d] + [(0, d) for d in range(-radius, radius + 1) if d]:
        r, c = rows + dr, cols + dc
        ok = (r >= 0) & (r < rgb.shape[0]) & (c >= 0) & (c < rgb.shape[1])
        rgb[r[ok], c[ok]] = colour


class HalfBlockPainter:
    """Turns a (2*rows, columns, 3) uint8 picture into rows of Rich segments, caching styles."""

    def __init__(self) -> None:
        self._styles: dict[int, Style] = {}
        self._segments: dict[int, Segment] = {}
        self._colours: dict[int, Color] = {}

    def _style(self, key: int) -> Style:
        style = self._styles.get(key)
        if style is None:
            if len(self._styles) > STYLE_CACHE_LIMIT:
                self._styles.clear()
            style = self._styles[key] = Style.from_color(self._colour(key >> 24), self._colour(key & 0xFFFFFF))
        return style

    def _colour(self, packed: int) -> Color:
        colour = self._colours.get(packed)
        if colour is None:
            if len(self._colours) > STYLE_CACHE_LIMIT:
                self._colours.clear()
            colour = self._colours[packed] = Color.from_rgb(packed >> 16, (packed >> 8) & 255, packed & 255)
        return colour

    def _segment(self, code: int) -> Segment:
        segment = self._segments.get(code)
        if segment is None:
            if len(self._segments) > STYLE_CACHE_LIMIT:
                self._segments.clear()
            segment = self._segments[code] = Segment(HALF * (code & 2047), self._style(code >> 11))
        return segment

    def segments(self, rgb: np.ndarray) -> list[list[Segment]]:
        """One list of segments per cell row; equal neighbouring cells share one segment."""
        if rgb.shape[0] % 2:
            rgb = np.concatenate([rgb, rgb[-1:]], axis=0)
        packed = (rgb[..., 0].astype(np.int64) << 16) | (rgb[..., 1].astype(np.int64) << 8) | rgb[..., 2]
        keys = (packed[0::2] << 24) | packed[1::2]
        rows, width = keys.shape
        if width == 0:
            return [[] for _ in range(rows)]
        change = np.ones_like(keys, dtype=bool)
        change[:, 1:] = keys[:, 1:] != keys[:, :-1]
        flat = np.flatnonzero(change.ravel())
        lengths = np.diff(np.append(flat, keys.size))
        # one Segment object per (colours, run length), reused across runs and frames
        unique, inverse = np.unique((keys.ravel()[flat] << 11) | np.minimum(lengths, 2047), return_inverse=True)
        made = [self._segment(code) for code in unique.tolist()]
        segments = list(map(made.__getitem__, inverse.tolist()))
        for i in np.flatnonzero(lengths >= 2047).tolist():  # runs wider than 2046 cells (rare)
            segments[i] = Segment(HALF * int(lengths[i]), segments[i].style)
        bounds = np.searchsorted(flat, np.arange(rows + 1) * width).tolist()
        lines = [segments[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
        return lines


@dataclass
class Layer:
    """A mask drawn over the slice: the integral image of a bool mask, its colour and opacity."""

    integral: np.ndarray
    colour: RGB
    alpha: float = 0.5


@dataclass
class Scene:
    """Everything drawn for one slice. ``boxes``: (y, x, size, colour) in image pixels;
    ``picks``: (ys, xs, colour) arrays of image pixels."""

    integral: np.ndarray
    shape: tuple[int, int]
    levels: tuple[float, float]
    layers: list[Layer]
    boxes: list[tuple[float, float, int, RGB]]
    picks: list[tuple[np.ndarray, np.ndarray, RGB]]


def draw_scene(scene: Scene, view: View, cells: tuple[int, int], background: RGB) -> np.ndarray:
    """The (2*rows, columns, 3) uint8 picture of ``scene`` under ``view``."""
    grid = Grid.make(view, scene.shape, cells)
    rgb = grey_to_rgb(grid.mean(scene.integral), scene.levels, grid.inside, background)
    for layer in scene.layers:
        blend(rgb, grid.any(layer.integral), layer.colour, layer.alpha)
    for y, x, size, colour in scene.boxes:
        (r0, r1), (c0, c1) = view.to_screen(np.array([y - size / 2, y + size / 2]),
                                            np.array([x - size / 2, x + size / 2]), cells)
        draw_rectangles(rgb, [(r0, c0, r1, c1)], colour)
    for ys, xs, colour in scene.picks:
        rows, cols = view.to_screen(ys, xs, cells)
        draw_markers(rgb, rows, cols, (0, 0, 0), radius=2)  # dark tips set picks apart from predictions
        draw_markers(rgb, rows, cols, colour)
    return rgb
