"""Pictures of tomograms: chosen slices with segmentations overlaid and picks marked, as one PNG.

Each panel is one Z slice, lightly smoothed and auto-contrasted (the same percentiles for every
panel), scaled to ``panel_size`` pixels on its long side. Segmentations are drawn in their
feature's colour (a stable palette, or given) as a translucent fill with a crisp outline where
they reach ``level`` (0..1 scale). A pick is a sphere of ``pick_radius_A``: it shows as a circle on
every slice that cuts it, as large as the cut. A header names the tomogram, its size and pixel
size, and holds the legend; each panel shows its slice number and a scale bar.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .errors import AisError, InputFileError, UsageError
from .volume import Volume, read_volume

DEFAULT_PANELS = 4
DEFAULT_PANEL_SIZE = 512
DEFAULT_PICK_RADIUS_A = 100.0
_SCALE_BARS_NM = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000)


@dataclass
class SegmentationLayer:
    """A segmentation to overlay: its feature name, colour (#rrggbb) and volume (0..1 after ``scale``)."""

    name: str
    colour: str
    volume: Volume
    scale: float


@dataclass
class PickLayer:
    """Picks to mark: a name, colour, (N, 3) positions (z, y, x) in the tomogram's pixels, radius in pixels."""

    name: str
    colour: str
    zyx: np.ndarray
    radius: float


def split_colour(text: str) -> tuple[str, str | None]:
    """``path:colour`` → (path, colour); a plain path (even with a drive letter or ``:`` in it) → (path, None)."""
    head, sep, tail = str(text).rpartition(":")
    if not sep or not head or not tail or "/" in tail or "\\" in tail or Path(text).exists():
        return str(text), None
    return head, tail


def choose_slices(depth: int, slices: Sequence[int] | None, count: int = DEFAULT_PANELS) -> list[int]:
    """The slices asked for (checked), or ``count`` evenly spaced ones away from the ends."""
    if slices:
        bad = [z for z in slices if not 0 <= int(z) < depth]
        if bad:
            raise UsageError(f"slice {bad[0]} is outside the tomogram (Z runs from 0 to {depth - 1})",
                             "give --slices within that range, e.g. --slices 10,20")
        return [int(z) for z in slices]
    count = max(1, min(count, depth))
    return sorted({int(round((i + 1) * (depth - 1) / (count + 1))) for i in range(count)})


# -- loading --------------------------------------------------------------------------------
def load_segmentations(specs: Sequence[str], tomogram: Volume, colours: Sequence[str]) -> list[SegmentationLayer]:
    """Open each ``path[:colour]`` (memory-mapped), check it matches the tomogram, pick its colour."""
    from .colours import feature_name
    from .volume import probability_scale

    layers = []
    for index, spec in enumerate(specs):
        path, _ = split_colour(spec)
        volume = read_volume(path, require_pixel_size=False)
        if volume.shape != tomogram.shape:
            raise InputFileError(f"{path}: shape {volume.shape} differs from the tomogram's {tomogram.shape}",
                                 "overlay segmentations of this tomogram at the same binning")
        layers.append(SegmentationLayer(feature_name(path), colours[index], volume, probability_scale(volume.data)))
    return layers


def load_picks(specs: Sequence[str], tomogram: Volume, colours: Sequence[str], radius_A: float) -> list[PickLayer]:
    """Read each ``path[:colour]`` picks file and bring its positions to the tomogram's pixels."""
    from .picks import read_picks_all, tomogram_stem

    layers = []
    stem = tomogram_stem(tomogram.path.name) if tomogram.path else ""
    for index, spec in enumerate(specs):
        path, _ = split_colour(spec)
        mine = _picks_of(read_picks_all(path), stem, path)
        zyx = np.concatenate([_in_tomogram_pixels(t, tomogram) for t in mine]) if mine else np.zeros((0, 3))
        name = next((t.feature for t in mine if t.feature), Path(path).stem)
        layers.append(PickLayer(name, colours[index], zyx, radius_A / tomogram.pixel_size))
    return layers


def _picks_of(tables: list, stem: str, path: str) -> list:
    """The tables of this tomogram; a file of one tomogram is taken whatever name it gives."""
    from .picks import tomogram_stem

    mine = [t for t in tables if tomogram_stem(t.tomogram) == stem]
    if mine or len(tables) <= 1:
        return mine or tables
    names = ", ".join(t.tomogram for t in tables[:8]) + (" ..." if len(tables) > 8 else "")
    raise UsageError(f"{path} holds picks of {len(tables)} tomograms, none named '{stem}'",
                     f"give a file with this tomogram's picks; it has: {names}")


def _in_tomogram_pixels(picks, tomogram: Volume) -> np.ndarray:
    """Pick positions (z, y, x) rescaled from the picks' pixel size to the tomogram's."""
    factor = (picks.pixel_size_A or tomogram.pixel_size) / tomogram.pixel_size
    return picks.zyx * factor


def assign_colours(segmentations: Sequence[str], picks: Sequence[str]) -> tuple[list[str], list[str]]:
    """Colours of the segmentation and the picks layers: given ones kept, the others distinct
    palette colours chosen by feature (file) name."""
    from .colours import distinct_colours, feature_name, parse_colour

    entries = [*segmentations, *picks]
    names = [feature_name(split_colour(text)[0]) for text in segmentations]
    names += [feature_name(split_colour(text)[0]) + " picks" for text in picks]  # rings stand out on fills
    palette = distinct_colours(names)
    chosen = [parse_colour(split_colour(text)[1]) if split_colour(text)[1] else fallback
              for text, fallback in zip(entries, palette)]
    return chosen[: len(segmentations)], chosen[len(segmentations) :]


# -- drawing ---------------------------------------------------------------------------------
def render(tomogram: Volume, slices: list[int], segmentations: Sequence[SegmentationLayer] = (),
           picks: Sequence[PickLayer] = (), level: float = 0.5, panel_size: int = DEFAULT_PANEL_SIZE,
           smooth: float = 1.0, title: str | None = None):
    """The picture as a PIL RGB image, and where each panel is on it: a list of boxes (left, top,
    width, height); slice pixel (y, x) is at (left + (x + 0.5) * s, top + (y + 0.5) * s), s the
    panel's width over the slice's."""
    from .preview_draw import Canvas, layout

    depth, height, width = tomogram.shape
    fit = panel_size / max(height, width)
    size = (max(1, round(width * fit)), max(1, round(height * fit)))
    scale = size[0] / width
    greys = _contrast([_slice(tomogram.data, z, smooth) for z in slices])
    panels = []
    for z, grey in zip(slices, greys):
        canvas = Canvas(grey, size, scale)
        for layer in segmentations:
            canvas.overlay(np.asarray(layer.volume.data[z], dtype=np.float32) / layer.scale, level, layer.colour)
        for layer in picks:
            canvas.circles(*_cuts(layer, z), layer.colour)
        canvas.label(f"z {z}")
        canvas.scale_bar(*_scale_bar(tomogram.pixel_size, scale, size[0]))
        panels.append(canvas.image())
    header = title or (Path(tomogram.path).name if tomogram.path else "tomogram")
    facts = f"{depth} × {height} × {width} px · {tomogram.pixel_size:g} Å/px"
    legend = [(s.name, s.colour, "fill") for s in segmentations]
    legend += [(f"{p.name} ({len(p.zyx)} picks)", p.colour, "ring") for p in picks]
    return layout(panels, header, facts, legend)


def _slice(data: np.ndarray, z: int, smooth: float) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    image = np.asarray(data[z], dtype=np.float32)
    return gaussian_filter(image, smooth) if smooth > 0 else image


def _contrast(images: list[np.ndarray], low: float = 0.5, high: float = 99.5) -> list[np.ndarray]:
    """Map every image to 0..255 with the same percentiles (taken over all shown slices)."""
    sample = np.concatenate([img[:: max(1, img.shape[0] // 256), :: max(1, img.shape[1] // 256)].ravel()
                             for img in images])
    lo, hi = np.percentile(sample[np.isfinite(sample)], [low, high]) if np.isfinite(sample).any() else (0, 1)
    span = hi - lo if hi > lo else 1.0
    return [np.clip((np.nan_to_num(img, nan=lo) - lo) / span * 255.0, 0, 255).astype(np.uint8) for img in images]


def _cuts(layer: PickLayer, z: int) -> tuple[np.ndarray, np.ndarray]:
    """Centres (y, x) and radii (pixels) of the circles where slice ``z`` cuts the pick spheres."""
    if not len(layer.zyx):
        return np.zeros((0, 2)), np.zeros(0)
    dz = np.abs(layer.zyx[:, 0] - z)
    near = dz <= layer.radius
    return layer.zyx[near, 1:], np.sqrt(np.maximum(layer.radius**2 - dz[near] ** 2, 0.0))


def _scale_bar(pixel_size: float, scale: float, panel_width: int) -> tuple[float, str]:
    """The longest round length (nm) whose bar fits in a quarter of the panel: (pixels, label)."""
    per_nm = 10.0 / pixel_size * scale
    fitting = [nm for nm in _SCALE_BARS_NM if nm * per_nm <= panel_width * 0.25] or [_SCALE_BARS_NM[0]]
    nm = fitting[-1]
    return nm * per_nm, (f"{nm / 1000:g} µm" if nm >= 1000 else f"{nm} nm")


# -- the whole job ---------------------------------------------------------------------------
def preview(tomogram: str | os.PathLike, output: str | os.PathLike, segmentations: Sequence[str] = (),
            picks: Sequence[str] = (), slices: Sequence[int] | None = None, pixel_size: float | None = None,
            level: float = 0.5, pick_radius_A: float = DEFAULT_PICK_RADIUS_A, panels: int = DEFAULT_PANELS,
            panel_size: int = DEFAULT_PANEL_SIZE, smooth: float = 1.0) -> dict[str, Any]:
    """Draw ``tomogram`` with ``segmentations`` (``path[:colour]``) and ``picks`` (``path[:colour]``)
    into a PNG at ``output`` (written atomically). Returns what was drawn."""
    from .atomic import atomic_path

    _check_options(output, level, pick_radius_A, panel_size, smooth)
    volume = read_volume(tomogram, pixel_size=pixel_size)
    chosen = choose_slices(volume.shape[0], slices, panels)
    seg_colours, pick_colours = assign_colours(list(segmentations), list(picks))
    seg_layers = load_segmentations(segmentations, volume, seg_colours)
    pick_layers = load_picks(picks, volume, pick_colours, pick_radius_A)
    image, boxes = render(volume, chosen, seg_layers, pick_layers, level=level, panel_size=panel_size,
                          smooth=smooth)
    try:
        with atomic_path(output) as tmp:
            image.save(tmp, format="PNG")
    except OSError as exc:
        raise AisError(f"{output}: cannot be written ({exc.strerror or exc})",
                       "check that the folder is writable and the disk is not full") from exc
    return {"output": str(output), "slices": chosen, "size": list(image.size),
            "panels": [{"z": z, "box": list(box)} for z, box in zip(chosen, boxes)],
            "segmentations": [{"feature": s.name, "colour": s.colour} for s in seg_layers],
            "picks": [{"name": p.name, "colour": p.colour, "count": int(len(p.zyx))} for p in pick_layers]}


def _check_options(output, level: float, radius: float, panel_size: int, smooth: float) -> None:
    if Path(output).suffix.lower() != ".png":
        raise UsageError(f"{output}: previews are PNG pictures", "name the output something.png")
    if not 0.0 < float(level) < 1.0:
        raise UsageError(f"--level must be between 0 and 1 (exclusive), got {level}", "e.g. --level 0.5")
    if not float(radius) > 0:
        raise UsageError(f"--pick-radius-A must be positive, got {radius}", "e.g. --pick-radius-A 100")
    if not 64 <= int(panel_size) <= 4096:
        raise UsageError(f"--panel-size must be 64..4096 pixels, got {panel_size}", "e.g. --panel-size 512")
    if not 0.0 <= float(smooth) <= 10.0:
        raise UsageError(f"--smooth must be 0..10 pixels, got {smooth}", "0 turns smoothing off")
