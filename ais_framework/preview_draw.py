"""Drawing for :mod:`ais_framework.preview`: one panel (a slice with overlays, picks, labels) and
the page that arranges panels under a header with a legend. Pillow only; circles are drawn
at twice the size and scaled down so they are smooth."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .colours import rgb

BACKGROUND = (22, 24, 29)
TEXT = (235, 237, 240)
MUTED = (150, 156, 168)
FILL_ALPHA = 0.28
EDGE_ALPHA = 0.95
SUPERSAMPLE = 2


_ASCII = str.maketrans({"Å": "A", "×": "x", "µ": "u", "·": "-"})


@lru_cache(maxsize=16)
def font(size: int):
    """DejaVu Sans at ``size`` pixels where the system has it, else Pillow's bundled font."""
    from PIL import ImageFont

    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        pass
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError, ImportError):  # Pillow without FreeType: the small bitmap font
        return ImageFont.load_default()


@lru_cache(maxsize=16)
def _has_symbols(size: int) -> bool:
    """Whether the font draws Å and × (the bundled one shows a box for both)."""
    def shape(text: str) -> tuple:
        mask = font(size).getmask(text)
        return mask.size, bytes(mask)

    return all(shape(ch) != shape("\uffff") for ch in "Å×µ")


def clean(text: str, size: int) -> str:
    """``text`` as the font can draw it (Å → A and so on where it lacks the symbols)."""
    return text if _has_symbols(size) else text.translate(_ASCII)


def text_width(text: str, size: int) -> int:
    left, _, right, _ = font(size).getbbox(clean(text, size))
    return int(right - left)


def write(draw, at: tuple[float, float], text: str, size: int, fill=TEXT, **options) -> None:
    """Draw ``text`` in the font at ``size``; ``options`` go to ``ImageDraw.text`` (anchor, stroke)."""
    options.setdefault("anchor", "lt")
    draw.text(at, clean(text, size), fill=fill, font=font(size), **options)


