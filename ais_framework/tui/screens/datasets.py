"""The open tomograms: shape, pixel size, annotations; open more, switch, set a pixel size."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Label

from ..widgets.nav_bar import NavBar
from .prompt import PromptScreen


class DatasetsScreen(Screen):
    """A table of the open tomograms; Enter shows the highlighted one on the slice screen."""

    DEFAULT_CSS = """
    DatasetsScreen DataTable { height: 1fr; }
    DatasetsScreen #buttons { height: 1; margin-top: 1; }
    DatasetsScreen Button { margin-right: 1; }
    DatasetsScreen #hint { color: $text-muted; padding: 0 1; }
    """
    BINDINGS = [
        Binding("enter", "show", "Show on slice screen"),
        Binding("o", "app.open", "Open tomogram"),
        Binding("s", "pixel_size", "Set pixel size"),
    ]

    def compose(self) -> ComposeResult:
        yield NavBar("datasets")
        with Vertical():
            yield DataTable(id="table", cursor_type="row", zebra_stripes=True)
            yield Label("Annotations autosave to NAME.annotations.zip beside each tomogram.", id="hint")
            with Horizontal(id="buttons"):
                yield Button("Open… (o)", id="open", compact=True)
                yield Button("Show (Enter)", id="show", variant="primary", compact=True)
                yield Button("Pixel size… (s)", id="pixel", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#table", DataTable)
        table.add_columns("#", "Tomogram", "X×Y×Z px", "Pixel Å", "Features", "Annotated slices", "Folder")
        self.session_changed()

    def on_screen_resume(self) -> None:
        self.session_changed()

    def session_changed(self) -> None:
        session, table = self.app.session, self.query_one("#table", DataTable)
        table.clear()
        for i, dataset in enumerate(session.datasets):
            z, y, x = dataset.shape
            features = dataset.store.features
            slices = sum(len(dataset.store.annotated_slices(f.name)) for f in features)
            pixel = f"{dataset.volume.pixel_size:g}" if dataset.volume.pixel_size else "unknown"
            table.add_row(str(i + 1), dataset.name, f"{x}×{y}×{z}", pixel, str(len(features)), str(slices),
                          str(dataset.path.parent))
        if session.datasets:
            table.move_cursor(row=session.current)

    def _selected(self) -> int | None:
        table = self.query_one("#table", DataTable)
        return table.cursor_row if self.app.session.datasets else None

    def action_show(self) -> None:
        index = self._selected()
        if index is not None:
            self.app.session.select(index)
            self.app.switch_mode("annotate")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_show()

    def action_pixel_size(self) -> None:
        index = self._selected()
        if index is None:
            return
        dataset = self.app.session.datasets[index]
        self.app.push_screen(PromptScreen(f"Pixel size of {dataset.name} in Å", str(dataset.volume.pixel_size or "")),
                             lambda value: self._set_pixel_size(dataset, value))

    def _set_pixel_size(self, dataset, value: str | None) -> None:
        if not value:
            return
        try:
            dataset.set_pixel_size(float(value))
        except (ValueError, Exception) as exc:
            self.notify(f"Not a pixel size: {value!r} ({exc})", severity="error")
            return
        self.session_changed()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {"open": self.app.action_open, "show": self.action_show, "pixel": self.action_pixel_size}
        actions[event.button.id]()
