"""Batch: segment every open tomogram with every loaded model, then pick, with progress."""
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
    """Posted by the batch worker: a row's new status and the overall progress."""

    def __init__(self, row: int, status: str, done: float, total: int, finished: bool = False):
        super().__init__()
        self.row, self.status, self.done, self.total, self.finished = row, status, done, total, finished


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
            with Horizontal(classes="row"):
                yield Label("Output folder")
                yield Input("", id="outdir")
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
        note = f"{len(self.session.datasets)} tomogram(s) × {len(self.session.models)} model(s)."
        if not services.picking_available():
            note += " Picking is not installed in this ais-fw."
        self.query_one("#note", Label).update(note)
        if self.stop is None:
            self._list_jobs()

    def _jobs(self) -> list[tuple]:
        return [(d, m) for d in self.session.datasets for m in self.session.models if m.show]

    def _list_jobs(self) -> None:
        table = self.query_one("#jobs", DataTable)
        table.clear()
        for dataset, model in self._jobs():
            done = dataset.segmentations.get(model.feature)
            table.add_row(dataset.name, model.path.name, f"done: {done.name}" if done else "waiting")

    def action_run(self, pick: bool) -> None:
        jobs = self._jobs()
        if self.stop is not None or not jobs:
            self.notify("Already running" if self.stop else "Open tomograms and load models first", severity="warning")
            return
        if pick and not services.picking_available():
            self.notify("Picking is not installed in this ais-fw", severity="warning")
            return
        self._list_jobs()
        self.stop = threading.Event()
        self.query_one("#cancel", Button).disabled = False
        self.query_one("#progress", ProgressBar).update(total=len(jobs), progress=0)
        self.run_batch(jobs, Path(self.query_one("#outdir", Input).value).expanduser(), pick, self.stop)

    @work(thread=True, exclusive=True, group="batch")
    def run_batch(self, jobs: list[tuple], outdir: Path, pick: bool, stop: threading.Event) -> None:
        from ..app import error_text

        total = len(jobs)
        for row, (dataset, model) in enumerate(jobs):
            if stop.is_set():
                self.post_message(BatchProgress(row, "cancelled", row, total))
                break
            def progress(done: int, of: int, row: int = row) -> None:
                self.post_message(BatchProgress(row, f"segmenting {done}/{of} slices", row + done / of, total))
            try:
                path = services.segment(dataset, model, outdir, progress)
                status = f"done: {path.name}"
                if pick:
                    status += f", {len(services.pick(dataset, model, outdir))} picks"
            except Exception as exc:
                status = "failed: " + error_text(exc).splitlines()[0]
            self.post_message(BatchProgress(row, status, row + 1, total))
        self.post_message(BatchProgress(-1, "", total, total, finished=True))

    def on_batch_progress(self, message: BatchProgress) -> None:
        table = self.query_one("#jobs", DataTable)
        if 0 <= message.row < table.row_count:
            table.update_cell_at((message.row, 2), message.status)
        self.query_one("#progress", ProgressBar).update(total=message.total, progress=message.done)
        if message.finished:
            self.stop = None
            self.query_one("#cancel", Button).disabled = True
            self.notify("Batch finished")

    def action_cancel(self) -> None:
        if self.stop is not None:
            self.stop.set()
            self.notify("Cancelling after the current tomogram…")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.action_cancel()
        else:
            self.action_run(event.button.id == "pick")
