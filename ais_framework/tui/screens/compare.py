"""Compare architectures (opened from the Models screen with ``C``): tick networks, train them all
on the same annotations in a background worker, watch the table fill row by row, and load the
models that did best. Everything goes through :func:`ais_framework.api.compare`, which also
writes ``compare.json``, ``compare.csv`` and every ``{architecture}.aism`` to the output folder."""
from __future__ import annotations

import math
import threading
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, SelectionList

from .. import services

COLUMNS = (("Architecture", "architecture"), ("Status", "status"), ("Parameters", "parameters"),
           ("Train s", "train_seconds"), ("ms/slice", "seconds_per_slice"), ("Loss", "train_loss"),
           ("Dice", "dice"), ("Precision", "precision"), ("Recall", "recall"))


def cell_text(key: str, value) -> str:
    """How one report value reads in the table (blank when not measured)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if key == "parameters":
        return f"{value:,}"
    if key == "train_seconds":
        return f"{value:.1f}"
    if key == "seconds_per_slice":
        return f"{1000 * value:.0f}"
    if key in ("train_loss", "dice", "precision", "recall"):
        return f"{value:.3f}"
    return str(value)


class CompareProgress(Message):
    """Posted by the comparison worker: a progress event, a finished row, or the end."""

    def __init__(self, event: dict | None = None, row: dict | None = None, report: dict | None = None,
                 error: str = "") -> None:
        super().__init__()
        self.event, self.row, self.report, self.error = event, row, report, error


class CompareScreen(Screen):
    """Left: the architectures to compare and the settings. Right: the live table."""

    DEFAULT_CSS = """
    CompareScreen #settings { width: 40; padding: 0 1; }
    CompareScreen #results-pane { width: 1fr; padding: 0 1; }
    CompareScreen .heading { text-style: bold; color: $accent; }
    CompareScreen SelectionList { height: 1fr; min-height: 4; }
    CompareScreen .row { height: 1; }
    CompareScreen .row Label { width: 11; }
    CompareScreen .row Input { width: 1fr; height: 1; border: none; padding: 0; }
    CompareScreen Horizontal.buttons { height: 1; }
    CompareScreen Button { margin-right: 1; }
    CompareScreen #results { height: 1fr; }
    CompareScreen #compare-text, CompareScreen .hint { color: $text-muted; }
    """
    BINDINGS = [
        Binding("r", "run", "Run comparison"),
        Binding("c", "cancel", "Cancel"),
        Binding("l", "load", "Load model of row"),
        Binding("escape", "close", "Back to models"),
    ]

    def __init__(self, feature: str = "", outdir: Path | None = None) -> None:
        super().__init__()
        self.session = self.app.session
        self.feature, self.outdir = feature, outdir
        self.stop: threading.Event | None = None
        self.rows: dict[str, dict] = {}

    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="settings"):
                yield Label("Architectures to compare (space ticks)", classes="heading")
                choices = [(f"{a['name']}  {a['params']:,}", a["name"], a["name"] in services.CHEAP_ARCHITECTURES)
                           for a in services.architectures() if a["params"] is not None]
                yield SelectionList(*choices, id="choices")
                for name, label, value in (("feature", "Feature", self.feature), ("epochs", "Epochs", "3"),
                                           ("box", "Box px", "64"), ("outdir", "Output", str(self.outdir or "")),
                                           ("validate", "Validate", "")):
                    with Horizontal(classes="row"):
                        yield Label(label)
                        yield Input(value, id=name)
                yield Label("Validate: a 0/1/2 label volume of this tomogram (optional)", classes="hint")
                with Horizontal(classes="buttons"):
                    yield Button("Run", id="run", variant="primary", compact=True)
                    yield Button("Cancel", id="cancel", disabled=True, compact=True)
                    yield Button("Load", id="load", compact=True)
            with Vertical(id="results-pane"):
                yield Label("Comparison (same training set and seed for every network)", classes="heading")
                yield DataTable(id="results", cursor_type="row")
                yield Label("Tick networks and press r.", id="compare-text")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#results", DataTable).add_columns(*(title for title, _ in COLUMNS))

    def _request(self) -> tuple[str, list[str], Path, dict, Path | None]:
        value = {name: self.query_one(f"#{name}", Input).value.strip()
                 for name in ("feature", "epochs", "box", "outdir", "validate")}
        names = list(self.query_one("#choices", SelectionList).selected)
        if len(names) < 1 or not value["feature"] or not value["outdir"]:
            raise ValueError("Tick at least one architecture and give the feature and the output folder")
        try:
            settings = {"epochs": int(value["epochs"]), "box": int(value["box"])}
        except ValueError:
            raise ValueError("Epochs and box size must be whole numbers") from None
        validate = Path(value["validate"]).expanduser() if value["validate"] else None
        return value["feature"], names, Path(value["outdir"]).expanduser(), settings, validate

    def action_run(self) -> None:
        if self.stop is not None:
            self.notify("A comparison is already running (c cancels it)")
            return
        try:
            feature, names, outdir, settings, validate = self._request()
        except ValueError as exc:
            self.notify(str(exc), severity="error")
            return
        table = self.query_one("#results", DataTable)
        table.clear()
        self.rows = {}
        for name in names:
            table.add_row(name, "waiting", *[""] * (len(COLUMNS) - 2), key=name)
        self.stop = threading.Event()
        self.query_one("#cancel", Button).disabled = False
        self.query_one("#compare-text", Label).update(f"Preparing the training set for '{feature}'…")
        self.compare(feature, names, outdir, settings, validate, self.stop)

    @work(thread=True, exclusive=True, group="compare")
    def compare(self, feature: str, names: list[str], outdir: Path, settings: dict, validate: Path | None,
                stop: threading.Event) -> None:
        from ..app import error_text

        try:
            report = services.compare(self.session, feature, names, outdir, settings, validate,
                                      on_progress=lambda event: self.post_message(CompareProgress(event=event)),
                                      on_row=lambda row: self.post_message(CompareProgress(row=row)),
                                      should_stop=stop.is_set)
        except Exception as exc:
            self.post_message(CompareProgress(error=error_text(exc)))
            return
        self.post_message(CompareProgress(report=report))

    def on_compare_progress(self, message: CompareProgress) -> None:
        if message.event is not None:
            self._progress(message.event)
        elif message.row is not None:
            self._show_row(message.row)
        else:
            self._finished(message.report, message.error)

    def _progress(self, event: dict) -> None:
        name, stage = event.get("architecture"), event["stage"]
        text = f"{name} ({event['index']}/{event['total']}): "
        if stage == "epoch":
            text += f"epoch {event['epoch']}/{event['epochs']}  loss {event['loss']:.4f}"
        else:
            text = {"train": text + "training…", "evaluate": text + "measuring…",
                    "picture": "Drawing compare.png…"}.get(stage, text + stage)
        self.query_one("#compare-text", Label).update(text)
        if name in self.rows or name is None:
            return
        table = self.query_one("#results", DataTable)
        table.update_cell(name, table.ordered_columns[1].key, "training" if stage in ("train", "epoch") else stage)

    def _show_row(self, row: dict) -> None:
        table = self.query_one("#results", DataTable)
        name = row["architecture"]
        self.rows[name] = row
        if name not in table.rows:
            table.add_row(*[""] * len(COLUMNS), key=name)
        for column, (_, key) in zip(table.ordered_columns, COLUMNS):
            table.update_cell(name, column.key, cell_text(key, row.get(key)))

    def _finished(self, report: dict | None, error: str) -> None:
        self.stop = None
        self.query_one("#cancel", Button).disabled = True
        text = self.query_one("#compare-text", Label)
        if error:
            text.update("Comparison failed.")
            self.notify(error, title="Comparison failed", severity="error", timeout=10)
            return
        for row in report["rows"]:
            if row["architecture"] not in self.rows:
                self._show_row(row)
        trained = [r for r in report["rows"] if r.get("model") and r["status"] == "trained"]
        best = min(trained, key=lambda r: r["train_loss"], default=None) if trained else None
        lowest = f"; lowest loss: {best['architecture']}" if best else ""
        text.update(f"Done: {len(trained)} trained{lowest}. Report: {Path(report['outdir']) / 'compare.json'} "
                    "(l loads the model of the row)")

    def action_cancel(self) -> None:
        if self.stop is not None:
            self.stop.set()
            self.query_one("#compare-text", Label).update("Cancelling: the network being trained keeps its best epoch…")

    def action_load(self) -> None:
        table = self.query_one("#results", DataTable)
        if not table.row_count:
            self.notify("Run a comparison first (r)")
            return
        name = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        model = (self.rows.get(name) or {}).get("model")
        if not model or not Path(model).is_file():
            self.notify(f"{name} has no trained model yet", severity="warning")
            return
        self.load_model(Path(model))

    def load_model(self, path: Path) -> None:
        self.app.load_model(path)

    def action_close(self) -> None:
        self.app.pop_screen()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        {"run": self.action_run, "cancel": self.action_cancel, "load": self.action_load}[event.button.id]()
