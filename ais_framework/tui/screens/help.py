"""Every key binding of every screen, read from the screens themselves, plus the mouse."""
from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.keys import format_key
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

MOUSE = [
    ("left drag", "paint with the current tool (brush, ignore brush, eraser)"),
    ("right drag", "erase (with the box tool: remove the nearest box)"),
    ("left click, box tool", "place a training box (the feature's box size)"),
    ("wheel", "next / previous slice"),
    ("ctrl or shift + wheel", "zoom around the mouse"),
    ("middle drag, ctrl + drag", "pan"),
]


def key_text(binding: Binding) -> str:
    return " / ".join(format_key(key) for key in binding.key.split(","))


def bindings_table(title: str, bindings: list) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", show_header=False,
                  box=None, padding=(0, 1))
    table.add_column("Key", style="bold", min_width=14, no_wrap=True)
    table.add_column("Action")
    for binding in bindings:
        if isinstance(binding, Binding):
            table.add_row(key_text(binding), binding.description)
        else:
            table.add_row(*binding)
    return table


def help_sections() -> list[tuple[str, list]]:
    """(title, bindings) per screen, from the classes' BINDINGS."""
    from ..app import AisApp
    from .annotate import AnnotateScreen
    from .batch import BatchScreen
    from .compare import CompareScreen
    from .datasets import DatasetsScreen
    from .models import ModelsScreen
    from .repository import RepositoryScreen

    everywhere = AisApp.BINDINGS + Screen.BINDINGS + [("ctrl+p", "command palette (themes, keys, quit)")]
    return [("Everywhere", everywhere), ("Slice screen (1)", AnnotateScreen.BINDINGS),
            ("Slice screen: mouse", MOUSE), ("Tomograms (2)", DatasetsScreen.BINDINGS),
            ("Models (3)", ModelsScreen.BINDINGS), ("Compare (C on models)", CompareScreen.BINDINGS),
            ("Batch (4)", BatchScreen.BINDINGS),
            ("Repository (5)", RepositoryScreen.BINDINGS)]


class HelpScreen(ModalScreen):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90%; max-width: 100; height: 90%; border: round $accent;
                                  background: $surface; padding: 0 1; }
    """
    BINDINGS = [Binding("escape,q,question_mark,f1", "close", "Close help")]

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("[b]ais-fw terminal UI[/b]: Escape closes this help; arrow keys / wheel scroll it.\n")
            for title, bindings in help_sections():
                yield Static(bindings_table(title, bindings))
                yield Static("")

    def action_close(self) -> None:
        self.dismiss()
