"""The top line: the screens (click or press their number), the current one highlighted."""
from __future__ import annotations

from textual.widgets import Static

SCREENS = (("annotate", "1 Slice"), ("datasets", "2 Tomograms"), ("models", "3 Models"),
           ("batch", "4 Batch"), ("repository", "5 Repository"))


class NavBar(Static):
    DEFAULT_CSS = "NavBar { height: 1; background: $boost; color: $text-muted; }"

    def __init__(self, mode: str, **kwargs) -> None:
        super().__init__(self.markup_for(mode), **kwargs)

    @staticmethod
    def markup_for(mode: str) -> str:
        parts = []
        for name, label in SCREENS:
            text = f" {label} "
            if name == mode:
                parts.append(f"[reverse bold]{text}[/]")
            else:
                parts.append(f"[@click=app.switch_mode('{name}')]{text}[/]")
        return "".join(parts) + "[@click=app.help] ? Help [/]"