class Canvas:
    """One panel: a grey slice scaled to ``size`` (width, height) onto which layers are drawn."""

    def __init__(self, grey: np.ndarray, size: tuple[int, int], scale: float):
        from PIL import Image

        picture = Image.fromarray(grey, mode="L").resize(size, Image.Resampling.BICUBIC)
        self.pixels = np.asarray(picture.convert("RGB"), dtype=np.float32)
        self.size, self.scale = size, scale
        self.text_size = max(11, min(24, round(max(size) / 34)))
        self._rings: list[tuple[np.ndarray, np.ndarray, str]] = []
        self._labels: list[tuple[str, str]] = []
        self._bar: tuple[float, str] | None = None

    def overlay(self, values: np.ndarray, level: float, colour: str) -> None:
        """Tint where ``values`` (0..1, slice-sized) reach ``level``: a translucent fill, a crisp edge."""
        from PIL import Image
        from scipy.ndimage import binary_erosion

        smooth = np.asarray(Image.fromarray(values.astype(np.float32), mode="F").resize(
            self.size, Image.Resampling.BILINEAR))
        inside = smooth >= level
        if not inside.any():
            return
        width = max(1, round(min(self.scale, 2.0)))
        edge = inside & ~binary_erosion(inside, structure=np.ones((3, 3)), iterations=width, border_value=1)
        tint = np.array(rgb(colour), dtype=np.float32)
        self.pixels[inside] += (tint - self.pixels[inside]) * FILL_ALPHA
        self.pixels[edge] += (tint - self.pixels[edge]) * EDGE_ALPHA

    def circles(self, centres_yx: np.ndarray, radii: np.ndarray, colour: str) -> None:
        """Rings (in slice pixels) to draw on top, in ``colour`` with a dark halo."""
        if len(radii):
            self._rings.append((np.asarray(centres_yx, dtype=float), np.asarray(radii, dtype=float), colour))

    def label(self, text: str) -> None:
        self._labels.append((text, "top-left"))

    def scale_bar(self, length: float, text: str) -> None:
        self._bar = (length, text)

    def image(self):
        """The finished panel as a PIL RGB image."""
        from PIL import Image

        picture = Image.fromarray(np.clip(self.pixels, 0, 255).astype(np.uint8), mode="RGB")
        for centres, radii, colour in self._rings:
            self._draw_rings(picture, centres, radii, colour)
        for text, _ in self._labels:
            self._draw_tag(picture, text, (8, 8))
        if self._bar:
            self._draw_bar(picture, *self._bar)
        return picture

    def _draw_rings(self, picture, centres: np.ndarray, radii: np.ndarray, colour: str) -> None:
        from PIL import Image, ImageDraw

        big = (self.size[0] * SUPERSAMPLE, self.size[1] * SUPERSAMPLE)
        halo, ring = Image.new("L", big, 0), Image.new("L", big, 0)
        halo_pen, ring_pen = ImageDraw.Draw(halo), ImageDraw.Draw(ring)
        line = max(2 * SUPERSAMPLE, round(self.text_size / 6 * SUPERSAMPLE))
        for (y, x), r in zip(centres, radii):
            cx, cy = (x + 0.5) * self.scale * SUPERSAMPLE, (y + 0.5) * self.scale * SUPERSAMPLE
            rr = max(r * self.scale * SUPERSAMPLE, 3 * SUPERSAMPLE)
            # Pillow draws outlines inwards from the box: grow the boxes so the lines centre on rr.
            for pen, width, value in ((halo_pen, line * 3, 170), (ring_pen, line, 255)):
                outer = rr + width / 2
                pen.ellipse((cx - outer, cy - outer, cx + outer, cy + outer), outline=value, width=width)
        dark = Image.new("RGB", self.size, (0, 0, 0))
        picture.paste(dark, (0, 0), halo.resize(self.size, Image.Resampling.LANCZOS))
        picture.paste(Image.new("RGB", self.size, rgb(colour)), (0, 0), ring.resize(self.size, Image.Resampling.LANCZOS))

    def _draw_tag(self, picture, text: str, at: tuple[int, int]) -> None:
        """Text on a translucent dark rounded box."""
        from PIL import Image, ImageDraw

        pad, size = 5, self.text_size
        box = (at[0], at[1], at[0] + text_width(text, size) + 2 * pad, at[1] + size + 2 * pad)
        shade = Image.new("L", picture.size, 0)
        ImageDraw.Draw(shade).rounded_rectangle(box, radius=pad, fill=150)
        picture.paste(Image.new("RGB", picture.size, (0, 0, 0)), (0, 0), shade)
        write(ImageDraw.Draw(picture), (at[0] + pad, at[1] + pad), text, size)

    def _draw_bar(self, picture, length: float, text: str) -> None:
        """A white scale bar with its length above it, in the bottom-right corner."""
        from PIL import ImageDraw

        size, margin = self.text_size, 10
        thick = max(3, size // 4)
        right, bottom = picture.size[0] - margin, picture.size[1] - margin
        left = right - max(1, round(length))
        draw = ImageDraw.Draw(picture)
        draw.rectangle((left - 1, bottom - thick - 1, right + 1, bottom + 1), fill=(0, 0, 0))
        draw.rectangle((left, bottom - thick, right, bottom), fill=(255, 255, 255))
        middle = (left + right) / 2
        write(draw, (middle, bottom - thick - 4), text, size, anchor="ms", stroke_width=2, stroke_fill=(0, 0, 0))


def columns_for(count: int, width: int, height: int, header: int, aspect: float = 1.6) -> int:
    """How many panels per row make the page closest to ``aspect`` (width / height)."""
    def page_aspect(cols: int) -> float:
        rows = -(-count // cols)
        return (cols * width) / (rows * height + header)

    def badness(cols: int) -> float:  # off the aspect, plus a penalty per empty cell
        return abs(np.log(page_aspect(cols) / aspect)) + 0.8 * (-(-count // cols) * cols - count)

    return min(range(1, count + 1), key=lambda cols: (badness(cols), cols))


def layout(panels: list, title: str, facts: str, legend: list[tuple[str, str, str]]):
    """Arrange the panels under a header (title, facts, legend).

    Returns the PIL RGB image and each panel's box (left, top, width, height) on it.
    """
    from PIL import Image, ImageDraw

    width, height = panels[0].size
    size = max(12, min(22, round(max(width, height) / 30)))
    margin, gap = 16, 10
    header = margin + size + 8 + (size + 10 if legend else 0)
    cols = columns_for(len(panels), width, height, header)
    rows = -(-len(panels) // cols)
    page_width = 2 * margin + cols * width + (cols - 1) * gap
    lines = _legend_lines(legend, size, page_width - 2 * margin)
    header = margin + size + 8 + len(lines) * (size + 10) + 4
    page = Image.new("RGB", (page_width, header + rows * height + (rows - 1) * gap + margin), BACKGROUND)
    draw = ImageDraw.Draw(page)
    write(draw, (margin, margin), title, size + 2)
    write(draw, (margin + text_width(title, size + 2) + size, margin + 2), facts, size, fill=MUTED)
    for row, entries in enumerate(lines):
        _draw_legend_line(draw, entries, margin, margin + size + 12 + row * (size + 10), size)
    boxes = []
    for index, panel in enumerate(panels):
        row, col = divmod(index, cols)
        boxes.append((margin + col * (width + gap), header + row * (height + gap), width, height))
        page.paste(panel, boxes[-1][:2])
    return page, boxes


def _legend_lines(legend: list[tuple[str, str, str]], size: int, room: int) -> list[list]:
    """Legend entries wrapped into lines that fit ``room`` pixels."""
    lines: list[list] = []
    used = room + 1
    for entry in legend:
        need = size + 6 + text_width(entry[0], size) + 2 * size
        if used + need > room:
            lines.append([])
            used = 0
        lines[-1].append(entry)
        used += need
    return lines


def _draw_legend_line(draw, entries: list[tuple[str, str, str]], x: int, y: int, size: int) -> None:
    for name, colour, kind in entries:
        box = (x, y + 1, x + size - 2, y + size - 1)
        if kind == "ring":
            draw.ellipse(box, outline=rgb(colour), width=max(2, size // 7))
        else:
            draw.rounded_rectangle(box, radius=3, fill=rgb(colour))
        write(draw, (x + size + 6, y), name, size)
        x += size + 6 + text_width(name, size) + 2 * size
