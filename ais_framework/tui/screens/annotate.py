"""The slice screen: look at a tomogram, annotate features, see live predictions and picks."""
from __future__ import annotations

from rich.color import Color, ColorParseError
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Label, OptionList, Static
from textual.worker import get_current_worker

from .. import services
from ..widgets.feature_list import FeatureList
from ..widgets.nav_bar import NavBar
from ..widgets.slice_view import TOOLS, SliceView
from .prompt import PromptScreen

TOOL_NAMES = {"brush": "brush (feature)", "ignore": "ignore brush", "eraser": "eraser", "box": "training boxes"}
SIGMAS = (0.0, 1.0, 2.0, 4.0)


class AnnotateScreen(Screen):
    """Slice view on the left, the tomogram and its features on the right, a status line below."""

    DEFAULT_CSS = """
    AnnotateScreen #side { width: 28; padding: 0 1; background: $surface; }
    AnnotateScreen #side Label { width: 100%; }
    AnnotateScreen .heading { text-style: bold; color: $accent; margin-top: 1; }
    AnnotateScreen #status { height: 1; background: $boost; }
    """
    BINDINGS = [
        Binding("k,pageup", "slice(1)", "Slice up"),
        Binding("j,pagedown", "slice(-1)", "Slice down"),
        Binding("K", "slice(10)", "10 slices up", show=False),
        Binding("J", "slice(-10)", "10 slices down", show=False),
        Binding("plus,equals_sign", "zoom(1.5)", "Zoom in", show=False),
        Binding("minus", "zoom(0.6667)", "Zoom out", show=False),
        Binding("0", "fit", "Fit slice", show=False),
        Binding("up", "pan(0,-3)", "Pan up", show=False),
        Binding("down", "pan(0,3)", "Pan down", show=False),
        Binding("left", "pan(-6,0)", "Pan left", show=False),
        Binding("right", "pan(6,0)", "Pan right", show=False),
        Binding("a", "auto_contrast", "Auto-contrast", show=False),
        Binding("c", "levels(1.25,0)", "More contrast", show=False),
        Binding("C", "levels(0.8,0)", "Less contrast", show=False),
        Binding("v", "levels(1,0.05)", "Brighter", show=False),
        Binding("V", "levels(1,-0.05)", "Darker", show=False),
        Binding("g", "gaussian", "Gaussian filter (display)", show=False),
        Binding("G", "graphics", "Graphics / half blocks", show=False),
        Binding("b", "tool('brush')", "Brush"),
        Binding("i", "tool('ignore')", "Ignore brush", show=False),
        Binding("e", "tool('eraser')", "Eraser"),
        Binding("x", "tool('box')", "Boxes"),
        Binding("right_square_bracket", "radius(1)", "Bigger brush", show=False),
        Binding("left_square_bracket", "radius(-1)", "Smaller brush", show=False),
        Binding("u,ctrl+z", "undo", "Undo"),
        Binding("delete", "clear_slice", "Clear slice annotation", show=False),
        Binding("n", "new_feature", "New feature"),
        Binding("r", "rename_feature", "Rename feature", show=False),
        Binding("o", "colour_feature", "Feature colour", show=False),
        Binding("f", "next_feature", "Next feature", show=False),
        Binding("m", "toggle('show_annotations')", "Show annotations", show=False),
        Binding("p", "live_prediction", "Live prediction"),
        Binding("t", "threshold(-0.05)", "Threshold down", show=False),
        Binding("T", "threshold(0.05)", "Threshold up", show=False),
        Binding("y", "toggle('show_picks')", "Show picks", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.session = self.app.session
        self.live = True

    def compose(self) -> ComposeResult:
        yield NavBar("annotate")
        with Horizontal():
            yield SliceView(self.session, id="view")
            with Vertical(id="side"):
                yield Label("", id="dataset")
                yield Label("Features", classes="heading")
                yield FeatureList(id="features")
                yield Label("", id="tool")
        yield Static("", id="status")
        yield Footer()

    @property
    def view(self) -> SliceView:
        return self.query_one("#view", SliceView)

    def on_mount(self) -> None:
        if self.app.graphics != "halfblock":
            self.view.set_graphics(self.app.graphics)
        self.session_changed()
        self.view.focus()

    def action_graphics(self) -> None:
        """Switch between the terminal's graphics protocol and half blocks."""
        if self.app.graphics == "halfblock":
            self.notify("Half blocks only: start with --graphics kitty or --graphics sixel where the terminal has them")
            return
        self.view.set_graphics("halfblock" if self.view.graphics != "halfblock" else self.app.graphics)
        self.notify(f"Drawing with {self.view.graphics}")

    def on_screen_resume(self) -> None:
        self.session_changed()

    def session_changed(self) -> None:
        """A tomogram was opened or selected elsewhere: show it."""
        self.view.dataset_switched()
        self._show_features()
        dataset = self.session.dataset
        self.query_one("#dataset", Label).update(
            dataset.describe() if dataset else "No tomogram open.\nCtrl+O opens one, 2 lists them.")
        self._request_prediction()

    def _show_features(self) -> None:
        dataset, features = self.session.dataset, self.query_one("#features", FeatureList)
        names = [f.name for f in dataset.store.features] if dataset else []
        if self.view.feature not in names:
            self.view.feature = names[0] if names else None
        features.show(dataset, self.view.feature)
        self._show_tool()

    def _show_tool(self) -> None:
        view = self.view
        lines = [f"Tool: {TOOL_NAMES[view.tool]}", f"Brush radius: {view.radius:g} px"]
        lines.append("Left: add box  Right: remove" if view.tool == "box" else "Left: paint  Right: erase")
        lines.append("Wheel: slice  Ctrl+wheel: zoom")
        lines.append(f"Live prediction: {'on' if self.live else 'off'} ({len(self.session.models)} model(s))")
        self.query_one("#tool", Label).update("\n".join(lines))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.view.feature = event.option.id

    def on_slice_view_changed(self, event: SliceView.Changed) -> None:
        self._update_status()
        if self.live and self.session.models and self.session.dataset:
            self._request_prediction()

    def on_slice_view_edited(self, event: SliceView.Edited) -> None:
        self._show_features()
        self.app.autosave()

    def _update_status(self) -> None:
        view, dataset = self.view, self.session.dataset
        if dataset is None:
            self.query_one("#status", Static).update(" No tomogram open — press Ctrl+O")
            return
        lo, hi = view.levels()  # computed here if the first frame has not been drawn yet
        scale = view.current_view().scale
        parts = [f" z {view.z}/{dataset.shape[0] - 1}", f"zoom {scale:.2g}×", f"levels {lo:.3g}..{hi:.3g}"]
        if view.look.sigma:
            parts.append(f"gauss σ{view.look.sigma:g}")
        if view.pointer is not None:
            y, x = view.pointer
            if 0 <= y < dataset.shape[1] and 0 <= x < dataset.shape[2]:
                parts.append(f"x {int(x)} y {int(y)}")
        if self.session.models:
            parts.append("thr " + ",".join(f"{m.threshold:.2f}" for m in self.session.models))
        if view.feature and view.feature in [f.name for f in dataset.store.features]:
            if view.z in dataset.store.annotated_slices(view.feature):
                parts.append("slice annotated")
        self.query_one("#status", Static).update(" │ ".join(parts))

    # ----- live prediction ---------------------------------------------------------------
    def _request_prediction(self) -> None:
        dataset = self.session.dataset
        models = [m for m in self.session.models if m.show]
        if not (self.live and dataset and models):
            return
        if all((m.key, self.view.z) in dataset.predictions for m in models):
            return
        self.predict(dataset, models, self.view.z)

    @work(thread=True, exclusive=True, group="predict")
    def predict(self, dataset, models, z: int) -> None:
        worker = get_current_worker()
        try:
            for model in models:
                if worker.is_cancelled:
                    return
                services.predict(dataset, model, z)
        except Exception as exc:
            from ..app import error_text

            self.app.call_from_thread(self.notify, error_text(exc), title="Prediction failed", severity="error")
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self.view.changed)

    # ----- actions ---------------------------------------------------------------------
    def action_slice(self, step: int) -> None:
        self.view.set_slice(self.view.z + step)

    def action_zoom(self, factor: float) -> None:
        self.view.zoom(factor)

    def action_fit(self) -> None:
        self.view.fit()

    def action_pan(self, dx: float, dy: float) -> None:
        self.view.pan(dx, dy)

    def action_auto_contrast(self) -> None:
        if self.session.dataset:
            self.view.auto_contrast()

    def action_levels(self, contrast: float, brightness: float) -> None:
        if self.session.dataset:
            self.view.adjust_levels(contrast, brightness)

    def action_gaussian(self) -> None:
        display = self.view.look
        display.sigma = SIGMAS[(SIGMAS.index(display.sigma) + 1) % len(SIGMAS)] if display.sigma in SIGMAS else 0.0
        self.view.changed()

    def action_tool(self, tool: str) -> None:
        if tool in TOOLS:
            self.view.tool = tool
            self._show_tool()

    def action_radius(self, step: int) -> None:
        self.view.radius = float(min(max(self.view.radius + step, 0.5 if step < 0 else 1.0), 64.0))
        self._show_tool()

    def action_undo(self) -> None:
        dataset = self.session.dataset
        step = dataset.annotator.undo() if dataset else None
        if step is None:
            self.notify("Nothing to undo")
            return
        if step.z != self.view.z:
            self.view.set_slice(step.z)
        self.view.masks_changed()
        self._show_features()
        self.app.autosave()

    def action_clear_slice(self) -> None:
        dataset, feature = self.session.dataset, self.view.feature
        if dataset and feature and dataset.annotator.clear_slice(feature, self.view.z):
            self.view.masks_changed()
            self._show_features()
            self.app.autosave()

    def action_new_feature(self) -> None:
        if self.session.dataset is None:
            self.notify("Open a tomogram first (Ctrl+O)", severity="warning")
            return
        self.app.push_screen(PromptScreen("Name of the new feature", placeholder="e.g. membrane"), self._add_feature)

    def _add_feature(self, name: str | None) -> None:
        if name:
            self._store_call(lambda store: store.add_feature(name))
            self.view.feature = name
            self._show_features()

    def action_rename_feature(self) -> None:
        if self.view.feature:
            old = self.view.feature
            self.app.push_screen(PromptScreen(f"Rename feature '{old}' to", old), lambda new: self._rename(old, new))

    def _rename(self, old: str, new: str | None) -> None:
        if new and new != old and self._store_call(lambda store: store.rename_feature(old, new)):
            self.view.feature = new
            self.view.masks_changed()
            self._show_features()

    def action_colour_feature(self) -> None:
        if self.view.feature:
            name = self.view.feature
            self.app.push_screen(PromptScreen(f"Colour of '{name}' (#rrggbb or a name)", placeholder="#ff8800"),
                                 lambda colour: self._recolour(name, colour))

    def _recolour(self, name: str, colour: str | None) -> None:
        if not colour:
            return
        try:
            colour = Color.parse(colour).get_truecolor().hex
        except ColorParseError:
            self.notify(f"Unknown colour {colour!r}: give #rrggbb", severity="error")
            return
        if self._store_call(lambda store: store.update_feature(name, colour=colour)):
            self.view.masks_changed()
            self._show_features()

    def _store_call(self, change) -> bool:
        from ..app import error_text

        try:
            change(self.session.dataset.store)
        except Exception as exc:
            self.notify(error_text(exc), severity="error")
            return False
        self.app.autosave()
        return True

    def action_next_feature(self) -> None:
        features = self.query_one("#features", FeatureList)
        if features.option_count:
            features.highlighted = ((features.highlighted or 0) + 1) % features.option_count

    def action_toggle(self, name: str) -> None:
        setattr(self.view.look, name, not getattr(self.view.look, name))
        self.view.changed()

    def action_live_prediction(self) -> None:
        if not self.session.models:
            self.notify("No model loaded: train or load one on the Models screen (3)", severity="warning")
        self.live = not self.live
        self.view.look.show_predictions = self.live
        self._show_tool()
        self.view.changed()

    def action_threshold(self, step: float) -> None:
        for model in self.session.models:
            model.threshold = round(min(max(model.threshold + step, 0.0), 1.0), 2)
        self.view.changed()
