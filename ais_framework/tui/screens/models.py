"""Models: pick an architecture, train in the background with live progress, load and save
models, set thresholds, and edit the pipeline (competition flags and interactions)."""
from __future__ import annotations

import threading
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, ProgressBar, Sparkline

from .. import services
from ..widgets.nav_bar import NavBar
from .file_picker import FilePickerScreen
from .prompt import PromptScreen


class TrainingProgress(Message):
    """Posted by the training worker after each epoch, and once at the end."""

    def __init__(self, info: dict | None = None, summary: dict | None = None, entry=None, error: str = ""):
        super().__init__()
        self.info, self.summary, self.entry, self.error = info, summary, entry, error


class ModelsScreen(Screen):
    """Left: architectures and training. Right: loaded models and the pipeline."""

    DEFAULT_CSS = """
    ModelsScreen VerticalScroll { width: 1fr; padding: 0 1; }
    ModelsScreen .heading { text-style: bold; color: $accent; }
    ModelsScreen #architectures { height: 8; }
    ModelsScreen #models, ModelsScreen #interactions { height: auto; max-height: 8; }
    ModelsScreen .row { height: 1; }
    ModelsScreen .row Label { width: 12; }
    ModelsScreen .row Input { width: 1fr; height: 1; border: none; padding: 0; }
    ModelsScreen Horizontal.buttons { height: 1; }
    ModelsScreen Button { margin-right: 1; }
    ModelsScreen Sparkline { height: 2; }
    ModelsScreen #progress-text, ModelsScreen .hint { color: $text-muted; }
    """
    BINDINGS = [
        Binding("t", "train", "Train"),
        Binding("c", "cancel", "Cancel training"),
        Binding("l", "load", "Load model"),
        Binding("C", "compare", "Compare architectures"),
        Binding("s", "save", "Save model as", show=False),
        Binding("plus", "threshold(0.05)", "Threshold up", show=False),
        Binding("minus", "threshold(-0.05)", "Threshold down", show=False),
        Binding("E", "flag('emit')", "Competition: emit", show=False),
        Binding("A", "flag('absorb')", "Competition: absorb", show=False),
        Binding("h", "flag('show')", "Show/hide prediction", show=False),
        Binding("I", "add_interaction", "Add interaction", show=False),
        Binding("D", "remove_interaction", "Remove interaction", show=False),
        Binding("w", "write_pipeline", "Save pipeline TOML", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.session = self.app.session
        self.stop_training: threading.Event | None = None
        self.losses: list[float] = []

    def compose(self) -> ComposeResult:
        yield NavBar("models")
        with Horizontal():
            with VerticalScroll(id="left"):
                yield Label("Architectures (parameters for 2D)", classes="heading")
                yield DataTable(id="architectures", cursor_type="row")
                yield Label("Train a model (t)", classes="heading")
                for name, label, value in (("feature", "Feature", ""), ("epochs", "Epochs", "10"),
                                           ("box", "Box px", "64"), ("output", "Save to", "")):
                    with Horizontal(classes="row"):
                        yield Label(label)
                        yield Input(value, id=name)
                with Horizontal(classes="buttons"):
                    yield Button("Train", id="train", variant="primary", compact=True)
                    yield Button("Cancel", id="cancel", disabled=True, compact=True)
                    yield Button("Compare…", id="compare", compact=True)
                yield ProgressBar(total=1, id="progress", show_eta=False)
                yield Label("Not training.", id="progress-text")
                yield Sparkline([], id="loss")
            with VerticalScroll(id="right"):
                yield Label("Loaded models", classes="heading")
                yield Label("+/- threshold  E emit  A absorb  h hide", classes="hint")
                yield DataTable(id="models", cursor_type="row")
                with Horizontal(classes="buttons"):
                    yield Button("Load…", id="load", compact=True)
                    yield Button("Save as…", id="save", compact=True)
                yield Label("Interactions (I add, D remove)", classes="heading")
                yield DataTable(id="interactions", cursor_type="row")
                with Horizontal(classes="buttons"):
                    yield Button("Add…", id="add-interaction", compact=True)
                    yield Button("Save pipeline…", id="write-pipeline", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#architectures", DataTable).add_columns("Name", "Dims", "Parameters")
        self.query_one("#models", DataTable).add_columns("Feature", "File", "Thr", "Emit", "Absorb", "Shown")
        self.query_one("#interactions", DataTable).add_columns("Child", "Rule", "Parent", "nm", "Thr")
        self.load_architectures()
        self.session_changed()

    def on_screen_resume(self) -> None:
        self.session_changed()

    def session_changed(self) -> None:
        dataset = self.session.dataset
        feature, output = self.query_one("#feature", Input), self.query_one("#output", Input)
        if dataset and not feature.value and dataset.store.features:
            feature.value = dataset.store.features[0].name
        if dataset and not output.value:
            output.value = str(dataset.path.parent / f"{feature.value or 'model'}.aism")
        self._show_models()

    @work(thread=True, group="architectures")
    def load_architectures(self) -> None:
        rows = services.architectures()
        self.app.call_from_thread(self._show_architectures, rows)

    def _show_architectures(self, rows: list[dict]) -> None:
        table = self.query_one("#architectures", DataTable)
        table.clear()
        for row in rows:
            params = f"{row['params']:,}" if row["params"] is not None else "3D only"
            table.add_row(row["name"], row["dims"], params, key=row["name"])
        names = [r["name"] for r in rows]
        if "unet_lite" in names:
            table.move_cursor(row=names.index("unet_lite"))

    def _show_models(self) -> None:
        table = self.query_one("#models", DataTable)
        row = table.cursor_row
        table.clear()
        for model in self.session.models:
            flags = ["yes" if model.emit else "", "yes" if model.absorb else "", "yes" if model.show else "no"]
            table.add_row(model.feature, model.path.name, f"{model.threshold:.2f}", *flags)
        if self.session.models:
            table.move_cursor(row=min(row, len(self.session.models) - 1))
        rules = self.query_one("#interactions", DataTable)
        rules.clear()
        for rule in self.session.interactions:
            rules.add_row(rule["child"], rule["kind"], rule["parent"], f"{rule['radius_nm']:g}", f"{rule['threshold']:.2f}")

    # ----- training ----------------------------------------------------------------------
    def action_train(self) -> None:
        if self.stop_training is not None:
            self.notify("Training is already running (c cancels it)")
            return
        try:
            feature, output, settings = self._training_request()
        except ValueError as exc:
            self.notify(str(exc), severity="error")
            return
        self.stop_training, self.losses = threading.Event(), []
        self.query_one("#cancel", Button).disabled = False
        self.query_one("#progress", ProgressBar).update(total=settings["epochs"], progress=0)
        self.query_one("#progress-text", Label).update(f"Preparing training data for '{feature}'…")
        self.train(feature, output, settings, self.stop_training)

    def _training_request(self) -> tuple[str, Path, dict]:
        feature = self.query_one("#feature", Input).value.strip()
        output = self.query_one("#output", Input).value.strip()
        if not feature or not output:
            raise ValueError("Give the feature to train and the file to save the model to")
        try:
            epochs, box = int(self.query_one("#epochs", Input).value), int(self.query_one("#box", Input).value)
        except ValueError:
            raise ValueError("Epochs and box size must be whole numbers") from None
        table = self.query_one("#architectures", DataTable)
        architecture = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value) if table.row_count else "unet_lite"
        settings = {"architecture": architecture, "epochs": epochs, "box": box}
        return feature, Path(output).expanduser().with_suffix(".aism"), settings

    @work(thread=True, exclusive=True, group="train")
    def train(self, feature: str, output: Path, settings: dict, stop: threading.Event) -> None:
        from ..app import error_text

        try:
            summary = services.train(self.session, feature, output, settings,
                                     lambda info: self.post_message(TrainingProgress(info=info)), stop.is_set)
            colours = {f.name: f.colour for d in self.session.datasets for f in d.store.features}
            entry = services.load_model(output, colours)
        except Exception as exc:
            self.post_message(TrainingProgress(error=error_text(exc)))
            return
        self.post_message(TrainingProgress(summary=summary, entry=entry))

    def on_training_progress(self, message: TrainingProgress) -> None:
        text = self.query_one("#progress-text", Label)
        if message.info is not None:
            info = message.info
            self.losses.append(info["loss"])
            self.query_one("#progress", ProgressBar).update(total=info["epochs"], progress=info["epoch"])
            self.query_one("#loss", Sparkline).data = list(self.losses)
            text.update(f"Epoch {info['epoch']}/{info['epochs']}  loss {info['loss']:.4f}  "
                        f"best {info['best_loss']:.4f} (epoch {info['best_epoch']})")
            return
        self.stop_training = None
        self.query_one("#cancel", Button).disabled = True
        if message.error:
            text.update("Training failed.")
            self.notify(message.error, title="Training failed", severity="error", timeout=10)
            return
        self.session.add_model(message.entry)
        summary = message.summary
        stopped = " (cancelled; best epoch kept)" if summary.get("interrupted") else ""
        text.update(f"Saved {Path(summary['model']).name}: best loss {summary['best_loss']:.4f} "
                    f"at epoch {summary['best_epoch']}{stopped}")
        self._show_models()

    def action_cancel(self) -> None:
        if self.stop_training is not None:
            self.stop_training.set()
            self.query_one("#progress-text", Label).update("Cancelling after this batch…")

    def action_compare(self) -> None:
        """The comparison view (one per session, so a running comparison survives leaving it)."""
        from .compare import CompareScreen

        if not self.app.is_screen_installed("compare"):
            dataset = self.session.dataset
            outdir = dataset.path.parent / "compare" if dataset else Path.cwd() / "compare"
            self.app.install_screen(CompareScreen(self.query_one("#feature", Input).value.strip(), outdir), "compare")
        self.app.push_screen("compare")

    # ----- loaded models -----------------------------------------------------------------
    def _current_model(self):
        table = self.query_one("#models", DataTable)
        if not self.session.models:
            self.notify("No model loaded (l loads one)")
            return None
        return self.session.models[min(table.cursor_row, len(self.session.models) - 1)]

    def action_load(self) -> None:
        start = self.session.dataset.path.parent if self.session.dataset else Path.cwd()
        self.app.push_screen(FilePickerScreen(start, "Load a model (.aism)"), self._load_picked)

    def _load_picked(self, path: Path | None) -> None:
        if path is not None:
            self.load_model(path)

    def load_model(self, path: Path) -> None:
        self.app.load_model(path, then=self._show_models)

    def action_save(self) -> None:
        model = self._current_model()
        if model is not None:
            self.app.push_screen(PromptScreen("Save the model as (.aism)", str(model.path)),
                                 lambda target: self._save_model(model, target))

    def _save_model(self, model, target: str | None) -> None:
        if target:
            saved = services.save_model_copy(model, Path(target).expanduser())
            self.notify(f"Saved {saved}")

    def action_threshold(self, step: float) -> None:
        model = self._current_model()
        if model is not None:
            model.threshold = round(min(max(model.threshold + step, 0.0), 1.0), 2)
            self._show_models()

    def action_flag(self, name: str) -> None:
        model = self._current_model()
        if model is not None:
            setattr(model, name, not getattr(model, name))
            self._show_models()

    # ----- pipeline ------------------------------------------------------------------------
    def action_add_interaction(self) -> None:
        kinds = ", ".join(services.interaction_kinds()) or "colocalize, avoid"
        self.app.push_screen(PromptScreen(f"Interaction: CHILD RULE PARENT RADIUS_NM [THRESHOLD]  (rules: {kinds})",
                                          placeholder="membrane avoid carbon 10"), self._add_interaction)

    def _add_interaction(self, text: str | None) -> None:
        from ..app import error_text

        if not text:
            return
        try:
            rule = services.parse_interaction(text, {m.feature for m in self.session.models})
        except Exception as exc:
            self.notify(error_text(exc), severity="error")
            return
        self.session.interactions.append(rule)
        self._show_models()

    def action_remove_interaction(self) -> None:
        table = self.query_one("#interactions", DataTable)
        if self.session.interactions:
            del self.session.interactions[min(table.cursor_row, len(self.session.interactions) - 1)]
            self._show_models()

    def action_write_pipeline(self) -> None:
        if not self.session.models:
            self.notify("Load or train models first", severity="warning")
            return
        default = self.session.models[0].path.parent / "pipeline.toml"
        self.app.push_screen(PromptScreen("Save the pipeline as (TOML)", str(default)), self._write_pipeline)

    def _write_pipeline(self, target: str | None) -> None:
        from ..app import error_text

        if target:
            try:
                path = services.save_pipeline(self.session, Path(target).expanduser())
            except Exception as exc:
                self.notify(error_text(exc), title="Pipeline not saved", severity="error")
                return
            self.notify(f"Saved {path}")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {"train": self.action_train, "cancel": self.action_cancel, "load": self.action_load,
                   "compare": self.action_compare,
                   "save": self.action_save, "add-interaction": self.action_add_interaction,
                   "write-pipeline": self.action_write_pipeline}
        actions[event.button.id]()
