"""Search the configured model repository and install models into the local cache."""
from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Label

from .. import services
from ..widgets.nav_bar import NavBar

COLUMNS = ("name", "version", "feature", "pixel_size_A", "architecture", "author", "downloads")


class RepositoryScreen(Screen):
    DEFAULT_CSS = """
    RepositoryScreen Vertical { padding: 0 1; }
    RepositoryScreen Input { height: 3; }
    RepositoryScreen DataTable { height: 1fr; }
    RepositoryScreen #note { color: $text-muted; }
    """
    BINDINGS = [
        Binding("slash", "focus_search", "Search"),
        Binding("i", "install", "Install and load"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.client = services.repository_client()
        self.results: list[dict] = []

    def compose(self) -> ComposeResult:
        yield NavBar("repository")
        with Vertical():
            if self.client is None:
                yield Label("The model repository client is not installed in this ais-fw, so there is nothing "
                            "to search here. Models can still be loaded from files on the Models screen (3).",
                            id="note")
            else:
                yield Input(placeholder="search text, e.g. membrane or ribosome  (Enter searches)", id="query")
                yield DataTable(id="results", cursor_type="row")
                yield Label("Enter searches; i installs the highlighted model and loads it.", id="note")
        yield Footer()

    def on_mount(self) -> None:
        if self.client is not None:
            self.query_one("#results", DataTable).add_columns(*COLUMNS)

    def action_focus_search(self) -> None:
        if self.client is not None:
            self.query_one("#query", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.search(event.value.strip())

    @work(thread=True, exclusive=True, group="repository")
    def search(self, text: str) -> None:
        from ..app import error_text

        try:
            results = [dict(r) if not isinstance(r, dict) else r for r in services.search_repository(text)]
        except Exception as exc:
            self.app.call_from_thread(self.notify, error_text(exc), title="Search failed", severity="error")
            return
        self.app.call_from_thread(self._show, results)

    def _show(self, results: list[dict]) -> None:
        self.results = results
        table = self.query_one("#results", DataTable)
        table.clear()
        for result in results:
            table.add_row(*(str(result.get(c, "")) for c in COLUMNS))
        self.query_one("#note", Label).update(f"{len(results)} model(s) found. i installs the highlighted one.")

    def action_install(self) -> None:
        if self.client is None or not self.results:
            return
        row = self.query_one("#results", DataTable).cursor_row
        self.install(str(self.results[row].get("name")))

    @work(thread=True, group="repository-install")
    def install(self, name: str) -> None:
        from ..app import error_text

        try:
            path = services.install_from_repository(name)
            colours = {f.name: f.colour for d in self.app.session.datasets for f in d.store.features}
            entry = services.load_model(path, colours)
        except Exception as exc:
            self.app.call_from_thread(self.notify, error_text(exc), title="Install failed", severity="error")
            return
        self.app.call_from_thread(self._installed, entry)

    def _installed(self, entry) -> None:
        self.app.session.add_model(entry)
        self.notify(f"Installed and loaded {entry.path.name}")
