"""The slice view: one tomogram slice in half-block characters (or, in a graphics mode, as a
Kitty/Sixel picture through textual-image, see :mod:`ais_framework.tui.graphics`) with overlays, and the mouse
tools (brush, ignore brush, eraser, training boxes), wheel slicing and zoom, and panning.

The widget keeps the integral images it needs (per slice, per mask) and rebuilds its rows
only when something it shows has changed; see :mod:`ais_framework.tui.render`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from textual import events
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from .. import graphics
from ..render import HalfBlockPainter, Layer, Scene, View, auto_levels, draw_scene, hex_rgb, integral_image
from ..session import Dataset, Session

IGNORE_RGB = (150, 150, 150)
TOOLS = ("brush", "ignore", "eraser", "box")


@dataclass
class Display:
    """How the slice is shown (not saved anywhere)."""

    levels: tuple[float, float] | None = None
    sigma: float = 0.0
    show_annotations: bool = True
    show_predictions: bool = True
    show_picks: bool = True


class SliceView(Widget, can_focus=True):
    """Shows ``session.dataset`` at slice ``z``; mouse edits go to the dataset's annotator."""

    DEFAULT_CSS = """
    SliceView { background: $panel; width: 1fr; height: 1fr; }
    SliceView > .picture { width: 100%; height: 100%; }
    """

    class Changed(Message):
        """The slice, view, levels or pointer position changed (for the status line)."""

    class Edited(Message):
        """An annotation edit finished (schedule an autosave)."""

    def __init__(self, session: Session, **kwargs) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.z = 0
        self.view: View | None = None  # None: fit the slice to the widget
        self.look = Display()
        self.tool, self.radius, self.feature = "brush", 3.0, None
        self.pointer: tuple[float, float] | None = None
        self._painter = HalfBlockPainter()
        self._strips: list[Strip] = []
        self._built_for: object = None
        self._integrals: dict[object, np.ndarray] = {}
        self._drag: tuple[str, float, float] | None = None
        self.generation = 0  # bumped on every change that alters the picture
        self.graphics = "halfblock"  # or 'kitty' / 'sixel': the picture is drawn by a child widget
        self.picture_widget = None

    def set_graphics(self, mode: str) -> None:
        """Draw with half blocks, or mount a textual-image widget for 'kitty' or 'sixel'."""
        if self.picture_widget is not None:
            self.picture_widget.remove()
            self.picture_widget = None
        self.graphics = mode
        if mode in graphics.GRAPHICS:
            self.picture_widget = graphics.image_widget(mode, classes="picture")
            self.mount(self.picture_widget)
        self._built_for = None
        self.changed()

    # ----- state changes -------------------------------------------------------------
    @property
    def dataset(self) -> Dataset | None:
        return self.session.dataset

    def changed(self, picture: bool = True) -> None:
        if picture:
            self.generation += 1
            self.refresh()
        self.post_message(self.Changed())

    def dataset_switched(self) -> None:
        self._integrals.clear()
        self.view, self.look.levels = None, None
        if self.dataset is not None:
            self.z = min(self.z, self.dataset.shape[0] - 1) if self.z else self.dataset.shape[0] // 2
        self.changed()

    def masks_changed(self) -> None:
        self._integrals = {k: v for k, v in self._integrals.items() if k[0] != "mask"}
        self.changed()

    def set_slice(self, z: int) -> None:
        if self.dataset is not None:
            self.z = int(np.clip(z, 0, self.dataset.shape[0] - 1))
            self.changed()

    def cells(self) -> tuple[int, int]:
        return max(self.size.width, 1), max(self.size.height, 1)

    def current_view(self) -> View:
        return self.view or View.fit(self.dataset.shape[1:], self.cells())

    def zoom(self, factor: float, around: tuple[float, float] | None = None) -> None:
        if self.dataset is None:
            return
        view = self.current_view()
        y, x = around or (view.centre_y, view.centre_x)
        scale = float(np.clip(view.scale * factor, 0.02, 32.0))
        keep = view.scale / scale
        self.view = View(y + (view.centre_y - y) * keep, x + (view.centre_x - x) * keep, scale)
        self.changed()

    def pan(self, cells_x: float, cells_y: float) -> None:
        if self.dataset is not None:
            view = self.current_view()
            self.view = View(view.centre_y + 2 * cells_y / view.scale, view.centre_x + cells_x / view.scale, view.scale)
            self.changed()

    def fit(self) -> None:
        self.view = None
        self.changed()

    # ----- levels ----------------------------------------------------------------------
    def image(self) -> np.ndarray:
        image = self.dataset.slice(self.z)
        if self.look.sigma > 0:
            from scipy.ndimage import gaussian_filter

            image = gaussian_filter(image, self.look.sigma)
        return image

    def levels(self) -> tuple[float, float]:
        if self.look.levels is None:
            self.look.levels = auto_levels(self.image())
        return self.look.levels

    def auto_contrast(self) -> None:
        self.look.levels = auto_levels(self.image())
        self.changed()

    def adjust_levels(self, contrast: float = 1.0, brightness: float = 0.0) -> None:
        lo, hi = self.levels()
        centre, half = (lo + hi) / 2 - brightness * (hi - lo), (hi - lo) / 2 / contrast
        self.look.levels = (centre - half, centre + half)
        self.changed()

    # ----- drawing ---------------------------------------------------------------------
    def _integral(self, key: tuple, make) -> np.ndarray:
        table = self._integrals.get(key)
        if table is None:
            if len(self._integrals) > 64:
                self._integrals.clear()
            table = self._integrals[key] = integral_image(make())
        return table

    def scene(self) -> Scene:
        data = self.dataset
        key = (id(data), self.z, self.look.sigma)
        integral = self._integral(("slice", *key), self.image)
        return Scene(integral, data.shape[1:], self.levels(), self._layers(data), self._boxes(data), self._picks(data))

    def _layers(self, data: Dataset) -> list[Layer]:
        layers = []
        if self.look.show_predictions:
            for model in [m for m in self.session.models if m.show]:
                probs = data.predictions.get((model.key, self.z))
                if probs is not None:
                    key = ("pred", id(data), model.key, self.z, model.threshold)
                    layers.append(Layer(self._integral(key, lambda: probs >= model.threshold), hex_rgb(model.colour), 0.45))
        if self.look.show_annotations:
            for feature in data.store.features:
                mask = data.annotator.mask(feature.name, self.z)
                if mask is None:
                    continue
                painting = data.annotator.working is not None and data.annotator.working[0] == feature.name
                key = ("mask", id(data), feature.name, self.z)
                make = (lambda m=mask: m == 1)
                one = integral_image(make()) if painting else self._integral(key + (1,), make)
                two = integral_image(mask == 2) if painting else self._integral(key + (2,), lambda m=mask: m == 2)
                layers += [Layer(one, hex_rgb(feature.colour), 0.6), Layer(two, IGNORE_RGB, 0.5)]
        return layers

    def _boxes(self, data: Dataset) -> list:
        if not self.look.show_annotations:
            return []
        return [(y, x, f.box_size, hex_rgb(f.colour)) for f in data.store.features
                for z, y, x in data.store.boxes(f.name) if z == self.z]

    def _picks(self, data: Dataset) -> list:
        if not self.look.show_picks:
            return []
        colours = {f.name: f.colour for f in data.store.features}
        colours.update({m.feature: m.colour for m in self.session.models})
        shown = []
        for feature, picks in data.picks.items():
            near = picks[np.abs(picks[:, 0] - self.z) <= 2] if len(picks) else picks
            if len(near):
                shown.append((near[:, 1], near[:, 2], hex_rgb(colours.get(feature, "#ffffff"))))
        return shown

    def background(self) -> tuple[int, int, int]:
        colour = self.styles.background
        return (colour.r, colour.g, colour.b) if colour.a else (40, 40, 40)

    def _rebuild(self) -> None:
        cells = self.cells()
        key = (self.generation, cells, self.session.current, id(self.dataset), self.background())
        if key == self._built_for:
            return
        self._built_for = key
        if self.dataset is None:
            self._strips = [Strip.blank(cells[0])] * cells[1]
            return
        if self.picture_widget is not None:
            self._strips = [Strip.blank(cells[0])] * cells[1]
            self.picture_widget.image = graphics.to_picture(self.picture(cells))
            return
        rgb = draw_scene(self.scene(), self.current_view(), cells, self.background())
        self._strips = [Strip(row, cells[0]) for row in self._painter.segments(rgb)]

    def picture(self, cells: tuple[int, int]) -> np.ndarray:
        """The same scene as the half blocks, drawn with more pixels per cell for a graphics protocol."""
        view = self.current_view()
        k = graphics.density(view.scale)
        dense = View(view.centre_y, view.centre_x, view.scale * k)
        return draw_scene(self.scene(), dense, (cells[0] * k, cells[1] * k), self.background())

    def render_line(self, y: int) -> Strip:
        self._rebuild()
        return self._strips[y] if y < len(self._strips) else Strip.blank(self.size.width)

    def on_resize(self, event: events.Resize) -> None:
        self.changed()

    # ----- mouse -----------------------------------------------------------------------
    def image_point(self, event: events.MouseEvent) -> tuple[float, float]:
        """Image (y, x) under the mouse; half-cell precise where the terminal reports pixels."""
        row = getattr(event, "pointer_y", event.y)
        column = getattr(event, "pointer_x", event.x)
        pixel_row = 2 * row + (1.0 if float(row).is_integer() else 0.0)
        return self.current_view().to_image(column + (0.5 if float(column).is_integer() else 0.0),
                                             pixel_row, self.cells())

    def on_mouse_down(self, event: events.MouseDown) -> None:
        if self.dataset is None:
            return
        self.focus()
        y, x = self.image_point(event)
        if event.button == 2 or (event.button == 1 and event.ctrl):
            self._drag = ("pan", event.x, event.y)
        elif self.feature is None:
            self.notify("Add a feature first (n)", severity="warning")
            return
        elif self.tool == "box":
            self._box_click(event.button, y, x)
            return
        else:
            tool = "eraser" if event.button == 3 else self.tool
            self.dataset.annotator.begin(self.feature, self.z)
            self._drag = (tool, y, x)
            self.dataset.annotator.paint(y, x, self.radius, tool)
            self.changed()
        self.capture_mouse()

    def _box_click(self, button: int, y: float, x: float) -> None:
        annotator = self.dataset.annotator
        if button == 3:
            size = next(f.box_size for f in self.dataset.store.features if f.name == self.feature)
            annotator.remove_box(self.feature, self.z, y, x, size / 2)
        elif 0 <= y < self.dataset.shape[1] and 0 <= x < self.dataset.shape[2]:
            annotator.add_box(self.feature, self.z, y, x)
        self.changed()
        self.post_message(self.Edited())

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self.dataset is None:
            return
        y, x = self.image_point(event)
        self.pointer = (y, x)
        if self._drag is None:
            self.post_message(self.Changed())
            return
        kind, last_a, last_b = self._drag
        if kind == "pan":
            self.pan(last_a - event.x, last_b - event.y)
            self._drag = ("pan", event.x, event.y)
            return
        steps = int(max(abs(y - last_a), abs(x - last_b)) / max(self.radius / 2, 0.5)) + 1
        for t in np.linspace(0, 1, steps + 1)[1:]:
            self.dataset.annotator.paint(last_a + (y - last_a) * t, last_b + (x - last_b) * t, self.radius, kind)
        self._drag = (kind, y, x)
        self.changed()

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._drag is None:
            return
        kind, self._drag = self._drag[0], None
        self.release_mouse()
        if kind != "pan" and self.dataset.annotator.end():
            self.masks_changed()
            self.post_message(self.Edited())
        else:
            self.changed()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self._scroll(event, +1)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self._scroll(event, -1)

    def _scroll(self, event: events.MouseEvent, direction: int) -> None:
        event.stop()
        if event.ctrl or event.shift:
            self.zoom(1.25 if direction > 0 else 0.8, self.image_point(event))
        else:
            self.set_slice(self.z + direction)
