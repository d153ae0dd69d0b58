"""Pick a file: a directory tree to browse, and a line to type or paste a path."""
from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Input, Label


class FilePickerScreen(ModalScreen[Path | None]):
    """Returns the chosen file (Enter on a file, or a typed path), or None (Escape)."""

    DEFAULT_CSS = """
    FilePickerScreen { align: center middle; }
    FilePickerScreen > Vertical { width: 90%; height: 90%; border: round $accent; background: $surface; }
    FilePickerScreen DirectoryTree { height: 1fr; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, start: Path, title: str) -> None:
        super().__init__()
        self.start, self.title_text = Path(start), title

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"{self.title_text}   [dim]Enter: open   Escape: cancel[/]")
            yield Input(str(self.start) + "/", placeholder="path to a file", id="path")
            yield DirectoryTree(self.start, id="tree")

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        self.dismiss(Path(event.path))

    def on_directory_tree_directory_selected(self, event: DirectoryTree.DirectorySelected) -> None:
        self.query_one("#path", Input).value = str(event.path) + "/"

    def on_input_submitted(self, event: Input.Submitted) -> None:
        path = Path(event.value.strip()).expanduser()
        if path.is_file():
            self.dismiss(path)
        elif path.is_dir():
            self.query_one("#tree", DirectoryTree).path = path
        else:
            self.notify(f"{path}: no such file", severity="error")

    def action_cancel(self) -> None:
        self.dismiss(None)
