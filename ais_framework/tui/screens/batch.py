"""Batch: segment every open tomogram with the shown models (their competition flags and
interactions applied), then pick, with progress; all through the library API, in a worker."""
from __future__ import annotations

import threading
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, ProgressBar

from .. import services
from ..widgets.nav_bar import NavBar


class BatchProgress(Message):
    """Posted by the batch worker: some rows' new status and the overall progress."""

    def __init__(self, rows: range, status: str, done: float, total: int, finished: bool = False):
        super().__init__()
        self.rows, self.status, self.done, self.total, self.finished = rows, status, done, total, finished


class BatchScreen(Screen):
    DEFAULT_CSS = """
    BatchScreen Vertical { padding: 0 1; }
    BatchScreen .row { height: 1; }
    BatchScreen .row Label { width: 14; }
    BatchScreen .row Input { width: 1fr; height: 1; border: none; padding: 0; }
    BatchScreen Horizontal.buttons { height: 1; margin: 1 0; }
    BatchScreen Button { margin-right: 1; }
    BatchScreen DataTable { height: 1fr; }
    """
    BINDINGS = [
        Binding("s", "run(False)", "Segment all"),
        Binding("p", "run(True)", "Segment and pick"),
        Binding("c", "cancel", "Cancel"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.session = self.app.session
        self.stop: threading.Event | None = None

    def compose(self) -> ComposeResult:
        yield NavBar("batch")
        with Vertical():
            for label, name, value in (("Output folder", "outdir", ""), ("Device", "device", "auto"),
                                       ("Picker", "picker", "blob")):
                with Horizontal(classes="row"):
                    yield Label(label)
                    yield Input(value, id=name)
            with Horizontal(classes="buttons"):
                yield Button("Segment all (s)", id="segment", variant="primary", compact=True)
                yield Button("Segment and pick (p)", id="pick", disabled=not services.picking_available(), compact=True)
                yield Button("Cancel (c)", id="cancel", disabled=True, compact=True)
            yield ProgressBar(total=1, id="progress", show_eta=False)
            yield DataTable(id="jobs", cursor_type="row")
            yield Label("", id="note")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#jobs", DataTable).add_columns("Tomogram", "Model", "Status")
        self.session_changed()

    def on_screen_resume(self) -> None:
        self.session_changed()

    def session_changed(self) -> None:
        outdir, dataset = self.query_one("#outdir", Input), self.session.dataset
        if dataset and not outdir.value:
            outdir.value = str(dataset.path.parent / "segmented")
        self.query_one("#note", Label).update(self._note())
        if self.stop is None:
            self._list_jobs()

    def _note(self) -> str:
        models = self._models()
        note = f"{len(self.session.datasets)} tomogram(s) × {len(models)} model(s)."
        features = {m.feature for m in models}
        rules = [r for r in self.session.interactions if {r["child"], r["parent"]} <= features]
        if any(m.emit or m.absorb for m in models):
            note += " Competition (emit/absorb) applied."
        if rules:
            note += f" {len(rules)} interaction(s) applied."
        if not services.picking_available():
            note += " Picking is not installed in this ais-fw."
        return note

    def _models(self) -> list:
        return [m for m in self.session.models if m.show]

    def _list_jobs(self) -> None:
        table = self.query_one("#jobs", DataTable)
        table.clear()
        for dataset in self.session.datasets:
            for model in self._models():
                done = dataset.segmentations.get(model.feature)
                table.add_row(dataset.name, model.path.name, f"done: {done.name}" if done else "waiting")

    def action_run(self, pick: bool) -> None:
        models, datasets = self._models(), list(self.session.datasets)
        if self.stop is not None or not models or not datasets:
            self.notify("Already running" if self.stop else "Open tomograms and load models first", severity="warning")
            return
        if pick and not services.picking_available():
            self.notify("Picking is not installed in this ais-fw", severity="warning")
            return
        self._list_jobs()
        self.stop = threading.Event()
        self.query_one("#cancel", Button).disabled = False
        self.query_one("#progress", ProgressBar).update(total=len(datasets), progress=0)
        settings = {"outdir": Path(self.query_one("#outdir", Input).value).expanduser(),
                    "device": self.query_one("#device", Input).value.strip() or "auto",
                    "picker": (self.query_one("#picker", Input).value.strip() or "blob") if pick else None,
                    "interactions": [dict(rule) for rule in self.session.interactions]}
        self.run_batch(datasets, models, settings, self.stop)

    @work(thread=True, exclusive=True, group="batch")
    def run_batch(self, datasets: list, models: list, settings: dict, stop: threading.Event) -> None:
        total, count = len(datasets), len(models)
        for index, dataset in enumerate(datasets):
            rows = range(index * count, (index + 1) * count)
            if stop.is_set():
                self.post_message(BatchProgress(rows, "cancelled", index, total))
                continue
            for row, status in zip(rows, self._segment_and_pick(dataset, models, settings, stop, index, total)):
                self.post_message(BatchProgress(range(row, row + 1), status, index + 1, total))
        self.post_message(BatchProgress(range(0), "", total, total, finished=True))

    def _segment_and_pick(self, dataset, models: list, settings: dict, stop: threading.Event,
                          index: int, total: int) -> list[str]:
        """Runs in the worker: one status per model (segmentation file, picks, or what failed)."""
        rows = range(index * len(models), (index + 1) * len(models))

        def progress(fraction: float) -> None:
            self.post_message(BatchProgress(rows, f"segmenting {fraction:.0%}", index + fraction, total))

        try:
            result = services.segment(dataset, models, settings["interactions"], settings["outdir"],
                                      settings["device"], progress, stop.is_set)
        except services.Cancelled:
            return ["cancelled"] * len(models)
        except Exception as exc:
            return ["failed: " + _first_line(exc)] * len(models)
        return [self._picked(dataset, model, result, settings) for model in models]

    @staticmethod
    def _picked(dataset, model, result: dict, settings: dict) -> str:
        status = f"done: {result['outputs'][model.feature].name}" + (" (existed)" if result["skipped"] else "")
        if settings["picker"] is None:
            return status
        try:
            return status + f", {len(services.pick(dataset, model, settings['outdir'], settings['picker']))} picks"
        except Exception as exc:
            return status + ", picking failed: " + _first_line(exc)

    def on_batch_progress(self, message: BatchProgress) -> None:
        table = self.query_one("#jobs", DataTable)
        for row in message.rows:
            if row < table.row_count:
                table.update_cell_at((row, 2), message.status)
        self.query_one("#progress", ProgressBar).update(total=message.total, progress=message.done)
        if message.finished:
            self.stop = None
            self.query_one("#cancel", Button).disabled = True
            self.notify("Batch finished")

    def action_cancel(self) -> None:
        if self.stop is not None:
            self.stop.set()
            self.notify("Cancelling: the tomogram being segmented is left unwritten…")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.action_cancel()
        else:
            self.action_run(event.button.id == "pick")


def _first_line(exc: Exception) -> str:
    from ..app import error_text

    return error_text(exc).splitlines()[0]
