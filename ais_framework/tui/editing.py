"""Brush, eraser and boxes on an annotation store, with undo (no UI here).

A stroke paints discs into a working copy of one slice's mask; ending the stroke stores
the mask (the slice becomes annotated: unpainted pixels are background). Each finished
stroke, box change or cleared slice is one undo step.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..annotations import AnnotationStore

LABELS = {"brush": 1, "ignore": 2, "eraser": 0}
UNDO_LIMIT = 100


@dataclass
class _Step:
    feature: str
    z: int
    mask: np.ndarray | None = None  # the slice before the change (None: not annotated)
    touched_mask: bool = False
    box: tuple[int, int, int] | None = None
    box_added: bool = False


class Annotator:
    """Edits one store; ``working`` is the mask being painted (shown live by the slice view)."""

    def __init__(self, store: AnnotationStore):
        self.store = store
        self.working: tuple[str, int, np.ndarray] | None = None
        self._before: np.ndarray | None = None
        self._undo: list[_Step] = []

    def mask(self, feature: str, z: int) -> np.ndarray | None:
        """The mask to show for (feature, z): the one being painted, else the stored one."""
        if self.working is not None and self.working[:2] == (feature, z):
            return self.working[2]
        return self.store.get_slice(feature, z)

    def begin(self, feature: str, z: int) -> None:
        self._before = self.store.get_slice(feature, z)
        start = self._before if self._before is not None else np.zeros(self.store.shape[1:], np.uint8)
        self.working = (feature, z, start.copy())

    def paint(self, y: float, x: float, radius: float, tool: str) -> None:
        """Paint a disc of ``radius`` px at (y, x) with the tool's label into the working mask."""
        if self.working is None:
            return
        mask = self.working[2]
        r = max(float(radius), 0.5)
        y0, y1 = max(int(np.floor(y - r)), 0), min(int(np.ceil(y + r)) + 1, mask.shape[0])
        x0, x1 = max(int(np.floor(x - r)), 0), min(int(np.ceil(x + r)) + 1, mask.shape[1])
        if y0 >= y1 or x0 >= x1:
            return
        yy, xx = np.ogrid[y0:y1, x0:x1]
        disc = (yy - y) ** 2 + (xx - x) ** 2 <= r * r
        mask[y0:y1, x0:x1][disc] = LABELS[tool]

    def end(self) -> bool:
        """Store the working mask; returns whether anything changed."""
        if self.working is None:
            return False
        feature, z, mask = self.working
        self.working = None
        if self._before is not None and np.array_equal(self._before, mask):
            return False
        if self._before is None and not mask.any():
            return False  # an eraser stroke on an unannotated slice changes nothing
        self._push(_Step(feature, z, self._before, touched_mask=True))
        self.store.set_slice(feature, z, mask)
        return True

    def clear_slice(self, feature: str, z: int) -> bool:
        before = self.store.get_slice(feature, z)
        if before is None:
            return False
        self._push(_Step(feature, z, before, touched_mask=True))
        self.store.clear_slice(feature, z)
        return True

    def add_box(self, feature: str, z: int, y: float, x: float) -> None:
        box = (int(z), int(round(y)), int(round(x)))
        if box not in self.store.boxes(feature):
            self.store.add_box(feature, *box)
            self._push(_Step(feature, box[0], box=box, box_added=True))

    def remove_box(self, feature: str, z: int, y: float, x: float, radius: float) -> bool:
        removed = self.store.remove_box(feature, z, y, x, radius)
        if removed is not None:
            self._push(_Step(feature, int(z), box=removed, box_added=False))
        return removed is not None

    def _push(self, step: _Step) -> None:
        self._undo = (self._undo + [step])[-UNDO_LIMIT:]

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    def undo(self) -> _Step | None:
        """Revert the last step; returns it (its feature and slice say what to redraw)."""
        if not self._undo:
            return None
        step = self._undo.pop()
        names = {f.name for f in self.store.features}
        if step.feature not in names:
            return step  # the feature was removed since
        if step.touched_mask:
            if step.mask is None:
                self.store.clear_slice(step.feature, step.z)
            else:
                self.store.set_slice(step.feature, step.z, step.mask)
        elif step.box_added:
            self.store.remove_box(step.feature, step.box[0], step.box[1], step.box[2], 0.5)
        else:
            self.store.add_box(step.feature, *step.box)
        return step
