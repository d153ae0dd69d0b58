"""``ais-fw tui``: the Textual application. Screens live in ``screens/``, widgets in ``widgets/``.

The app holds the :class:`Session` (open tomograms, models), opens tomograms in workers,
and autosaves annotation stores (atomically) shortly after every edit and every few
seconds, so closing the terminal loses at most the stroke being drawn.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.message import Message

from ..errors import AisError
from .screens.annotate import AnnotateScreen
from .screens.batch import BatchScreen
from .screens.datasets import DatasetsScreen
from .screens.file_picker import FilePickerScreen
from .screens.help import HelpScreen
from .screens.models import ModelsScreen
from .screens.repository import RepositoryScreen
from .session import Session, open_dataset

AUTOSAVE_SECONDS = 3.0


def error_text(exc: BaseException) -> str:
    """One line for a notification: the error and, for our errors, the hint."""
    if isinstance(exc, AisError):
        return f"{exc.message}" + (f"\n{exc.hint}" if exc.hint else "")
    return f"{type(exc).__name__}: {exc}"


class AisApp(App):
    """Annotate, train, segment and pick in the terminal."""

    TITLE = "ais-fw"
    MODES = {"annotate": AnnotateScreen, "datasets": DatasetsScreen, "models": ModelsScreen,
             "batch": BatchScreen, "repository": RepositoryScreen}
    DEFAULT_MODE = "annotate"
    BINDINGS = [
        Binding("1", "switch_mode('annotate')", "Slice"),
        Binding("2", "switch_mode('datasets')", "Tomograms"),
        Binding("3", "switch_mode('models')", "Models"),
        Binding("4", "switch_mode('batch')", "Batch"),
        Binding("5", "switch_mode('repository')", "Repository", show=False),
        Binding("question_mark,f1", "help", "Help"),
        Binding("ctrl+o", "open", "Open tomogram", show=False),
        Binding("ctrl+s", "save", "Save annotations", show=False),
        Binding("ctrl+l", "toggle_light", "Light/dark colours", show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    class DatasetsChanged(Message):
        """A tomogram was opened or selected."""

    def __init__(self, paths: list[Path] | None = None, pixel_size: float | None = None, light: bool = False,
                 graphics: str = "halfblock"):
        super().__init__()
        self.graphics = graphics  # 'halfblock', 'kitty' or 'sixel' (see graphics.choose)
        self.session = Session()
        self.paths, self.pixel_size = [Path(p) for p in paths or []], pixel_size
        self.theme = "textual-light" if light else "textual-dark"

    def on_mount(self) -> None:
        for path in self.paths:
            self.open_tomogram(path)
        self.set_interval(AUTOSAVE_SECONDS, self.autosave)

    @work(thread=True, group="open")
    def open_tomogram(self, path: Path, pixel_size: float | None = None) -> None:
        try:
            dataset = open_dataset(path, pixel_size or self.pixel_size)
        except Exception as exc:
            self.call_from_thread(self.notify, error_text(exc), title=f"Cannot open {Path(path).name}",
                                  severity="error", timeout=10)
            return
        self.call_from_thread(self._opened, dataset)

    def _opened(self, dataset) -> None:
        self.session.add(dataset)
        self.datasets_changed()

    @work(thread=True, group="load-model")
    def load_model(self, path: Path, then: Callable[[], None] | None = None) -> None:
        """Load a model package in the background, add it to the session, then call ``then``."""
        from . import services

        colours = {f.name: f.colour for d in self.session.datasets for f in d.store.features}
        try:
            entry = services.load_model(path, colours)
        except Exception as exc:
            self.call_from_thread(self.notify, error_text(exc), title="Cannot load model", severity="error")
            return
        self.call_from_thread(self._model_loaded, entry, then)

    def _model_loaded(self, entry, then: Callable[[], None] | None) -> None:
        self.session.add_model(entry)
        self.notify(f"Loaded {entry.path.name} ({entry.feature})")
        if then is not None:
            then()

    def datasets_changed(self) -> None:
        """Tell the visible screen (others refresh when shown again)."""
        handler = getattr(self.screen, "session_changed", None)
        if handler is not None:
            handler()

    def autosave(self) -> None:
        if any(d.store.dirty for d in self.session.datasets) and not self.session.save_lock.locked():
            self._save_worker()

    @work(thread=True, group="autosave")
    def _save_worker(self) -> None:
        try:
            self.session.save_all()
        except Exception as exc:
            self.call_from_thread(self.notify, error_text(exc), title="Autosave failed", severity="error")

    def action_save(self) -> None:
        saved = self.session.save_all()
        self.notify(f"Saved {len(saved)} annotation file(s)" if saved else "Annotations are saved")

    def action_open(self) -> None:
        start = self.session.dataset.path.parent if self.session.dataset else Path.cwd()
        self.push_screen(FilePickerScreen(start, "Open a tomogram (.mrc, .rec, .tif)"), self._picked)

    def _picked(self, path: Path | None) -> None:
        if path is not None:
            self.open_tomogram(path)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_light(self) -> None:
        self.theme = "textual-dark" if self.theme == "textual-light" else "textual-light"

    async def action_quit(self) -> None:
        self.session.save_all()
        self.exit()


def run(paths: list[Path], pixel_size: float | None = None, light: bool = False, graphics: str = "auto") -> None:
    """Run the terminal UI on the given tomograms (blocks until the user quits); ``graphics``:
    auto, kitty, sixel or halfblock (auto asks the terminal, before Textual starts)."""
    from .graphics import choose

    AisApp(paths, pixel_size, light, choose(graphics)).run()
