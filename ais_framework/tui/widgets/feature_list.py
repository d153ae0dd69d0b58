"""The features of the current tomogram: colour swatch, name, annotated slices and boxes."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ..session import Dataset


class FeatureList(OptionList):
    """Highlighting a feature selects it for the brush and the boxes."""

    DEFAULT_CSS = "FeatureList { height: auto; max-height: 12; border: none; padding: 0; }"

    def show(self, dataset: Dataset | None, selected: str | None) -> None:
        self.clear_options()
        if dataset is None:
            return
        names = []
        for feature in dataset.store.features:
            slices = len(dataset.store.annotated_slices(feature.name))
            boxes = len(dataset.store.boxes(feature.name))
            line = Text.assemble(("██ ", feature.colour), feature.name, (f" · {slices} sl, {boxes} box", "dim"))
            self.add_option(Option(line, id=feature.name))
            names.append(feature.name)
        if selected in names:
            self.highlighted = names.index(selected)

    @property
    def selected_name(self) -> str | None:
        if self.highlighted is None or self.option_count == 0:
            return None
        return self.get_option_at_index(self.highlighted).id
